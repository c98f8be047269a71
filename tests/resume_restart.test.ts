// Resume data across a restart: nothing verified is downloaded again;
// saveAllResumeData() saves what changed; close({ saveResumeData }) hands
// every torrent's resume data over before the engine stops.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { Torrent } from "../mod.ts";
import {
  assertSameTree,
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

const SIZE = 640_000;
const PIECE = 16384;

describe("resume data", () => {
  test(
    "after a restart from resume data, no verified piece is downloaded again and the download completes",
    { timeout: TIMEOUT.slow },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "big.bin": SIZE, "small.bin": 4_097 }, {
        version: "hybrid",
        pieceSize: PIECE,
      });
      await using seeder = await openSeeder(fx, THROTTLED_SEEDER);
      const save = dir.join("dl");

      // First run: a few pieces, then pause and save.
      const had = new Set<number>();
      let resume: Uint8Array;
      let doneBefore: number;
      {
        const session = await openIsolated();
        try {
          const t = await session.add({ torrent: fx.made.torrent, savePath: save });
          const events = t.events({ types: ["piece_finished", "torrent_paused"] });
          t.connectPeer("127.0.0.1", seeder.listenPort);
          await waitFor(events, (ev) => ev.type === "piece_finished" && had.add(ev.piece).size >= 8, "8 pieces");
          t.pause();
          await waitFor(events, (ev) => {
            if (ev.type === "piece_finished") had.add(ev.piece); // in flight when pausing
            return ev.type === "torrent_paused";
          }, "torrent_paused");
          assert.equal(t.needSaveResumeData(), true, "pieces arrived since the add");
          resume = await t.saveResumeData();
          assert.equal(t.needSaveResumeData(), false, "saved");
          // A piece whose disk write was in flight at the pause can pass its
          // hash check after torrent_paused: its piece_finished is already
          // posted once status() counts it, so read on until every counted
          // piece has been announced.
          while (had.size < t.status().numPieces) {
            const r = await events.next();
            if (r.done) break;
            if (r.value.type === "piece_finished") had.add(r.value.piece);
          }
          const st = t.status();
          assert.equal(st.numPieces, had.size, "every piece had was announced by piece_finished");
          assert.equal(st.isFinished, false, "the first run must stop part-way, else this proves nothing");
          doneBefore = st.totalDone;
        } finally {
          await session.close();
        }
      }

      // Second run, a new engine: the resume data alone says what is had.
      seeder.applySettings({ upload_rate_limit: 0 });
      await using session = await openIsolated();
      const events = session.events({ types: ["piece_finished", "torrent_finished", "torrent_checked"] });
      const t = await session.add({ resume });
      await waitForType(events, "torrent_checked", t);
      const start = t.status();
      assert.equal(start.numPieces, had.size, "the restarted torrent has the pieces of the first run");
      assert.equal(start.totalDone, doneBefore);
      assert.equal(start.savePath.endsWith("dl"), true, "the save path came from the resume data");
      assert.equal(start.paused, false, "added running (paused only when asked)");
      t.connectPeer("127.0.0.1", seeder.listenPort);
      const again: number[] = [];
      const fetched: number[] = [];
      await waitFor(events, (ev) => {
        if (ev.type === "piece_finished" && ev.torrent === t) {
          fetched.push(ev.piece);
          if (had.has(ev.piece)) again.push(ev.piece);
        }
        return ev.type === "torrent_finished" && ev.torrent === t;
      }, "torrent_finished after the restart");
      assert.deepEqual(again, [], "pieces verified before the restart were downloaded again");
      const end = t.status();
      assert.equal(fetched.length, end.pieceCount - had.size, "exactly the missing pieces were fetched");
      const remaining = end.totalWanted - doneBefore;
      assert.ok(
        end.totalDownload <= remaining + 2 * PIECE,
        `downloaded ${end.totalDownload} bytes after the restart; only ${remaining} were missing`,
      );
      assert.ok(end.totalDownload >= remaining - 2 * PIECE, `downloaded ${end.totalDownload} of ${remaining} missing`);
      await t.flushCache();
      assertSameTree(fx.dataDir, dir.join("dl", fx.name));
    },
  );

  test(
    "saveAllResumeData() returns the torrents that changed since their last save (all with { all: true })",
    { timeout: TIMEOUT.quick },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "x.bin": 40_000, "y.bin": 30_000 }, { version: "v1" });
      await using session = await openIsolated();
      const a = await session.add({ torrent: fx.made.torrent, savePath: dir.join("a"), paused: true });
      const b = await session.add({ infoHash: "9".repeat(40), savePath: dir.join("b"), paused: true });

      const first = await session.saveAllResumeData();
      assert.deepEqual(new Set(first.map((r) => r.torrent)), new Set([a, b]), "new torrents need saving");
      for (const r of first) {
        assert.equal(r.error, undefined);
        assert.ok(r.resumeData && r.resumeData.length > 0);
      }
      assert.deepEqual(await session.saveAllResumeData(), [], "nothing changed since");

      await a.setFilePriority(0, 0);
      const second = await session.saveAllResumeData();
      assert.deepEqual(second.map((r) => r.torrent), [a], "only the changed torrent");

      const all = await session.saveAllResumeData({ all: true });
      assert.deepEqual(new Set(all.map((r) => r.torrent)), new Set([a, b]));

      // The saved data re-adds the torrent, priorities included, in another session.
      await using other = await openIsolated();
      const again = await other.add({ resume: second[0].resumeData!, paused: true });
      assert.deepEqual(again.infoHash, a.infoHash);
      assert.equal(again.filePriority(0), 0, "file priorities travel in resume data");

      await rejectsCode(() => session.saveAllResumeData({ every: true } as never), "INVALID_ARGUMENT");
    },
  );

  test(
    "close({ saveResumeData }) pauses, hands every torrent's resume data to the callback, then closes",
    { timeout: TIMEOUT.transfer },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "x.bin": 300_000 }, { version: "hybrid", pieceSize: PIECE });
      await using seeder = await openSeeder(fx, THROTTLED_SEEDER);
      const session = await openIsolated();
      const t = await session.add({ torrent: fx.made.torrent, savePath: dir.join("dl") });
      const m = await session.add({ infoHash: "7".repeat(40), savePath: dir.join("m"), paused: true });
      const events = t.events({ types: ["piece_finished"] });
      t.connectPeer("127.0.0.1", seeder.listenPort);
      let pieces = 0;
      await waitFor(events, (ev) => ev.type === "piece_finished" && ++pieces >= 3, "3 pieces");

      const saved = new Map<Torrent, Uint8Array>();
      let piecesAtSave = -1;
      const late: number[] = [];
      const after = session.events({ types: ["piece_finished", "save_resume_data"] });
      const watching = (async () => {
        let saved = false;
        for await (const ev of after) {
          if (ev.type === "save_resume_data" && ev.torrent === t) saved = true;
          if (ev.type === "piece_finished" && saved) late.push(ev.piece);
        }
      })();
      await session.close({
        saveResumeData: async (torrent, bytes) => {
          if (torrent === t) piecesAtSave = torrent.status().numPieces;
          await Promise.resolve(); // an async callback is awaited
          saved.set(torrent, bytes);
        },
      });
      assert.equal(session.closed, true);
      assert.deepEqual(new Set(saved.keys()), new Set([t, m]), "every torrent was handed over");
      assert.ok(piecesAtSave >= 3);
      await watching; // the stream ends with the session
      assert.deepEqual(late, [], "pieces completed after the resume data was taken");

      // Both come back in a new session; the download one has exactly what it had.
      await using next = await openIsolated();
      const checked = next.events({ types: ["torrent_checked"] });
      const t2 = await next.add({ resume: saved.get(t)! });
      const m2 = await next.add({ resume: saved.get(m)!, paused: true });
      assert.deepEqual(t2.infoHash, t.infoHash);
      assert.deepEqual(m2.infoHash, m.infoHash);
      await waitForType(checked, "torrent_checked", t2);
      assert.equal(t2.status().numPieces, piecesAtSave, "nothing downloaded before the save was lost");
      assert.equal(t2.status().paused, false, "the session-wide pause is not saved as the torrent's own");
    },
  );

  test(
    "close() still closes when a callback throws, then rejects with its error",
    { timeout: TIMEOUT.quick },
    async () => {
      using dir = new TempDir();
      const session = await openIsolated();
      const a = await session.add({ infoHash: "1".repeat(40), savePath: dir.path, paused: true });
      const b = await session.add({ infoHash: "2".repeat(40), savePath: dir.path, paused: true });
      const seen: Torrent[] = [];
      const err = await session.close({
        saveResumeData: (t) => {
          seen.push(t);
          if (t === a) throw new Error("disk full");
        },
      }).then(() => undefined, (e) => e);
      assert.ok(err instanceof Error && err.message === "disk full", `got ${err}`);
      assert.deepEqual(new Set(seen), new Set([a, b]), "the other torrent was still saved");
      assert.equal(session.closed, true);
      throwsCode(() => b.status(), "SESSION_CLOSED");
    },
  );

  test("resume data bad input gets stable codes", { timeout: TIMEOUT.quick }, async () => {
    using dir = new TempDir();
    const session = await openIsolated();
    await rejectsCode(() => session.add({ resume: randomBytes(64) }), "INVALID_RESUME");
    await rejectsCode(() => session.add({ resume: new Uint8Array() }), "INVALID_RESUME");
    await rejectsCode(() => session.close({ saveResumeData: 5 as never }), "INVALID_ARGUMENT");
    await rejectsCode(() => session.close({ onlyIfModified: "no" } as never), "INVALID_ARGUMENT");
    assert.equal(session.closed, false, "bad close() options close nothing");
    const t = await session.add({ infoHash: "3".repeat(40), savePath: dir.path, paused: true });
    await session.close();
    await rejectsCode(() => session.saveAllResumeData(), "SESSION_CLOSED");
    throwsCode(() => t.needSaveResumeData(), "SESSION_CLOSED");
  });
});
