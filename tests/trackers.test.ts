// Trackers and web seeds against real HTTP servers the test starts on
// 127.0.0.1: announces, peers found through a tracker, scrape, tracker list
// changes, forced reannounce; downloads from a web seed alone.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createTorrent, type TorrentEvent } from "../mod.ts";
import {
  addSeed,
  assertSameTree,
  type Fixture,
  makeFixture,
  observeWindow,
  openIsolated,
  rejectsCode,
  TempDir,
  throwsCode,
  TIMEOUT,
  waitFor,
  waitForType,
} from "./_helpers.ts";
import { TestTracker } from "./_tracker.ts";
import { WebSeedServer } from "./_webseed.ts";

const SPEC = { "a.bin": 150_001, "dir/b.bin": 70_003, "c.txt": 999 };

/** The fixture's content, as a torrent that names `trackers` / `webSeeds`. */
async function withUrls(fx: Fixture, urls: { trackers?: string[]; webSeeds?: string[] }): Promise<Fixture> {
  const made = await createTorrent({ path: fx.dataDir, version: "hybrid", pieceSize: 16384, ...urls });
  return { ...fx, made };
}

describe("trackers", () => {
  test(
    "peers found through an HTTP tracker complete a download without connectPeer; scrape() fills the swarm counts",
    { timeout: TIMEOUT.transfer },
    async () => {
      using dir = new TempDir();
      await using tracker = await TestTracker.start();
      const fx = await withUrls(await makeFixture(dir, SPEC), { trackers: [tracker.url] });

      await using seeder = await openIsolated();
      await addSeed(seeder, fx);
      const seedPort = seeder.listenPort;
      // The seeder announces as a seed (left = 0) before the leecher exists.
      const seedAnnounce = await tracker.waitAnnounce((a) => a.port === seedPort);
      assert.equal(seedAnnounce.ip, "127.0.0.1");

      // libtorrent's SSRF mitigation allows only /announce paths on localhost
      // trackers, which blocks the scrape URL (/scrape) of a loopback tracker.
      await using leecher = await openIsolated({ settings: { ssrf_mitigation: false } });
      const events = leecher.events();
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl") });
      const port = leecher.listenPort;
      // No connectPeer: the only way to the seeder is the tracker's reply.
      const reply = await waitFor<Extract<TorrentEvent, { type: "tracker_reply" }>>(
        events,
        (ev) => ev.type === "tracker_reply" && ev.torrent === t && ev.numPeers > 0,
        "a tracker reply with peers",
      );
      assert.equal(reply.url, tracker.url);
      await waitForType(events, "torrent_finished", t);
      await t.flushCache(); // torrent_finished may precede the last writes
      assertSameTree(fx.dataDir, dir.join("dl", fx.name));

      const started = tracker.from(port).find((a) => a.event === "started");
      assert.ok(started, "the leecher announced event=started");
      assert.ok(started.left > 0, "the leecher announced bytes left");
      const completed = await tracker.waitAnnounce((a) => a.port === port && a.event === "completed");
      assert.equal(completed.left, 0);
      // A hybrid torrent announces once per info-hash: wait for both "completed" replies.
      await waitFor(
        events,
        (ev) =>
          ev.type === "tracker_reply" && ev.torrent === t &&
          tracker.from(port).filter((a) => a.event === "completed").length === 2 &&
          t.trackers()[0].endpoints.every((e) => !e.updating),
        "the replies to the completed announces",
      );

      const tr = t.trackers();
      assert.equal(tr.length, 1);
      assert.equal(tr[0].url, tracker.url);
      assert.equal(tr[0].status, "working");
      assert.equal(tr[0].verified, true);
      assert.equal(tr[0].fails, 0);
      assert.equal(tr[0].lastError, null);
      assert.deepEqual(tr[0].sources, ["torrent"]);
      assert.ok(tr[0].endpoints.length >= 1);

      // Announce replies carry no counts, so only a scrape can fill them.
      assert.equal(t.status().numComplete, -1, "no counts before the scrape");
      const scraped = leecher.events({ types: ["scrape_reply", "scrape_failed"], torrent: t });
      t.scrape();
      const sr = await waitFor(scraped, () => true, "a scrape reply");
      assert.equal(sr.type, "scrape_reply", `scrape failed: ${sr.message}`);
      assert.equal(sr.complete, 2, "both peers are seeds now");
      assert.equal(sr.incomplete, 0);
      assert.equal(t.status().numComplete, 2);
      assert.equal(t.status().numIncomplete, 0);
      assert.ok(tracker.scrapes.length >= 1, "the tracker received the scrape");
      const v1 = fx.made.infoHash.v1!;
      assert.ok(tracker.scrapes.some((s) => s.infoHashes.includes(v1)), "the scrape named the torrent's info-hash");
      assert.equal(t.trackers()[0].scrapeComplete, 2);
      // Closing the trackers first: in Bun, close() runs on the JavaScript thread, so a tracker in
      // this process could not answer the "stopped" announces sent while closing, and each session
      // would wait stop_tracker_timeout (5 s) for them.
      await tracker.close();
    },
  );

  test(
    "addTracker / replaceTrackers change trackers() and where announces go; forceReannounce() announces again",
    { timeout: TIMEOUT.transfer },
    async () => {
      using dir = new TempDir();
      await using a = await TestTracker.start();
      await using b = await TestTracker.start();
      // v1 only: one announce per tracker per reannounce (a hybrid sends one per info-hash).
      const fx = await makeFixture(dir, SPEC, { version: "v1" });
      await using session = await openIsolated();
      const t = await addSeed(session, fx);
      const port = session.listenPort;
      const replies = session.events({ types: ["tracker_reply", "tracker_error"], torrent: t });
      assert.deepEqual(t.trackers(), [], "the torrent was made without trackers");

      t.addTracker(a.url, { tier: 2 });
      assert.deepEqual(t.trackers().map((x) => [x.url, x.tier, x.sources]), [[a.url, 2, ["client"]]]);
      // Adding a tracker to a running torrent announces to it.
      await a.waitAnnounce((x) => x.port === port);
      await waitFor(replies, (ev) => ev.type === "tracker_reply" && ev.url === a.url, "A's reply");

      // A forced reannounce reaches the tracker again, before its min interval (30 s).
      const seen = a.announces.length;
      t.forceReannounce({ ignoreMinInterval: true });
      const again = await a.waitAnnounce((x) => x.port === port, seen);
      assert.ok(again.seq >= seen);
      await waitFor(replies, (ev) => ev.type === "tracker_reply" && ev.url === a.url, "A's second reply");

      t.replaceTrackers([{ url: b.url }, { url: a.url, tier: 1 }]);
      assert.deepEqual(t.trackers().map((x) => [x.url, x.tier]), [[b.url, 0], [a.url, 1]]);
      t.replaceTrackers([{ url: b.url, tier: 0 }]);
      assert.deepEqual(t.trackers().map((x) => x.url), [b.url], "A is gone");
      const aCount = a.announces.length;
      // Replacing the list announces to the new trackers.
      await b.waitAnnounce((x) => x.port === port);
      await waitFor(replies, (ev) => ev.type === "tracker_reply" && ev.url === b.url, "B's reply");
      assert.equal(a.announces.length, aCount, "a tracker no longer listed was announced to");

      // forceReannounce on one tracker by index.
      const bSeen = b.announces.length;
      t.forceReannounce({ trackerIndex: 0, ignoreMinInterval: true });
      await b.waitAnnounce((x) => x.port === port, bSeen);

      t.replaceTrackers([]);
      assert.deepEqual(t.trackers(), []);
      await replies.return();
      // Closing the trackers first: in Bun, close() runs on the JavaScript thread, so a tracker in
      // this process could not answer the "stopped" announces sent while closing, and each session
      // would wait stop_tracker_timeout (5 s) for them.
      await a.close();
      await b.close();
    },
  );

  test("tracker methods reject bad input with stable codes", { timeout: TIMEOUT.quick }, async () => {
    using dir = new TempDir();
    await using tracker = await TestTracker.start();
    const fx = await makeFixture(dir, { "x.bin": 20_000 });
    const session = await openIsolated();
    const t = await session.add({ torrent: fx.made.torrent, savePath: fx.savePath, paused: true });
    throwsCode(() => t.addTracker("not a url"), "INVALID_ARGUMENT", "addTracker(bad url)");
    throwsCode(() => t.addTracker("ftp://127.0.0.1/announce"), "INVALID_ARGUMENT", "addTracker(ftp)");
    throwsCode(() => t.addTracker(tracker.url, { tier: 256 }), "INVALID_ARGUMENT", "addTracker(tier 256)");
    throwsCode(() => t.addTracker(tracker.url, { tier: -1 }), "INVALID_ARGUMENT", "addTracker(tier -1)");
    throwsCode(() => t.replaceTrackers([{ url: "" }]), "INVALID_ARGUMENT", "replaceTrackers(empty url)");
    throwsCode(() => t.replaceTrackers("x" as never), "INVALID_ARGUMENT", "replaceTrackers(string)");
    throwsCode(() => t.forceReannounce({ trackerIndex: 0 }), "INVALID_ARGUMENT", "forceReannounce(no trackers)");
    t.addTracker(tracker.url);
    throwsCode(() => t.forceReannounce({ trackerIndex: 1 }), "INVALID_ARGUMENT", "forceReannounce(index 1 of 1)");
    throwsCode(() => t.forceReannounce({ trackerIndex: -2 }), "INVALID_ARGUMENT", "forceReannounce(-2)");
    throwsCode(() => t.forceReannounce({ seconds: -1 }), "INVALID_ARGUMENT", "forceReannounce(seconds -1)");
    throwsCode(() => t.forceReannounce({ seconds: 1.5 }), "INVALID_ARGUMENT", "forceReannounce(seconds 1.5)");
    throwsCode(() => t.scrape({ trackerIndex: 3 }), "INVALID_ARGUMENT", "scrape(index 3 of 1)");
    throwsCode(() => t.addWebSeed("udp://127.0.0.1:1/"), "INVALID_ARGUMENT", "addWebSeed(udp)");
    throwsCode(() => t.removeWebSeed(""), "INVALID_ARGUMENT", "removeWebSeed(empty)");
    t.forceReannounce({ trackerIndex: 0, seconds: 5 }); // valid
    await t.remove();
    throwsCode(() => t.trackers(), "TORRENT_REMOVED");
    throwsCode(() => t.addTracker(tracker.url), "TORRENT_REMOVED");
    throwsCode(() => t.webSeeds(), "TORRENT_REMOVED");
    const u = await session.add({ torrent: fx.made.torrent, savePath: fx.savePath, paused: true });
    await session.close();
    throwsCode(() => u.scrape(), "SESSION_CLOSED");
    throwsCode(() => u.replaceTrackers([]), "SESSION_CLOSED");
    await rejectsCode(() => u.moveStorage(dir.join("x")), "SESSION_CLOSED");
  });
});

