// The event streams: order of a magnet download's events, identity of
// `torrent`, typed fields, several consumers at once, unsubscribing by
// leaving a for-await, untyped alerts, and the end of streams at close.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ALERT_TYPES, type Session, type Torrent, type TorrentEvent } from "../mod.ts";
import {
  type Fixture,
  makeFixture,
  MULTI_FILE_TREE,
  openIsolated,
  openSeeder,
  TempDir,
  throwsCode,
  TIMEOUT,
  waitForType,
} from "./_helpers.ts";

const STATES = new Set([
  "checking_files",
  "downloading_metadata",
  "downloading",
  "finished",
  "seeding",
  "checking_resume_data",
]);

/** Event types with typed fields in src/events.ts (EventFields); the rest are "untyped". */
const TYPED = new Set([
  "state_changed",
  "piece_finished",
  "hash_failed",
  "file_completed",
  "torrent_finished",
  "torrent_paused",
  "torrent_resumed",
  "torrent_checked",
  "torrent_added",
  "add_torrent",
  "metadata_received",
  "metadata_failed",
  "torrent_removed",
  "torrent_deleted",
  "torrent_delete_failed",
  "torrent_error",
  "file_error",
  "tracker_announce",
  "tracker_reply",
  "tracker_error",
  "tracker_warning",
  "scrape_reply",
  "scrape_failed",
  "save_resume_data",
  "save_resume_data_failed",
  "storage_moved",
  "storage_moved_failed",
  "file_renamed",
  "performance",
  "peer_connect",
  "peer_disconnected",
  "listen_succeeded",
  "listen_failed",
  "alerts_dropped",
  "events_dropped",
]);

/** Collects a stream's events until `stop` holds for one (included). */
async function collect(
  stream: AsyncIterable<TorrentEvent>,
  stop: (ev: TorrentEvent) => boolean,
): Promise<TorrentEvent[]> {
  const out: TorrentEvent[] = [];
  for await (const ev of stream) {
    out.push(ev);
    if (stop(ev)) break;
  }
  return out;
}

/** Asserts that two event lists hold the very same objects in the same order. */
function assertSameEvents(actual: TorrentEvent[], expected: TorrentEvent[], what: string): void {
  const show = (l: TorrentEvent[]) => l.map((ev) => ev.type).join(" ");
  assert.equal(actual.length, expected.length, `${what}: ${show(actual)} vs ${show(expected)}`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(actual[i] === expected[i], `${what}: event ${i} differs (${actual[i].type} vs ${expected[i].type})`);
  }
}

/** Adds the fixture by magnet to `leecher`; nothing moves until connect(). */
async function addMagnet(leecher: Session, fx: Fixture, dir: TempDir): Promise<Torrent> {
  return await leecher.add({ magnet: fx.made.magnet, savePath: dir.join("download") });
}

function connect(t: Torrent, seeder: Session): void {
  t.connectPeer("127.0.0.1", seeder.listenPort);
}

