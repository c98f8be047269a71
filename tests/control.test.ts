// Torrent control over real loopback swarms: adding from a .torrent path or
// an info-hash alone, mode flags, moving storage mid-download, renaming,
// rechecking after on-disk corruption, clearing an error, queue order, and
// the error codes of bad input.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join, resolve } from "node:path";
import type { Torrent } from "../mod.ts";
import {
  addSeed,
  assertSameTree,
  listFiles,
  makeFixture,
  openIsolated,
  openSeeder,
  rejectsCode,
  TempDir,
  THROTTLED_SEEDER,
  throwsCode,
  TIMEOUT,
  waitFor,
  waitForType,
} from "./_helpers.ts";

const SPEC = { "a.bin": 150_001, "dir/b.bin": 70_003 };

describe("adding", () => {
  test(
    "add({ torrentFile }) reads a .torrent path; add({ infoHash }) with a v1 or a v2 hash alone completes via a peer",
    { timeout: TIMEOUT.transfer },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, SPEC, { version: "hybrid" });
      const file = dir.join("content.torrent");
      writeFileSync(file, fx.made.torrent);

      await using seeder = await openIsolated();
      const checked = seeder.events({ types: ["torrent_checked"] });
      const seed = await seeder.add({ torrentFile: file, savePath: fx.savePath });
      assert.deepEqual(seed.infoHash, fx.made.infoHash, "the same torrent as the bytes describe");
      await waitForType(checked, "torrent_checked", seed);
      assert.equal(seed.status().isSeeding, true, "the data under savePath verified as complete");

      const leechers = await Promise.all([openIsolated(), openIsolated()]);
      try {
        const hashes = [fx.made.infoHash.v1!, fx.made.infoHash.v2!];
        assert.equal(hashes[0].length, 40);
        assert.equal(hashes[1].length, 64);
        const runs = leechers.map(async (s, k) => {
          const t = await s.add({ infoHash: hashes[k], savePath: dir.join(`dl-${k}`) });
          const events = t.events({ types: ["metadata_received", "torrent_finished"] });
          assert.equal(t.status().hasMetadata, false);
          assert.equal(k === 0 ? t.infoHash.v1 : t.infoHash.v2, hashes[k]);
          t.connectPeer("127.0.0.1", seeder.listenPort);
          await waitForType(events, "metadata_received", t);
          await waitForType(events, "torrent_finished", t);
          await t.flushCache();
          assert.equal(t.status().name, fx.name, "the name came with the metadata");
          assertSameTree(fx.dataDir, dir.join(`dl-${k}`, fx.name));
        });
        await Promise.all(runs);
      } finally {
        await Promise.all(leechers.map((s) => s.close()));
      }
    },
  );

  test(
    "add() rejects a missing or broken .torrent file and malformed info-hashes",
    { timeout: TIMEOUT.quick },
    async () => {
      using dir = new TempDir();
      await using session = await openIsolated();
      const save = dir.join("dl");
      await rejectsCode(() => session.add({ torrentFile: dir.join("nope.torrent"), savePath: save }), "PATH_NOT_FOUND");
      writeFileSync(dir.join("junk.torrent"), randomBytes(300));
      await rejectsCode(
        () => session.add({ torrentFile: dir.join("junk.torrent"), savePath: save }),
        "INVALID_TORRENT",
      );
      await rejectsCode(() => session.add({ torrentFile: dir.path, savePath: save }), "PATH_NOT_FOUND", "a directory");
      await rejectsCode(() => session.add({ torrentFile: "", savePath: save }), "INVALID_ARGUMENT");
      for (const bad of ["xyz", "a".repeat(39), "a".repeat(41), "g".repeat(40), "a".repeat(63), ""]) {
        await rejectsCode(
          () => session.add({ infoHash: bad, savePath: save }),
          "INVALID_ARGUMENT",
          `infoHash "${bad}"`,
        );
      }
      await rejectsCode(() => session.add({ infoHash: {}, savePath: save }), "INVALID_ARGUMENT", "infoHash {}");
      await rejectsCode(
        () => session.add({ infoHash: "0".repeat(40), savePath: save }),
        "INVALID_ARGUMENT",
        "zero hash",
      );
      await rejectsCode(
        () =>
          session.add({ infoHash: "a".repeat(40), magnet: `magnet:?xt=urn:btih:${"a".repeat(40)}`, savePath: save }),
        "INVALID_ARGUMENT",
        "two sources",
      );
      await rejectsCode(() => session.add({ infoHash: "b".repeat(40) }), "INVALID_ARGUMENT", "no savePath");
      await rejectsCode(
        () => session.add({ infoHash: "b".repeat(40), savePath: save, sequential: "yes" as never }),
        "INVALID_ARGUMENT",
        "non-boolean flag",
      );
      const both = await session.add({ infoHash: { v1: "c".repeat(40), v2: "d".repeat(64) }, savePath: save });
      assert.deepEqual(both.infoHash, { v1: "c".repeat(40), v2: "d".repeat(64) });
      await rejectsCode(() => session.add({ infoHash: "C".repeat(40), savePath: save }), "DUPLICATE_TORRENT");
    },
  );
});

