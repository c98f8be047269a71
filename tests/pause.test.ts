// Pausing a torrent stops payload transfer; resuming completes it.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { TorrentEvent } from "../mod.ts";
import {
  assertSameTree,
  makeFixture,
  observeWindow,
  openIsolated,
  openSeeder,
  TempDir,
  THROTTLED_SEEDER,
  TIMEOUT,
  waitFor,
  waitForSeeding,
  waitForType,
} from "./_helpers.ts";

const SIZE = 640_000; // ~3 s at the seeder's 200 kB/s: long enough to pause mid-way
const WINDOW_MS = 1_500;

describe("pause and resume", () => {
  test(
    "Torrent.pause() stops payload transfer and resume() completes the download",
    { timeout: TIMEOUT.slow },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "big/payload.bin": SIZE, "small.bin": 4_097 }, {
        version: "hybrid",
        pieceSize: 16384,
      });
      await using seeder = await openSeeder(fx, THROTTLED_SEEDER);
      await using leecher = await openIsolated();
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("download") });
      const events = t.events();
      t.connectPeer("127.0.0.1", seeder.listenPort);

      // Mid-download: a few pieces in.
      let pieces = 0;
      await waitFor(events, (ev) => ev.type === "piece_finished" && ++pieces >= 3, "3 pieces");
      t.pause();
      await waitForType(events, "torrent_paused", t);

      const before = t.status();
      assert.equal(before.paused, true, "status().paused after torrent_paused");
      assert.equal(before.isFinished, false, "the download must still be incomplete, else this test proves nothing");
      assert.ok(before.totalDownload > 0, "some payload arrived before the pause");
      assert.ok(before.totalDownload < SIZE, `too much arrived before the pause: ${before.totalDownload}`);

      // No payload may move over the window. (Pieces whose blocks all came
      // in before the pause may still finish their hash check during it, so
      // the payload counter is the measure, not piece counts.)
      const during: TorrentEvent[] = [];
      const watcher = t.events({ types: ["torrent_finished", "torrent_resumed", "peer_connect"] });
      const watching = (async () => {
        for await (const ev of watcher) during.push(ev);
      })();
      await observeWindow(WINDOW_MS);
      await watcher.return();
      await watching;
      const after = t.status();
      assert.equal(after.totalDownload, before.totalDownload, "payload was downloaded while paused");
      assert.equal(after.paused, true);
      assert.equal(after.numPeers, 0, "a paused torrent keeps no peer connections");
      assert.deepEqual(during.map((ev) => ev.type), [], "a paused torrent connected, resumed or finished");

      t.resume();
      await waitForType(events, "torrent_resumed", t);
      assert.equal(t.status().paused, false);
      // The peer was dropped at the pause; reconnect it.
      t.connectPeer("127.0.0.1", seeder.listenPort);
      await waitForType(events, "torrent_finished", t);
      await waitForSeeding(events, t);
      const done = t.status();
      assert.ok(done.totalDownload > before.totalDownload, "the download went on after resume()");
      assert.equal(done.isFinished, true);
      await leecher.close(); // joins the disk threads: every byte is on disk
      assertSameTree(fx.dataDir, dir.join("download", fx.name));
    },
  );
});
