// Session-level control: pause/resume of the whole session, findTorrent,
// stats(), saveState() / Session.open({ state }), statusAll(), addMany(),
// and a POSIX disk I/O session — over real loopback sessions.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Session, type Torrent } from "../mod.ts";
import {
  assertSameTree,
  makeFixture,
  observeWindow,
  openIsolated,
  openSeeder,
  rejectsCode,
  TempDir,
  THROTTLED_SEEDER,
  throwsCode,
  TIMEOUT,
  waitFor,
  waitForSeeding,
  waitForType,
} from "./_helpers.ts";

const magnetOf = (hex: string) => `magnet:?xt=urn:btih:${hex}`;
const randomHex = () => randomBytes(20).toString("hex");

describe("session control", () => {
  test(
    "Session.pause() stops all transfer without touching torrent flags; resume() restarts it",
    { timeout: TIMEOUT.slow },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "big.bin": 600_000, "small.bin": 5_000 }, { version: "hybrid" });
      await using seeder = await openSeeder(fx, THROTTLED_SEEDER);
      await using leecher = await openIsolated();
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl") });
      const events = t.events();
      t.connectPeer("127.0.0.1", seeder.listenPort);
      let pieces = 0;
      await waitFor(events, (ev) => ev.type === "piece_finished" && ++pieces >= 3, "3 pieces");

      assert.equal(leecher.isPaused, false);
      leecher.pause();
      await waitForType(events, "torrent_paused", t);
      assert.equal(leecher.isPaused, true);
      const before = t.status();
      assert.equal(before.paused, false, "a session pause leaves the torrent's own paused flag alone");
      assert.equal(before.isFinished, false, "still incomplete, else this test proves nothing");
      const statsBefore = await leecher.stats();
      await observeWindow(1_500);
      const after = t.status();
      assert.equal(after.totalDownload, before.totalDownload, "no payload moved while the session was paused");
      assert.equal(after.numPeers, 0, "a paused session keeps no peer connections");
      assert.equal((await leecher.stats()).totalDownload, statsBefore.totalDownload);

      leecher.resume();
      assert.equal(leecher.isPaused, false);
      await waitForType(events, "torrent_resumed", t);
      t.connectPeer("127.0.0.1", seeder.listenPort);
      await waitForSeeding(events, t);
      assert.ok(t.status().totalDownload > before.totalDownload, "the download went on after resume()");
      await events.return();
      await leecher.close();
      assertSameTree(fx.dataDir, dir.join("dl", fx.name));
    },
  );

  test("findTorrent() by v1 and by v2 info-hash, any case", { timeout: TIMEOUT.quick }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "x.bin": 40_000 }, { version: "hybrid" });
    await using session = await openIsolated();
    const hybrid = await session.add({ torrent: fx.made.torrent, savePath: dir.join("a"), paused: true });
    const v1hex = randomHex();
    const v1only = await session.add({ magnet: magnetOf(v1hex), savePath: dir.join("b"), paused: true });
    const { v1, v2 } = hybrid.infoHash;
    assert.ok(v1 && v2, "a hybrid torrent has both hashes");
    assert.equal(session.findTorrent(v1), hybrid, "by v1");
    assert.equal(session.findTorrent(v2), hybrid, "by v2");
    assert.equal(session.findTorrent(v2.toUpperCase()), hybrid, "upper case");
    assert.equal(session.findTorrent(v1hex), v1only);
    assert.equal(session.findTorrent(v2.slice(0, 40)), undefined, "a truncated v2 hash is not a v1 hash");
    assert.equal(session.findTorrent(randomHex()), undefined, "unknown v1");
    assert.equal(session.findTorrent(randomBytes(32).toString("hex")), undefined, "unknown v2");
    for (const bad of ["", "xyz", "0".repeat(39), "0".repeat(41), "g".repeat(40), 42, null]) {
      throwsCode(() => session.findTorrent(bad as never), "INVALID_ARGUMENT", String(bad));
    }
    await v1only.remove();
    assert.equal(session.findTorrent(v1hex), undefined, "a removed torrent is not found");
    await session.close();
    throwsCode(() => session.findTorrent(v1), "SESSION_CLOSED");
  });

  test("stats() totals grow with a transfer", { timeout: TIMEOUT.transfer }, async () => {
    using dir = new TempDir();
    const size = 200_000;
    const fx = await makeFixture(dir, { "x.bin": size }, { version: "v1" });
    await using seeder = await openSeeder(fx);
    await using leecher = await openIsolated();
    const s0 = await leecher.stats();
    assert.equal(s0.totalDownload, 0);
    assert.equal(s0.numPeers, 0);
    assert.equal(typeof s0.dhtNodes, "number");
    assert.equal(s0.counters["net.recv_payload_bytes"], 0);
    assert.ok(Object.keys(s0.counters).length > 200, "every libtorrent counter by name");
    const up0 = (await seeder.stats()).totalUpload;

    const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl") });
    const events = t.events();
    t.connectPeer("127.0.0.1", seeder.listenPort);
    await waitForSeeding(events, t);
    await events.return();
    const s1 = await leecher.stats();
    assert.ok(s1.totalDownload >= size, `payload received: ${s1.totalDownload}`);
    assert.ok(s1.totalReceived > s1.totalDownload, "protocol bytes on top of the payload");
    assert.ok(s1.time > s0.time);
    assert.ok(s1.intervalSeconds > 0 && s1.intervalSeconds <= s1.time);
    assert.ok(s1.downloadRate > 0, "an average rate over the interval with the transfer in it");
    assert.equal(s1.piecesPassed, t.status().pieceCount);
    assert.ok(s1.diskBlocksWritten > 0);
    assert.equal(s1.counters["net.recv_payload_bytes"], s1.totalDownload);
    const up1 = (await seeder.stats()).totalUpload;
    assert.ok(up1 - up0 >= size, `the seeder's payload sent grew by ${up1 - up0}`);
    await leecher.close();
    await rejectsCode(() => leecher.stats(), "SESSION_CLOSED");
  });

  test("saveState() → Session.open({ state }) restores the settings", { timeout: TIMEOUT.quick }, async () => {
    const changed = {
      upload_rate_limit: 123_456,
      download_rate_limit: 654_321,
      user_agent: "torrentxt-state-test/1.0",
      connections_limit: 77,
      enable_outgoing_utp: false,
    } as const;
    let state: Uint8Array;
    let expected: Map<string, unknown>;
    {
      await using a = await openIsolated({ settings: changed });
      a.settings.setEncryption("forced");
      state = a.saveState();
      expected = new Map(a.settings.list().map((s) => [s.name, s.value]));
      assert.ok(state.length > 0);
      const text = new TextDecoder("latin1").decode(state);
      assert.ok(text.includes("8:settings"), "the state has the settings");
      assert.ok(text.includes("9:dht state"), "the state has the DHT state");
      const onlySettings = new TextDecoder("latin1").decode(a.saveState({ dht: false }));
      assert.ok(!onlySettings.includes("9:dht state"));
      throwsCode(() => a.saveState({ settings: false, dht: false }), "INVALID_ARGUMENT");
      throwsCode(() => a.saveState({ bogus: true } as never), "INVALID_ARGUMENT");
    }
    await using b = await Session.open({ profile: "isolated", state });
    for (const [k, v] of Object.entries(changed)) assert.equal(b.settings.get(k), v, k);
    assert.equal(b.settings.encryption, "forced");
    // Every setting is as it was (both are isolated sessions: the profile sets the same values).
    const now = new Map(b.settings.list().map((s) => [s.name, s.value]));
    const differing = [...expected].filter(([k, v]) => now.get(k) !== v).map(([k]) => k);
    assert.deepEqual(differing, [], "settings that differ after the restore");
    // Options given at open win over the state.
    await using c = await Session.open({ profile: "isolated", state, settings: { upload_rate_limit: 1000 } });
    assert.equal(c.settings.get("upload_rate_limit"), 1000);
    assert.equal(c.settings.get("download_rate_limit"), changed.download_rate_limit);

    const garbage: [string, Uint8Array][] = [
      ["random bytes", new Uint8Array([1, 2, 3, 4])],
      ["truncated", state.subarray(0, state.length - 3)],
      ["a list", new TextEncoder().encode("le")],
      ["settings not a dictionary", new TextEncoder().encode("d8:settingsi1ee")],
      ["dht state not a dictionary", new TextEncoder().encode("d9:dht state3:abce")],
    ];
    for (const [label, g] of garbage) {
      await rejectsCode(() => Session.open({ profile: "isolated", state: g }), "INVALID_ARGUMENT", label);
    }
    await rejectsCode(() => Session.open({ profile: "isolated", state: "abc" as never }), "INVALID_ARGUMENT");
  });

  test("statusAll() matches each torrent's status()", { timeout: TIMEOUT.transfer }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "x.bin": 30_000, "y/z.bin": 20_000 }, { version: "hybrid" });
    await using session = await openSeeder(fx);
    const seed = session.torrents()[0];
    const magnets: Torrent[] = [];
    for (let i = 0; i < 5; i++) {
      magnets.push(
        await session.add({ magnet: magnetOf(randomHex()), savePath: dir.join("m"), paused: true, name: `n${i}` }),
      );
    }
    const all = session.statusAll();
    assert.equal(all.length, 6);
    assert.deepEqual(new Set(all.map((r) => r.torrent)), new Set([seed, ...magnets]));
    for (const r of all) {
      const st = r.torrent.status();
      for (const [k, v] of Object.entries(st)) {
        // Time-based fields may tick between the two reads.
        if (["activeSeconds", "seedingSeconds", "finishedSeconds", "nextAnnounce", "lastSeenComplete"].includes(k)) {
          continue;
        }
        assert.deepEqual(r[k as keyof typeof st], v, `${st.name}: ${k}`);
      }
      assert.deepEqual(Object.keys(r.toObject()).sort(), Object.keys(st).sort());
      assert.deepEqual(JSON.parse(JSON.stringify(r)).name, st.name, "JSON.stringify gives the plain status");
    }
    assert.equal(all.find((r) => r.torrent === seed)!.isSeeding, true);
    assert.deepEqual(all.filter((r) => r.torrent !== seed).map((r) => r.name).sort(), ["n0", "n1", "n2", "n3", "n4"]);

    // A snapshot: a later poll (after a removal) does not change earlier records.
    const kept = all.map((r) => [r.torrent, r.name, r.paused] as const);
    await magnets[0].remove();
    const again = session.statusAll();
    assert.equal(again.length, 5, "a removed torrent is left out");
    assert.ok(!again.some((r) => r.torrent === magnets[0]));
    for (let i = 0; i < 3; i++) session.statusAll(); // cycle the buffer pool
    assert.deepEqual(all.map((r) => [r.torrent, r.name, r.paused] as const), kept, "earlier records unchanged");
    await session.close();
    throwsCode(() => session.statusAll(), "SESSION_CLOSED");
  });

  test(
    "statusAll() follows every change between polls; records of earlier polls keep their values",
    { timeout: TIMEOUT.slow },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "a.bin": 300_000, "b.bin": 50_000 }, { version: "hybrid" });
      await using seeder = await openSeeder(fx);
      await using leecher = await openIsolated();
      const idle = await leecher.add({ magnet: magnetOf(randomHex()), savePath: dir.join("m"), paused: true });
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl") });
      const of = (all: ReturnType<Session["statusAll"]>, x: Torrent) => all.find((r) => r.torrent === x)!;
      const first = leecher.statusAll();
      assert.equal(of(first, t).totalDone, 0);
      assert.equal(of(first, idle).paused, true);

      const events = t.events();
      t.connectPeer("127.0.0.1", seeder.listenPort);
      await waitForSeeding(events, t);
      await events.return();
      // Flag and state changes of another torrent between polls.
      idle.resume();
      idle.setFlags({ sequential: true });
      const polls = [];
      for (let i = 0; i < 5; i++) polls.push(leecher.statusAll()); // more polls than pooled buffers
      for (const all of polls) {
        const done = of(all, t);
        assert.equal(done.isSeeding, true);
        assert.equal(done.progress, 1);
        assert.equal(done.totalDone, 350_000);
        assert.equal(of(all, idle).paused, false);
        assert.equal(of(all, idle).sequential, true);
      }
      // A torrent at rest: every field but the clock-driven ones and the
      // decaying rates equals what status() asks the engine for.
      const last = leecher.statusAll();
      for (const x of [t, idle]) {
        const st = x.status(), r = of(last, x);
        for (const [k, v] of Object.entries(st)) {
          if (/Seconds|nextAnnounce|lastSeenComplete|Rate$|secondsSince/.test(k)) continue;
          assert.deepEqual(r[k as keyof typeof st], v, `${st.name}: ${k}`);
        }
      }
      // The first poll's records were never written over.
      assert.equal(of(first, t).totalDone, 0);
      assert.equal(of(first, t).isSeeding, false);
      assert.equal(of(first, idle).paused, true);
      assert.equal(of(first, idle).sequential, false);
    },
  );

  test("addMany() adds in order, all or nothing", { timeout: TIMEOUT.transfer }, async () => {
    using dir = new TempDir();
    await using session = await openIsolated();
    const hexes = Array.from({ length: 700 }, randomHex); // more than one chunk
    const list = hexes.map((h) => ({ magnet: magnetOf(h), savePath: dir.path, paused: true }));
    const added = await session.addMany(list);
    assert.equal(added.length, hexes.length);
    added.forEach((t, i) => assert.equal(t.infoHash.v1, hexes[i], `entry ${i} in order`));
    assert.equal(session.torrents().length, hexes.length);
    assert.ok(added.every((t) => t.status().paused));
    assert.deepEqual(await session.addMany([]), []);

    // Refusals roll back: nothing of the batch stays.
    const fresh = Array.from({ length: 3 }, randomHex);
    const dup = [...fresh.map((h) => ({ magnet: magnetOf(h), savePath: dir.path })), list[5]];
    await rejectsCode(() => session.addMany(dup), "DUPLICATE_TORRENT", "one already in the session");
    await rejectsCode(
      () =>
        session.addMany([{ magnet: magnetOf(fresh[0]), savePath: dir.path }, {
          magnet: magnetOf(fresh[0]),
          savePath: dir.path,
        }]),
      "DUPLICATE_TORRENT",
      "twice in the list",
    );
    await rejectsCode(
      () =>
        session.addMany([{ magnet: magnetOf(fresh[1]), savePath: dir.path }, {
          magnet: "magnet:?xt=urn:btih:zz",
          savePath: dir.path,
        }]),
      "INVALID_MAGNET",
      "one the engine cannot parse",
    );
    for (const h of fresh) assert.equal(session.findTorrent(h), undefined, `${h} was rolled back`);
    assert.equal(session.torrents().length, hexes.length);

    // Invalid options are caught before anything is added.
    const invalid: [string, unknown][] = [
      ["not an array", { magnet: magnetOf(fresh[2]) }],
      ["no savePath", [{ magnet: magnetOf(fresh[2]) }]],
      ["two sources", [{ magnet: magnetOf(fresh[2]), torrent: new Uint8Array(1), savePath: dir.path }]],
      ["unknown key", [{ magnet: magnetOf(fresh[2]), savePath: dir.path, bogus: 1 }]],
      ["bad type", [{ magnet: magnetOf(fresh[2]), savePath: dir.path, paused: "yes" }]],
      ["null entry", [null]],
    ];
    for (const [label, v] of invalid) await rejectsCode(() => session.addMany(v as never), "INVALID_ARGUMENT", label);
    assert.equal(session.torrents().length, hexes.length);
  });

  test("a POSIX disk I/O session downloads correctly", { timeout: TIMEOUT.transfer }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "a.bin": 150_001, "b/c.bin": 33_333 }, { version: "hybrid" });
    await using seeder = await openSeeder(fx, { diskIo: "posix" });
    await using leecher = await openIsolated({ diskIo: "posix" });
    const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl") });
    const events = t.events();
    t.connectPeer("127.0.0.1", seeder.listenPort);
    await waitForSeeding(events, t);
    await events.return();
    const st = t.status();
    assert.equal(st.totalDone, 150_001 + 33_333, "libtorrent counts done bytes without pad files");
    assert.equal(st.totalSize, st.totalDone, "and so does totalSize");
    await leecher.close();
    assertSameTree(fx.dataDir, dir.join("dl", fx.name));
  });

  test("session calls after close() give SESSION_CLOSED", { timeout: TIMEOUT.quick }, async () => {
    const s = await openIsolated();
    await s.close();
    throwsCode(() => s.pause(), "SESSION_CLOSED");
    throwsCode(() => s.resume(), "SESSION_CLOSED");
    throwsCode(() => s.isPaused, "SESSION_CLOSED");
    throwsCode(() => s.saveState(), "SESSION_CLOSED");
    throwsCode(() => s.settings.get("user_agent"), "SESSION_CLOSED");
    throwsCode(() => s.settings.set("upload_rate_limit", 1), "SESSION_CLOSED");
    await rejectsCode(() => s.addMany([]), "SESSION_CLOSED");
  });
});