describe("flags", () => {
  test("add-time mode flags show in flags(); setFlags() sets and clears them", { timeout: TIMEOUT.quick }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, SPEC, { version: "v1" });
    await using session = await openIsolated();
    const t = await session.add({
      torrent: fx.made.torrent,
      savePath: fx.savePath, // seed mode needs the files present
      paused: true,
      sequential: true,
      autoManaged: false,
      uploadMode: true,
      shareMode: true,
      superSeeding: true,
      disableDht: true,
      disablePex: true,
      disableLsd: true,
      seedMode: true,
      applyIpFilter: true,
    });
    assert.deepEqual(t.flags(), {
      seedMode: true,
      uploadMode: true,
      shareMode: true,
      applyIpFilter: true,
      paused: true,
      autoManaged: false,
      superSeeding: true,
      sequential: true,
      stopWhenReady: false,
      disableDht: true,
      disableLsd: true,
      disablePex: true,
    });
    t.setFlags({ sequential: false, uploadMode: false, shareMode: false, seedMode: false, disablePex: false });
    const f = t.flags();
    assert.deepEqual(
      [f.sequential, f.uploadMode, f.shareMode, f.seedMode, f.disablePex, f.disableDht, f.superSeeding],
      [false, false, false, false, false, true, true],
      "only the named flags changed",
    );
    assert.equal(t.status().sequential, false, "status() agrees");
    t.setFlags({ autoManaged: true, sequential: true, superSeeding: false });
    assert.equal(t.flags().autoManaged, true);
    assert.equal(t.flags().sequential, true);
    assert.equal(t.flags().superSeeding, false);
    t.setFlags({});

    throwsCode(() => t.setFlags({ seedMode: true as false }), "INVALID_ARGUMENT", "seedMode: true after add");
    throwsCode(() => t.setFlags({ paused: true } as never), "INVALID_ARGUMENT", "paused is pause()/resume()");
    throwsCode(() => t.setFlags({ bogus: true } as never), "INVALID_ARGUMENT", "unknown flag");
    throwsCode(() => t.setFlags({ sequential: 1 } as never), "INVALID_ARGUMENT", "not a boolean");
    throwsCode(() => t.setFlags(null as never), "INVALID_ARGUMENT", "null");
  });

  test(
    "stopWhenReady: a torrent added with it stops by itself once checked",
    { timeout: TIMEOUT.quick },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, SPEC, { version: "v1" });
      await using session = await openIsolated();
      const events = session.events({ types: ["torrent_paused", "torrent_checked"] });
      // (The flag may fire before add() returns: the check of a small torrent is quick.)
      const t = await session.add({ torrent: fx.made.torrent, savePath: fx.savePath, stopWhenReady: true });
      await waitForType(events, "torrent_checked", t);
      await waitForType(events, "torrent_paused", t);
      const f = t.flags();
      assert.equal(f.paused, true, "stopped once ready");
      assert.equal(f.autoManaged, false);
      assert.equal(f.stopWhenReady, false, "the flag clears when it fires");
      assert.equal(t.status().isSeeding, true);
    },
  );
});

