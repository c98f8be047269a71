// File and piece priorities, per-torrent rate caps and connection limits,
// piece deadlines — over real loopback transfers.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { TorrentEvent } from "../mod.ts";
import { bdecode, type BDecoded } from "../src/bencode.ts";
import {
  assertSameTree,
  type Fixture,
  makeFixture,
  openIsolated,
  openSeeder,
  rejectsCode,
  TempDir,
  throwsCode,
  TIMEOUT,
  waitFor,
  waitForType,
} from "./_helpers.ts";
import { join } from "node:path";
import { readFileSync } from "node:fs";

/** The torrent's files in libtorrent's index order (pad files included), as "a/b" paths. */
function fileList(fx: Fixture): { path: string; length: number; pad: boolean }[] {
  const meta = bdecode(fx.made.torrent) as Record<string, BDecoded>;
  const info = meta.info as Record<string, BDecoded>;
  const dec = new TextDecoder();
  return (info.files as Record<string, BDecoded>[]).map((f) => ({
    path: (f.path as Uint8Array[]).map((p) => dec.decode(p)).join("/"),
    length: f.length as number,
    pad: f.attr instanceof Uint8Array && dec.decode(f.attr).includes("p"),
  }));
}

const SPEC = { "keep-1.bin": 100_003, "skip.bin": 150_001, "keep-2.bin": 60_001 };

