// Resume data: a finished torrent saved, its session closed, and the torrent
// added to a new session from the resume data alone comes back complete
// without downloading a byte and without re-checking its files.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  assertSameTree,
  makeFixture,
  MULTI_FILE_TREE,
  openIsolated,
  openSeeder,
  rejectsCode,
  TempDir,
  TIMEOUT,
  waitFor,
  waitForSeeding,
  waitForType,
} from "./_helpers.ts";

describe("resume data", () => {
  test("a finished torrent added back from its resume data is complete without downloading", {
    timeout: TIMEOUT.transfer,
  }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, MULTI_FILE_TREE, { version: "hybrid", pieceSize: 16384 });
    const total = Object.values(MULTI_FILE_TREE).reduce((a, b) => a + b, 0);
    const outDir = dir.join("download");
    let resume: Uint8Array;
    {
      await using seeder = await openSeeder(fx);
      const leecher = await openIsolated();
      try {
        const events = leecher.events();
        const t = await leecher.add({ magnet: fx.made.magnet, savePath: outDir });
        t.connectPeer("127.0.0.1", seeder.listenPort);
        await waitForType(events, "torrent_finished", t);
        await waitForSeeding(events, t);
        resume = await t.saveResumeData();
        assert.ok(resume instanceof Uint8Array && resume.length > 0, "resume data is bytes");
        assert.equal(String.fromCharCode(resume[0]), "d", "resume data is a bencoded dictionary");
        // A second save of the same state works too (no single-use state).
        assert.ok((await t.saveResumeData()).length > 0);
      } finally {
        await leecher.close();
      }
    }
    assertSameTree(fx.dataDir, `${outDir}/${fx.name}`);

    // A new session, no peers at all: nothing could be downloaded.
    await using session = await openIsolated();
    const events = session.events();
    const t = await session.add({ resume }); // savePath comes from the resume data
    const states: string[] = [];
    await waitFor(events, (ev) => {
      if (ev.torrent !== t) return false;
      if (ev.type === "state_changed") states.push(ev.state);
      if (ev.type === "torrent_error" || ev.type === "file_error" || ev.type === "fastresume_rejected") {
        throw new Error(`${ev.type}: ${ev.message}`);
      }
      return ev.type === "torrent_checked";
    }, "torrent_checked");
    assert.ok(!states.includes("checking_files"), `the files were re-checked: ${states.join(" ")}`);
    const st = t.status();
    assert.equal(st.hasMetadata, true, "the metadata came back with the resume data");
    assert.equal(st.name, fx.name);
    assert.equal(st.savePath, outDir);
    assert.equal(st.isFinished, true, `not finished: state ${st.state}, progress ${st.progress}`);
    assert.equal(st.progress, 1);
    assert.equal(st.totalWantedDone, total);
    assert.equal(st.numPeers, 0);
    assert.equal(st.totalDownload, 0, "downloaded in this session");
    assert.deepEqual(t.infoHash, fx.made.infoHash);
    // The same torrent cannot be added twice, resume data or not.
    await rejectsCode(() => session.add({ torrent: fx.made.torrent, savePath: outDir }), "DUPLICATE_TORRENT");
  });
});