describe("storage", () => {
  test(
    "moveStorage() mid-download: the download completes at the new place and the old one holds no data",
    { timeout: TIMEOUT.slow },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "big.bin": 640_000, "small.bin": 4_097 }, { version: "hybrid" });
      await using seeder = await openSeeder(fx, THROTTLED_SEEDER);
      await using leecher = await openIsolated();
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("old") });
      const events = t.events({ types: ["piece_finished", "torrent_finished"] });
      t.connectPeer("127.0.0.1", seeder.listenPort);
      let pieces = 0;
      await waitFor(events, (ev) => ev.type === "piece_finished" && ++pieces >= 3, "3 pieces");

      const moved = await t.moveStorage(dir.join("new"));
      assert.equal(moved, resolve(dir.join("new")));
      const mid = t.status();
      assert.equal(mid.isFinished, false, "the move must happen mid-download, else this proves nothing");
      assert.equal(mid.savePath, resolve(dir.join("new")));
      seeder.applySettings({ upload_rate_limit: 0 }); // the rest may go fast

      await waitForType(events, "torrent_finished", t);
      await t.flushCache();
      assertSameTree(fx.dataDir, dir.join("new", fx.name));
      const left = existsSync(dir.join("old")) ? listFiles(dir.join("old")) : [];
      assert.deepEqual(left, [], "files were left at the old place");

      // Rename a file of the finished torrent.
      const big = 0; // hybrid torrents list files in path order: big.bin first
      assert.equal(await t.renameFile(big, "renamed/big.bin"), "renamed/big.bin");
      const renamed = join(dir.join("new"), "renamed", "big.bin");
      assert.ok(readFileSync(join(fx.dataDir, "big.bin")).equals(readFileSync(renamed)), "renamed file's bytes");
      assert.equal(existsSync(join(dir.join("new", fx.name), "big.bin")), false, "the old name is gone");

      // A rename the file system refuses rejects with ENGINE.
      writeFileSync(dir.join("blocker"), "x");
      await rejectsCode(() => t.renameFile(big, join(dir.join("blocker"), "x.bin")), "ENGINE", "rename under a file");
    },
  );

  test(
    'moveStorage() with policy "fail" rejects when a file exists there, and "keep" adopts it',
    { timeout: TIMEOUT.quick },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "x.bin": 40_000 }, { version: "v1" });
      await using session = await openIsolated();
      const t = await addSeed(session, { ...fx });
      const dest = dir.join("dest");
      mkdirSync(join(dest, fx.name), { recursive: true });
      writeFileSync(join(dest, fx.name, "x.bin"), "occupied");
      await rejectsCode(() => t.moveStorage(dest, { policy: "fail" }), "ENGINE", "policy fail");
      assert.equal(t.status().savePath, resolve(fx.savePath), "a failed move leaves the torrent where it was");
      assert.equal(readFileSync(join(dest, fx.name, "x.bin"), "utf8"), "occupied");
      assert.equal(await t.moveStorage(dest, { policy: "keep" }), resolve(dest));
      assert.equal(readFileSync(join(dest, fx.name, "x.bin"), "utf8"), "occupied", "keep: the existing file stays");
      await rejectsCode(() => t.moveStorage(dest, { policy: "move" as never }), "INVALID_ARGUMENT");
      await rejectsCode(() => t.moveStorage(""), "INVALID_ARGUMENT");
    },
  );

  test(
    "forceRecheck() after a byte is corrupted on disk: that piece fails, is fetched again, and the bytes end equal",
    { timeout: TIMEOUT.transfer },
    async () => {
      using dir = new TempDir();
      const PIECE = 16384;
      const fx = await makeFixture(dir, { "data.bin": 200_000 }, { version: "v1", pieceSize: PIECE });
      await using seeder = await openSeeder(fx);
      await using leecher = await openIsolated();
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl") });
      const events = t.events({ types: ["torrent_finished", "torrent_checked", "piece_finished"] });
      t.connectPeer("127.0.0.1", seeder.listenPort);
      await waitForType(events, "torrent_finished", t);
      await t.flushCache();
      const count = t.status().pieceCount;
      assert.equal(t.status().numPieces, count);

      // Flip one byte of piece 5.
      const file = join(dir.join("dl"), fx.name, "data.bin");
      const offset = 5 * PIECE + 123;
      const fd = openSync(file, "r+");
      const b = new Uint8Array(1);
      readSync(fd, b, 0, 1, offset);
      b[0] ^= 0xff;
      writeSync(fd, b, 0, 1, offset);
      closeSync(fd);

      t.forceRecheck();
      await waitForType(events, "torrent_checked", t);
      const after = t.status();
      assert.equal(after.numPieces, count - 1, "exactly the corrupted piece failed the check");
      assert.equal(after.isFinished, false);

      t.connectPeer("127.0.0.1", seeder.listenPort);
      const refetched: number[] = [];
      await waitFor(events, (ev) => {
        if (ev.type === "piece_finished") refetched.push(ev.piece);
        return ev.type === "torrent_finished";
      }, "torrent_finished after the recheck");
      assert.deepEqual(refetched, [5], "only the corrupted piece was fetched again");
      await t.flushCache();
      assertSameTree(fx.dataDir, dir.join("dl", fx.name));
    },
  );

  test(
    "clearError(): a torrent stopped by a disk error runs again once the cause is gone",
    { timeout: TIMEOUT.transfer },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, SPEC, { version: "v1" });
      await using seeder = await openSeeder(fx);
      await using leecher = await openIsolated();
      // The save path's parent is a regular file: nothing can be created under it.
      writeFileSync(dir.join("blocker"), "x");
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: join(dir.join("blocker"), "dl") });
      const events = t.events({ types: ["torrent_error", "torrent_finished"] });
      const err = await waitForType(events, "torrent_error", t);
      assert.ok(err.error.length > 0);
      const st = t.status();
      assert.ok(st.error, "status().error is set");
      assert.equal(st.paused, true, "an error stops the torrent");

      rmSync(dir.join("blocker"));
      t.clearError();
      assert.equal(t.status().error, null);
      t.resume();
      t.connectPeer("127.0.0.1", seeder.listenPort);
      await waitForType(events, "torrent_finished", t);
      await t.flushCache();
      assertSameTree(fx.dataDir, join(dir.join("blocker"), "dl", fx.name));
    },
  );
});