describe("priorities", () => {
  test(
    "a file at priority 0 is not downloaded; the other files complete and torrent_finished fires",
    { timeout: TIMEOUT.transfer },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, SPEC, { version: "hybrid" });
      const files = fileList(fx);
      const skip = files.findIndex((f) => f.path === "skip.bin");
      assert.ok(skip >= 0, `skip.bin in ${JSON.stringify(files)}`);
      await using seeder = await openSeeder(fx);
      await using leecher = await openIsolated();
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl"), paused: true });
      const events = t.events({ types: ["file_completed", "torrent_finished"] });

      assert.equal(t.filePriorities().length, files.length, "one priority per file, pad files included");
      assert.ok(t.filePriorities().every((p) => p === 4), "default priority 4");
      await t.setFilePriority(skip, 0);
      assert.equal(t.filePriority(skip), 0);
      assert.equal(t.filePriorities()[skip], 0);

      t.resume();
      t.connectPeer("127.0.0.1", seeder.listenPort);
      const completed = new Set<number>();
      await waitFor(events, (ev) => {
        if (ev.type === "file_completed") completed.add(ev.file);
        return ev.type === "torrent_finished";
      }, "torrent_finished");
      await t.flushCache();

      const st = t.status();
      assert.equal(st.isFinished, true);
      assert.equal(st.isSeeding, false, "not every piece is had");
      assert.equal(st.progress, 1, "progress counts wanted bytes only");
      assert.ok(st.numPieces < st.pieceCount, `${st.numPieces} of ${st.pieceCount} pieces`);
      assert.ok(st.totalWanted <= st.totalSize - SPEC["skip.bin"], "the skipped file is not wanted");
      for (const [i, f] of files.entries()) {
        if (f.pad) continue;
        if (i === skip) assert.ok(!completed.has(i), "the skipped file completed");
        else assert.ok(completed.has(i), `file_completed for ${f.path}`);
      }
      const out = join(dir.join("dl"), fx.name);
      assert.equal(existsSync(join(out, "skip.bin")), false, "no byte of the skipped file is on disk");
      for (const name of ["keep-1.bin", "keep-2.bin"]) {
        assert.ok(readFileSync(join(fx.dataDir, name)).equals(readFileSync(join(out, name))), `${name} differs`);
      }
    },
  );

  test("file and piece priorities round-trip and are range-checked", { timeout: TIMEOUT.quick }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, SPEC, { version: "v1" });
    await using session = await openIsolated();
    const t = await session.add({ torrent: fx.made.torrent, savePath: dir.join("dl"), paused: true });
    const n = t.filePriorities().length;
    assert.equal(n, fileList(fx).length);
    const want = Array.from({ length: n }, (_, i) => ((i * 3) % 8) as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7);
    await t.setFilePriorities(want);
    assert.deepEqual(t.filePriorities(), want);
    for (let i = 0; i < n; i++) assert.equal(t.filePriority(i), want[i]);

    const pieces = t.status().pieceCount;
    assert.ok(pieces > 2);
    await t.setFilePriorities(Array(n).fill(4));
    t.setPiecePriority(0, 7);
    t.setPiecePriority(pieces - 1, 0);
    assert.equal(t.piecePriority(0), 7);
    assert.equal(t.piecePriority(pieces - 1), 0);
    assert.equal(t.piecePriority(1), 4);

    // Out of range: checked in the shim against the torrent's counts.
    throwsCode(() => t.filePriority(n), "INVALID_ARGUMENT", "filePriority(n)");
    await rejectsCode(() => t.setFilePriority(n, 1), "INVALID_ARGUMENT", "setFilePriority(n)");
    await rejectsCode(() => t.setFilePriority(0, 8 as never), "INVALID_ARGUMENT", "priority 8");
    await rejectsCode(() => t.setFilePriority(-1, 1), "INVALID_ARGUMENT", "index -1");
    await rejectsCode(() => t.setFilePriority(0.5, 1), "INVALID_ARGUMENT", "index 0.5");
    await rejectsCode(() => t.setFilePriorities(want.slice(1)), "INVALID_ARGUMENT", "one short");
    await rejectsCode(() => t.setFilePriorities([...want, 4]), "INVALID_ARGUMENT", "one long");
    await rejectsCode(() => t.setFilePriorities([9 as never, ...want.slice(1)]), "INVALID_ARGUMENT", "priority 9");
    throwsCode(() => t.piecePriority(pieces), "INVALID_ARGUMENT", "piecePriority(count)");
    throwsCode(() => t.setPiecePriority(pieces, 1), "INVALID_ARGUMENT", "setPiecePriority(count)");
    throwsCode(() => t.setPiecePriority(0, -1 as never), "INVALID_ARGUMENT", "priority -1");
    throwsCode(() => t.setPieceDeadline(pieces, 10), "INVALID_ARGUMENT", "setPieceDeadline(count)");
    throwsCode(() => t.setPieceDeadline(0, -5), "INVALID_ARGUMENT", "deadline -5");
    throwsCode(() => t.resetPieceDeadline(pieces), "INVALID_ARGUMENT", "resetPieceDeadline(count)");

    // Without metadata nothing can be checked: NO_METADATA, not a crash.
    const m = await session.add({ infoHash: "a".repeat(40), savePath: dir.join("m") });
    throwsCode(() => m.filePriorities(), "NO_METADATA");
    throwsCode(() => m.filePriority(0), "NO_METADATA");
    await rejectsCode(() => m.setFilePriority(0, 1), "NO_METADATA");
    await rejectsCode(() => m.setFilePriorities([1]), "NO_METADATA");
    throwsCode(() => m.piecePriority(0), "NO_METADATA");
    throwsCode(() => m.setPiecePriority(0, 1), "NO_METADATA");
    throwsCode(() => m.setPieceDeadline(0, 1), "NO_METADATA");
    throwsCode(() => m.resetPieceDeadline(0), "NO_METADATA");
    m.clearPieceDeadlines(); // nothing to clear; fine without metadata

    await t.remove();
    throwsCode(() => t.filePriorities(), "TORRENT_REMOVED");
    throwsCode(() => t.setPiecePriority(0, 1), "TORRENT_REMOVED");
    await session.close();
    throwsCode(() => m.filePriority(0), "SESSION_CLOSED");
  });

  test(
    "downloadLimit caps the download rate over a window; 0 lifts the cap",
    { timeout: TIMEOUT.slow },
    async () => {
      using dir = new TempDir();
      const PIECE = 16384;
      const fx = await makeFixture(dir, { "big.bin": 1_000_000 }, { version: "v1", pieceSize: PIECE });
      await using seeder = await openSeeder(fx);
      await using leecher = await openIsolated();
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl"), paused: true });
      const CAP = 150_000;
      t.downloadLimit = CAP;
      assert.equal(t.downloadLimit, CAP);
      const events = t.events({ types: ["piece_finished", "torrent_finished"] });
      t.resume();
      t.connectPeer("127.0.0.1", seeder.listenPort);

      // Window: from the 3rd piece to the 27th, timed by the events themselves.
      const times: number[] = [];
      await waitFor(events, (ev) => ev.type === "piece_finished" && times.push(performance.now()) >= 27, "27 pieces");
      const seconds = (times[26] - times[2]) / 1000;
      const bytes = 24 * PIECE;
      // libtorrent hands out bandwidth quota in ticks, so a window may hold up
      // to about a second's worth more than cap × duration; the events'
      // arrival (the clock here) can lag on a loaded machine by a fraction
      // more. Uncapped, loopback moves these 24 pieces in milliseconds.
      const allowed = CAP * (seconds + 1.5);
      assert.ok(
        bytes <= allowed,
        `${bytes} bytes in ${seconds.toFixed(2)} s (${Math.round(bytes / seconds)} B/s) exceeds the cap of ${CAP} B/s`,
      );
      assert.equal(t.status().isFinished, false, "the cap must still be holding the download back");

      t.downloadLimit = 0;
      assert.equal(t.downloadLimit, 0);
      await waitForType(events, "torrent_finished", t);
      await t.flushCache();
      assertSameTree(fx.dataDir, dir.join("dl", fx.name));
    },
  );

  test("upload / download caps, maxConnections and maxUploads round-trip", { timeout: TIMEOUT.quick }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "x.bin": 40_000 });
    await using session = await openIsolated();
    const t = await session.add({ torrent: fx.made.torrent, savePath: dir.join("dl"), paused: true });
    assert.deepEqual([t.uploadLimit, t.downloadLimit, t.maxConnections, t.maxUploads], [0, 0, 0, 0], "unlimited");
    t.uploadLimit = 12_345;
    t.downloadLimit = 54_321;
    t.maxConnections = 7;
    t.maxUploads = 3;
    assert.deepEqual([t.uploadLimit, t.downloadLimit, t.maxConnections, t.maxUploads], [12_345, 54_321, 7, 3]);
    t.uploadLimit = 0;
    t.maxConnections = 0;
    assert.equal(t.uploadLimit, 0);
    assert.equal(t.maxConnections, 0);
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 31, "10" as unknown as number]) {
      throwsCode(() => (t.downloadLimit = bad), "INVALID_ARGUMENT", `downloadLimit = ${bad}`);
      throwsCode(() => (t.maxUploads = bad), "INVALID_ARGUMENT", `maxUploads = ${bad}`);
    }
    throwsCode(() => (t.maxConnections = 1 << 24), "INVALID_ARGUMENT", "maxConnections 2^24");
    assert.equal(t.downloadLimit, 54_321, "a rejected value changes nothing");
  });

  test(
    "setPieceDeadline with alertWhenAvailable yields read_piece for that piece",
    { timeout: TIMEOUT.transfer },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "big.bin": 400_000 }, { version: "v1", pieceSize: 16384 });
      await using seeder = await openSeeder(fx);
      await using leecher = await openIsolated();
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl"), paused: true });
      const last = t.status().pieceCount - 1;
      t.setPieceDeadline(last, 0, { alertWhenAvailable: true });
      t.setPieceDeadline(1, 1000);
      t.resetPieceDeadline(1);
      const events = t.events({ types: ["read_piece", "torrent_finished"] });
      t.resume();
      t.connectPeer("127.0.0.1", seeder.listenPort);
      const ev = await waitFor<Extract<TorrentEvent, { type: "read_piece" }>>(
        events,
        (e) => e.type === "read_piece",
        "read_piece",
      );
      assert.equal(ev.piece, last);
      assert.equal(ev.size, 400_000 - last * 16384, "the last piece's size");
      assert.equal(ev.error, "");
      t.clearPieceDeadlines();
      await waitForType(events, "torrent_finished", t);
    },
  );
});
