// Removing torrents: with deleteFiles the data goes, without it the data stays.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync } from "node:fs";
import { join } from "node:path";
import {
  addSeed,
  assertSameTree,
  fileSize,
  listFiles,
  makeFixture,
  MULTI_FILE_TREE,
  openIsolated,
  openSeeder,
  TempDir,
  TIMEOUT,
  waitForSeeding,
  waitForType,
} from "./_helpers.ts";

describe("remove", () => {
  test("remove({ deleteFiles: true }) of a downloaded torrent deletes its files from disk", {
    timeout: TIMEOUT.transfer,
  }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, MULTI_FILE_TREE, { version: "v2", pieceSize: 16384 });
    await using seeder = await openSeeder(fx);
    await using leecher = await openIsolated();
    const events = leecher.events();
    const outDir = dir.join("download");
    const t = await leecher.add({ magnet: fx.made.magnet, savePath: outDir });
    t.connectPeer("127.0.0.1", seeder.listenPort);
    await waitForType(events, "torrent_finished", t);
    await waitForSeeding(events, t);
    const files = Object.keys(MULTI_FILE_TREE).map((rel) => join(outDir, fx.name, ...rel.split("/")));
    for (const f of files) assert.ok(existsSync(f), `${f} should exist before removal`);

    await t.remove({ deleteFiles: true });
    assert.equal(t.removed, true);
    assert.deepEqual(leecher.torrents(), []);
    for (const f of files) assert.equal(existsSync(f), false, `${f} still exists after remove({ deleteFiles: true })`);
    assert.deepEqual(existsSync(outDir) ? listFiles(outDir) : [], [], "no file of the torrent is left");
    // Only the removed torrent's files went: the seeder's copy is all there.
    for (const [rel, size] of Object.entries(MULTI_FILE_TREE)) {
      assert.equal(fileSize(join(fx.dataDir, ...rel.split("/"))), size, `seeder's ${rel}`);
    }
  });

  test("remove() without deleteFiles keeps the data, byte for byte", { timeout: TIMEOUT.quick }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, MULTI_FILE_TREE, { version: "hybrid", pieceSize: 16384 });
    using pristine = new TempDir();
    // A copy to compare with, made before the session touches anything.
    const copy = pristine.join("copy");
    cpSync(fx.dataDir, copy, { recursive: true });
    await using session = await openIsolated();
    const t = await addSeed(session, fx);
    const removed = session.events({ types: ["torrent_removed", "torrent_deleted"] });
    await t.remove();
    assert.equal(t.removed, true);
    assert.deepEqual(session.torrents(), []);
    assertSameTree(copy, fx.dataDir);
    // No deletion is under way: closing the session drains every pending
    // event, and none of them is torrent_deleted.
    await session.close();
    const seen: string[] = [];
    for await (const ev of removed) seen.push(ev.type);
    assert.equal(seen.includes("torrent_deleted"), false, `events after remove(): ${seen.join(" ")}`);
    assertSameTree(copy, fx.dataDir);
  });

  test(
    "remove({ deleteFiles: true }) of a seeding torrent deletes the seeded files",
    { timeout: TIMEOUT.quick },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "x.bin": 30_001, "y/z.bin": 12_345 }, { version: "v1", pieceSize: 16384 });
      await using session = await openIsolated();
      const t = await addSeed(session, fx);
      await t.remove({ deleteFiles: true });
      assert.equal(existsSync(join(fx.dataDir, "x.bin")), false);
      assert.equal(existsSync(join(fx.dataDir, "y", "z.bin")), false);
    },
  );
});