describe("queue", () => {
  test("queue moves (set, up, down, top, bottom) show in queuePosition", { timeout: TIMEOUT.quick }, async () => {
    using dir = new TempDir();
    await using session = await openIsolated();
    const ts: Torrent[] = [];
    for (const c of "abcd") {
      ts.push(await session.add({ infoHash: c.repeat(40), savePath: dir.path, autoManaged: true, paused: true }));
    }
    const [a, b, c, d] = ts;
    const order = () => [...ts].sort((x, y) => x.queuePosition - y.queuePosition);
    assert.deepEqual(ts.map((t) => t.queuePosition), [0, 1, 2, 3], "the order they were added");
    assert.ok(ts.every((t) => t.flags().autoManaged));

    d.queueTop();
    assert.deepEqual(order(), [d, a, b, c]);
    d.queueBottom();
    assert.deepEqual(order(), [a, b, c, d]);
    a.queueDown();
    assert.deepEqual(order(), [b, a, c, d]);
    c.queueUp();
    assert.deepEqual(order(), [b, c, a, d]);
    d.setQueuePosition(1);
    assert.deepEqual(order(), [b, d, c, a]);
    b.setQueuePosition(100); // past the end: last
    assert.deepEqual(order(), [d, c, a, b]);
    assert.deepEqual(order().map((t) => t.queuePosition), [0, 1, 2, 3], "positions stay dense");
    b.queueDown(); // already last: no change
    d.queueUp(); // already first: no change
    assert.deepEqual(order(), [d, c, a, b]);
    assert.equal(ts.map((t) => t.status().queuePosition).join(), ts.map((t) => t.queuePosition).join());

    // A seeding torrent is not queued.
    const fx = await makeFixture(dir, { "x.bin": 20_000 });
    const seed = await addSeed(session, fx);
    assert.equal(seed.queuePosition, -1);

    throwsCode(() => a.setQueuePosition(-1), "INVALID_ARGUMENT");
    throwsCode(() => a.setQueuePosition(1.5), "INVALID_ARGUMENT");
    await a.remove();
    throwsCode(() => a.queuePosition, "TORRENT_REMOVED");
    throwsCode(() => a.queueUp(), "TORRENT_REMOVED");
    assert.deepEqual([d, c, b].map((t) => t.queuePosition), [0, 1, 2], "the queue closed the gap");
  });
});

