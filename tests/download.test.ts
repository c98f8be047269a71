// Loopback downloads of a multi-file torrent: v1, v2 and hybrid, each by
// magnet (metadata fetched from the peer) and by .torrent bytes. The
// downloaded tree is compared with the source byte for byte.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  addSeed,
  assertSameTree,
  listFiles,
  makeFixture,
  MULTI_FILE_TREE,
  openIsolated,
  openSeeder,
  rejectsCode,
  TempDir,
  TIMEOUT,
  waitFor,
  waitForSeeding,
} from "./_helpers.ts";

const VERSIONS = ["v1", "v2", "hybrid"] as const;
const SOURCES = ["magnet", "torrent"] as const;

describe("loopback download of a multi-file torrent", () => {
  for (const version of VERSIONS) {
    for (const source of SOURCES) {
      const how = source === "magnet" ? "by magnet (metadata from the peer)" : "by .torrent bytes";
      test(`a ${version} torrent added ${how} downloads byte-for-byte from a loopback seeder`, {
        timeout: TIMEOUT.transfer,
      }, async () => {
        using dir = new TempDir();
        const fx = await makeFixture(dir, MULTI_FILE_TREE, { version, pieceSize: 16384 });
        // The torrent made has exactly the info-hashes its version calls for.
        assert.equal(fx.made.infoHash.v1 !== undefined, version !== "v2", "v1 info-hash presence");
        assert.equal(fx.made.infoHash.v2 !== undefined, version !== "v1", "v2 info-hash presence");
        assert.ok(fx.made.magnet.startsWith("magnet:?"), fx.made.magnet);

        await using seeder = await openSeeder(fx);
        await using leecher = await openIsolated();
        const events = leecher.events();
        const outDir = dir.join("download");
        const t = await leecher.add(
          source === "magnet"
            ? { magnet: fx.made.magnet, savePath: outDir }
            : { torrent: fx.made.torrent, savePath: outDir },
        );
        if (source === "torrent") assert.ok(t.status().hasMetadata, "a torrent added by bytes has its metadata");
        t.connectPeer("127.0.0.1", seeder.listenPort);

        const seen = new Set<string>();
        await waitFor(events, (ev) => {
          if (ev.torrent !== t) return false;
          seen.add(ev.type);
          if (ev.type === "torrent_error" || ev.type === "file_error" || ev.type === "metadata_failed") {
            throw new Error(`${ev.type}: ${ev.message}`);
          }
          return ev.type === "torrent_finished";
        }, "torrent_finished");
        if (source === "magnet") assert.ok(seen.has("metadata_received"), "the metadata came from the seeder");
        // A finished download turns to seeding.
        await waitForSeeding(events, t);

        const st = t.status();
        assert.equal(st.isFinished, true);
        assert.equal(st.isSeeding, true);
        assert.equal(st.state, "seeding");
        assert.equal(st.progress, 1);
        assert.equal(st.hasMetadata, true);
        assert.equal(st.name, fx.name);
        const total = Object.values(MULTI_FILE_TREE).reduce((a, b) => a + b, 0);
        assert.equal(st.totalWanted, total, "totalWanted is the content's size");
        assert.equal(st.totalWantedDone, total);
        assert.ok(st.totalDownload >= total, `totalDownload ${st.totalDownload} < ${total}`);
        assert.ok(st.pieceCount > 1 && st.numPieces <= st.pieceCount);
        // A magnet torrent learns the same info-hashes as the torrent made.
        const ih = t.infoHash;
        if (fx.made.infoHash.v1) assert.equal(ih.v1, fx.made.infoHash.v1);
        if (fx.made.infoHash.v2) assert.equal(ih.v2, fx.made.infoHash.v2);

        // libtorrent reports a piece done once its hash passed, which can be
        // before its last blocks reach the file; closing the session joins
        // the disk threads, after which every byte is on disk.
        await leecher.close();
        assert.deepEqual(listFiles(outDir), listFiles(fx.savePath), "no extra files (pad files, parts) on disk");
        assertSameTree(fx.dataDir, `${outDir}/${fx.name}`);
      });
    }
  }

  // BEP 52 encodes a file tree holding one file as a single-file torrent, so
  // a v2-only torrent of a directory with one file would lose the directory
  // (libtorrent names it after the file and seeds nothing from the parent).
  // createTorrent refuses it; v1 and hybrid keep the directory.
  for (const version of VERSIONS) {
    test(
      `a ${version} torrent of a directory holding one file ${
        version === "v2" ? "is refused (INVALID_ARGUMENT)" : "seeds from the directory's parent"
      }`,
      {
        timeout: TIMEOUT.quick,
      },
      async () => {
        using dir = new TempDir();
        if (version === "v2") {
          await rejectsCode(
            () => makeFixture(dir, { "only.bin": 20_000 }, { version, pieceSize: 16384 }),
            "INVALID_ARGUMENT",
          );
          return;
        }
        const fx = await makeFixture(dir, { "only.bin": 20_000 }, { version, pieceSize: 16384 });
        await using session = await openIsolated();
        const t = await addSeed(session, fx); // asserts seeding after the check
        assert.equal(t.status().name, fx.name, "the torrent keeps the directory's name");
      },
    );
  }
});