describe("events", () => {
  test(
    "a magnet download's events arrive in order: added, metadata, pieces, finished",
    { timeout: TIMEOUT.transfer },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, MULTI_FILE_TREE, { version: "hybrid", pieceSize: 16384 });
      await using seeder = await openSeeder(fx);
      await using leecher = await openIsolated();
      const all = leecher.events();
      const t = await addMagnet(leecher, fx, dir);
      connect(t, seeder);
      const events = await collect(all, (ev) => ev.type === "torrent_finished" && ev.torrent === t);
      const mine = events.filter((ev) => ev.torrent !== undefined);
      const types: string[] = mine.map((ev) => ev.type);

      // Every event about a torrent carries the very object add() returned.
      for (const ev of mine) assert.equal(ev.torrent, t, `${ev.type}: torrent is not the object add() returned`);

      const first = (type: string) => {
        const i = types.indexOf(type);
        assert.ok(i >= 0, `no ${type} event among: ${types.join(" ")}`);
        return i;
      };
      const lastPiece = types.lastIndexOf("piece_finished");
      assert.ok(first("torrent_added") < first("metadata_received"), "torrent_added before metadata_received");
      assert.ok(first("add_torrent") < first("metadata_received"), "add_torrent before metadata_received");
      assert.ok(first("metadata_received") < first("piece_finished"), "metadata_received before the first piece");
      assert.ok(lastPiece < first("torrent_finished"), "every piece_finished before torrent_finished");
      assert.equal(types.filter((x) => x === "torrent_finished").length, 1, "torrent_finished once");

      // piece_finished: one per piece, each with a numeric index.
      const pieces = mine.flatMap((ev) => (ev.type === "piece_finished" ? [ev.piece] : []));
      const pieceCount = t.status().pieceCount;
      assert.ok(pieceCount > 1);
      assert.deepEqual([...new Set(pieces)].sort((a, b) => a - b), Array.from({ length: pieceCount }, (_, i) => i));

      // state_changed: string states, each prevState the previous state,
      // through downloading_metadata and downloading to finished.
      const changes = mine.flatMap((ev) => (ev.type === "state_changed" ? [ev] : []));
      for (const c of changes) {
        assert.equal(typeof c.state, "string");
        assert.ok(STATES.has(c.state), `unknown state ${c.state}`);
        assert.ok(STATES.has(c.prevState), `unknown prevState ${c.prevState}`);
      }
      for (let i = 1; i < changes.length; i++) assert.equal(changes[i].prevState, changes[i - 1].state);
      const states = changes.map((c) => c.state);
      assert.ok(states.includes("downloading"), states.join(" "));
      assert.ok(states.indexOf("downloading") < states.lastIndexOf("finished"), states.join(" "));
      const lastState = states.at(-1);
      assert.ok(lastState === "finished" || lastState === "seeding", `ends ${lastState}`);

      // file_completed: every file of the torrent, by index.
      const files = new Set(mine.flatMap((ev) => (ev.type === "file_completed" ? [ev.file] : [])));
      assert.equal(files.size, Object.keys(MULTI_FILE_TREE).length, "one file_completed per file");

      // Every event has a string message and a known type.
      for (const ev of events) {
        assert.equal(typeof ev.message, "string", `${ev.type}: message`);
        assert.ok((ALERT_TYPES as readonly string[]).includes(ev.type), `unknown type ${ev.type}`);
      }
    },
  );

  test("several iterators at once each see the events, filtered as asked", { timeout: TIMEOUT.transfer }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, MULTI_FILE_TREE, { version: "v1", pieceSize: 16384 });
    await using seeder = await openSeeder(fx);
    await using leecher = await openIsolated();
    const everything = leecher.events();
    const typed = leecher.events({ types: ["piece_finished", "torrent_finished"] });
    const predicate = leecher.events((ev) => ev.type === "state_changed" || ev.type === "torrent_finished");
    const t = await addMagnet(leecher, fx, dir);
    const ofTorrent = t.events();
    connect(t, seeder);
    const isEnd = (ev: TorrentEvent) => ev.type === "torrent_finished" && ev.torrent === t;
    const [a, b, c, d] = await Promise.all([
      collect(everything, isEnd),
      collect(typed, isEnd),
      collect(predicate, isEnd),
      collect(ofTorrent, isEnd),
    ]);
    assert.ok(a.some((ev) => ev.type === "piece_finished"));
    // Each consumer got the same event objects, in the same order, as the
    // unfiltered one, restricted to what it asked for.
    assertSameEvents(
      b,
      a.filter((ev) => ev.type === "piece_finished" || ev.type === "torrent_finished"),
      "types filter",
    );
    assertSameEvents(c, a.filter((ev) => ev.type === "state_changed" || ev.type === "torrent_finished"), "predicate");
    const aboutT = a.filter((ev) => ev.torrent === t);
    assert.ok(d.length > 0 && d.every((ev) => ev.torrent === t));
    // torrent.events() subscribed after add() resolved: it sees a suffix
    // (and at least everything from the connection on).
    assertSameEvents(d, aboutT.slice(aboutT.length - d.length), "torrent.events()");
    assert.ok(d.some((ev) => ev.type === "metadata_received"), "torrent.events() saw the metadata arrive");
  });

  test("breaking out of for-await releases that stream; others and later ones keep receiving", {
    timeout: TIMEOUT.transfer,
  }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, MULTI_FILE_TREE, { version: "v2", pieceSize: 16384 });
    await using seeder = await openSeeder(fx);
    await using leecher = await openIsolated();
    const survivor = leecher.events();
    const quitter = leecher.events();
    const t = await addMagnet(leecher, fx, dir);

    // Leave the loop at the first event about the torrent. No peer yet, so
    // the download has not begun.
    let broke: TorrentEvent | undefined;
    for await (const ev of quitter) {
      if (ev.torrent === t) {
        broke = ev;
        break;
      }
    }
    assert.ok(broke);
    assert.equal((await quitter.next()).done, true, "a stream left by break reports done");

    // A stream made after the break sees the whole download; the stream that
    // never broke sees it too, after the event the quitter broke on.
    const later = leecher.events();
    connect(t, seeder);
    const isEnd = (ev: TorrentEvent) => ev.type === "torrent_finished" && ev.torrent === t;
    const [rest, full] = await Promise.all([collect(later, isEnd), collect(survivor, isEnd)]);
    assert.ok(rest.some((ev) => ev.type === "metadata_received"), "the later stream saw the metadata arrive");
    assert.ok(rest.some((ev) => ev.type === "piece_finished"), "the later stream saw pieces");
    assert.ok(full.includes(broke), "the surviving stream saw the event the quitter broke on");
    assertSameEvents(rest, full.slice(full.length - rest.length), "the later stream saw the tail of the same events");
    assert.equal((await quitter.next()).done, true, "the released stream stays done");
  });

  test("untyped alerts arrive with type, message and torrent (isolated: a non-loopback peer is blocked)", {
    timeout: TIMEOUT.quick,
  }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "f.bin": 40_000 }, { version: "v1", pieceSize: 16384 });
    await using session = await openIsolated();
    const events = session.events();
    const t = await session.add({ magnet: fx.made.magnet, savePath: dir.join("download") });
    // 0.0.0.0 is outside 127.0.0.0/8, so the isolated profile's IP filter
    // refuses it (and were the filter missing, it would still stay local).
    t.connectPeer("0.0.0.0", 6881);
    const blocked = await waitForType(events, "peer_blocked", t);
    assert.equal(TYPED.has(blocked.type), false, "peer_blocked has no typed fields");
    assert.equal(blocked.torrent, t);
    assert.equal(typeof blocked.message, "string");
    assert.match(blocked.message, /0\.0\.0\.0/, "the message is libtorrent's text about the peer");
  });

  test(
    "close() ends every open stream, and streams opened after close are already done",
    { timeout: TIMEOUT.quick },
    async () => {
      const session = await openIsolated();
      const a = session.events();
      const b = session.events({ types: ["torrent_finished"] });
      const ended = Promise.all([collect(a, () => false), collect(b, () => false)]);
      await session.close();
      const [ea, eb] = await ended;
      assert.ok(Array.isArray(ea) && Array.isArray(eb));
      assert.equal(eb.length, 0);
      assert.equal((await session.events().next()).done, true);
    },
  );

  test("a full stream drops events in place: events_dropped sits where the gap is", {
    timeout: TIMEOUT.quick,
  }, async () => {
    using dir = new TempDir();
    await using session = await openIsolated();
    const all = session.events();
    const bounded = session.events(undefined, { maxQueued: 3 });
    const seen: TorrentEvent[] = [];
    const magnets = Array.from({ length: 20 }, (_, i) => ({
      magnet: `magnet:?xt=urn:btih:${(i + 1).toString(16).padStart(40, "0")}`,
      savePath: dir.join("m"),
    }));
    const torrents = await session.addMany(magnets);
    while (seen.length < 12) seen.push((await all.next()).value as TorrentEvent);
    // The first three were queued, then the gap, counted.
    const head = [];
    for (let i = 0; i < 4; i++) head.push((await bounded.next()).value as TorrentEvent);
    for (let i = 0; i < 3; i++) assert.equal(head[i], seen[i], `event ${i} is the same object`);
    const marker = head[3];
    assert.equal(marker.type, "events_dropped");
    const count = (marker as { count: number }).count;
    assert.ok(count >= 9, `at least the 9 events seen after the first 3 were dropped (count ${count})`);
    assert.match(marker.message, new RegExp(`^${count} events dropped`));
    // After the marker the stream goes on with the event right after the gap.
    torrents[0].pause();
    const next = (await bounded.next()).value as TorrentEvent;
    while (seen.length < 3 + count + 1) seen.push((await all.next()).value as TorrentEvent);
    assert.equal(next, seen[3 + count], `after the gap comes event ${3 + count} (${seen[3 + count].type})`);
    await bounded.return();
    await all.return();
  });

  test("events() options are validated", async () => {
    await using session = await openIsolated();
    // deno-lint-ignore no-explicit-any
    const bad: any[] = [{ maxQueued: 0 }, { maxQueued: 1.5 }, { maxQueued: "9" }, { other: 1 }, 7];
    for (const o of bad) throwsCode(() => session.events(undefined, o), "INVALID_ARGUMENT", JSON.stringify(o));
  });

  test("event strings decode both ASCII and UTF-8 (the shim flags ASCII strings)", async () => {
    using dir = new TempDir();
    await using session = await openIsolated();
    const name = "Ünïcødé 名前 😀";
    const events = session.events({ types: ["torrent_added"] });
    const t = await session.add({
      magnet: `magnet:?xt=urn:btih:${"ab".repeat(20)}&dn=${encodeURIComponent(name)}`,
      savePath: dir.join("u"),
    });
    const ev = (await events.next()).value as TorrentEvent;
    assert.equal(ev.torrent, t);
    assert.equal(ev.message, `${name} added`);
    const ascii = session.events({ types: ["torrent_paused"] });
    t.pause();
    const p = (await ascii.next()).value as TorrentEvent;
    assert.match(p.message, /paused/);
    assert.ok([...p.message].every((c) => c.charCodeAt(0) < 0x80 || name.includes(c)));
  });
});