describe("bad input", () => {
  test(
    "every control method fails with a stable code on bad input or a gone torrent",
    { timeout: TIMEOUT.quick },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, SPEC, { version: "v1" });
      const session = await openIsolated();
      const t = await session.add({ torrent: fx.made.torrent, savePath: dir.join("dl"), paused: true });
      const m = await session.add({ infoHash: "e".repeat(40), savePath: dir.join("m"), paused: true });
      const files = t.filePriorities().length;

      // Arguments.
      await rejectsCode(() => t.renameFile(files, "x"), "INVALID_ARGUMENT", "renameFile(out of range)");
      await rejectsCode(() => t.renameFile(-1, "x"), "INVALID_ARGUMENT", "renameFile(-1)");
      await rejectsCode(() => t.renameFile(0, ""), "INVALID_ARGUMENT", "renameFile(empty name)");
      await rejectsCode(() => t.moveStorage(5 as never), "INVALID_ARGUMENT", "moveStorage(number)");
      await rejectsCode(() => t.moveStorage("x", { policy: "merge" as never }), "INVALID_ARGUMENT");
      await rejectsCode(() => t.moveStorage("x", { bogus: 1 } as never), "INVALID_ARGUMENT");
      throwsCode(() => t.forceReannounce({ seconds: "1" as never }), "INVALID_ARGUMENT");
      throwsCode(() => t.forceReannounce({ extra: 1 } as never), "INVALID_ARGUMENT");
      throwsCode(() => t.setPieceDeadline(0, 10, { alertWhenAvailable: 1 as never }), "INVALID_ARGUMENT");
      throwsCode(() => (t.uploadLimit = -5), "INVALID_ARGUMENT");

      // No metadata yet.
      throwsCode(() => m.forceRecheck(), "NO_METADATA");
      await rejectsCode(() => m.renameFile(0, "x"), "NO_METADATA");
      await rejectsCode(() => m.flushCache(), "NO_METADATA");
      throwsCode(() => m.piecePriority(0), "NO_METADATA");
      // …but what needs none works.
      assert.equal(m.flags().paused, true);
      assert.deepEqual(m.trackers(), []);
      assert.deepEqual(m.webSeeds(), []);
      m.uploadLimit = 1000;
      assert.equal(m.uploadLimit, 1000);
      m.clearError();

      // Removed.
      await t.remove();
      const gone: [string, () => unknown][] = [
        ["forceRecheck", () => t.forceRecheck()],
        ["forceReannounce", () => t.forceReannounce()],
        ["scrape", () => t.scrape()],
        ["clearError", () => t.clearError()],
        ["flags", () => t.flags()],
        ["setFlags", () => t.setFlags({ sequential: true })],
        ["filePriority", () => t.filePriority(0)],
        ["piecePriority", () => t.piecePriority(0)],
        ["uploadLimit", () => t.uploadLimit],
        ["maxUploads=", () => (t.maxUploads = 1)],
        ["setPieceDeadline", () => t.setPieceDeadline(0, 1)],
        ["clearPieceDeadlines", () => t.clearPieceDeadlines()],
        ["queuePosition", () => t.queuePosition],
        ["queueTop", () => t.queueTop()],
        ["trackers", () => t.trackers()],
        ["addWebSeed", () => t.addWebSeed("http://127.0.0.1:1/")],
        ["needSaveResumeData", () => t.needSaveResumeData()],
      ];
      for (const [name, fn] of gone) throwsCode(fn, "TORRENT_REMOVED", name);
      await rejectsCode(() => t.moveStorage(dir.join("x")), "TORRENT_REMOVED");
      await rejectsCode(() => t.renameFile(0, "x"), "TORRENT_REMOVED");
      await rejectsCode(() => t.setFilePriority(0, 1), "TORRENT_REMOVED");
      await rejectsCode(() => t.flushCache(), "TORRENT_REMOVED");

      // Closed.
      await session.close();
      throwsCode(() => m.flags(), "SESSION_CLOSED");
      throwsCode(() => m.queueBottom(), "SESSION_CLOSED");
      throwsCode(() => m.downloadLimit, "SESSION_CLOSED");
      await rejectsCode(() => m.setFilePriorities([]), "SESSION_CLOSED");
      await rejectsCode(() => session.add({ infoHash: "f".repeat(40), savePath: dir.path }), "SESSION_CLOSED");
    },
  );
});