describe("web seeds", () => {
  test(
    "a torrent made with a web seed downloads from the HTTP server alone, byte for byte",
    { timeout: TIMEOUT.transfer },
    async () => {
      using dir = new TempDir();
      const base = await makeFixture(dir, SPEC);
      await using server = await WebSeedServer.start(base.savePath);
      const fx = await withUrls(base, { webSeeds: [server.url] });
      await using leecher = await openIsolated();
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl") });
      const events = t.events();
      assert.deepEqual(t.webSeeds(), [server.url]);
      await waitForType(events, "torrent_finished", t);
      await t.flushCache(); // torrent_finished may precede the last writes
      assertSameTree(fx.dataDir, dir.join("dl", fx.name));
      const st = t.status();
      assert.equal(st.listPeers <= 1, true, "no BitTorrent peer was known besides the web seed");
      assert.ok(server.requests.some((r) => r.status === 206 || r.status === 200), "the server answered requests");
      const total = Object.values(SPEC).reduce((a, b) => a + b, 0);
      assert.ok(server.bytesServed >= total, `the server served ${server.bytesServed} of ${total} bytes`);
      assert.ok(server.requests.every((r) => r.path.startsWith(`/${fx.name}/`)), "requests name the torrent's files");
    },
  );

  test(
    "removeWebSeed() stops use of a web seed; addWebSeed() brings it back and the download completes",
    { timeout: TIMEOUT.transfer },
    async () => {
      using dir = new TempDir();
      const base = await makeFixture(dir, SPEC);
      await using server = await WebSeedServer.start(base.savePath);
      const fx = await withUrls(base, { webSeeds: [server.url] });
      await using leecher = await openIsolated();
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl"), paused: true });
      const events = t.events();
      t.removeWebSeed(server.url);
      assert.deepEqual(t.webSeeds(), []);
      t.resume();
      await waitForType(events, "torrent_resumed", t);
      // Absence over a window: nothing may reach the removed web seed.
      await observeWindow(1_500);
      assert.equal(server.requests.length, 0, "a removed web seed was contacted");
      assert.equal(t.status().totalDone, 0);
      assert.ok(!existsSync(dir.join("dl", fx.name, "a.bin")) || t.status().numPieces === 0);

      t.addWebSeed(server.url);
      assert.deepEqual(t.webSeeds(), [server.url]);
      await waitForType(events, "torrent_finished", t);
      await t.flushCache(); // torrent_finished may precede the last writes
      assertSameTree(fx.dataDir, dir.join("dl", fx.name));
      assert.ok(server.requests.length > 0);
    },
  );
});
