// FFI lifetime at volume (tests/gc.test.ts covers the same ground in small):
// 10,000 torrents added and removed, 100 sessions opened and closed, handles
// used after their torrent or session went away, torrents and event
// streams dropped without remove()/return() under GC pressure. No crash,
// a TorrentError with a stable code for every stale use, and RSS flat: the
// growth over the second half of each loop stays under a bound many times
// the noise measured here (a per-object leak would break it), printed.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { Session, Torrent } from "../../mod.ts";
import { forceGC, openIsolated, rejectsCode, TempDir, throwsCode } from "../_helpers.ts";
import { FULL, report, rss } from "./_faults.ts";

const MB = 1 << 20;

function settle(): number {
  forceGC();
  forceGC();
  return rss();
}

function hash(): string {
  return randomBytes(20).toString("hex");
}

describe("FFI lifetime", () => {
  test("10,000 torrents added and removed: stale handles throw TORRENT_REMOVED, the tables empty, RSS flat", {
    timeout: FULL ? 900_000 : 180_000,
  }, async () => {
    const N = FULL ? 50_000 : 10_000;
    const BATCH = 100;
    using dir = new TempDir();
    await using session = await openIsolated();
    const marks: number[] = [];
    let stale: Torrent | undefined;
    let staleUses = 0;
    for (let i = 0; i < N; i += BATCH) {
      const ts: Torrent[] = [];
      for (let j = 0; j < BATCH; j++) {
        ts.push(await session.add({ infoHash: hash(), savePath: dir.path, paused: true, name: `t${i + j}` }));
      }
      // A handle from the previous batch, its native slot now reused.
      if (stale) {
        throwsCode(() => stale!.status(), "TORRENT_REMOVED");
        throwsCode(() => stale!.resume(), "TORRENT_REMOVED");
        await rejectsCode(() => stale!.remove(), "TORRENT_REMOVED");
        staleUses += 3;
      }
      assert.equal(ts[BATCH - 1].status().name, `t${i + BATCH - 1}`, "a live handle answers for its own torrent");
      await Promise.all(ts.map((t) => t.remove()));
      stale = ts[(i / BATCH) % BATCH];
      if ((i / BATCH) % 10 === 9) marks.push(settle());
    }
    assert.equal(session.torrents().length, 0, "the session's table is empty");
    assert.equal(session.statusAll().length, 0, "the engine has no torrent left");
    const half = Math.floor(marks.length / 2);
    const first = marks[half] - marks[0], second = marks[marks.length - 1] - marks[half];
    report("torrents add/remove", {
      torrents: N,
      staleUses,
      rssStartMB: marks[0] / MB,
      firstHalfGrowthMB: first / MB,
      secondHalfGrowthMB: second / MB,
      gc: forceGC(),
    });
    // 10 KiB leaked per torrent would be ~50 MB over the second half.
    assert.ok(second < 32 * MB, `RSS grew ${(second / MB).toFixed(1)} MB over the second ${N / 2} torrents`);
  });

  test("100 sessions opened and closed, torrents and streams dropped unclosed: closed handles throw, RSS flat", {
    timeout: FULL ? 900_000 : 180_000,
  }, async () => {
    const N = FULL ? 400 : 100;
    using dir = new TempDir();
    const marks: number[] = [];
    const dead: { s: Session; t: Torrent }[] = [];
    let staleUses = 0;
    for (let i = 0; i < N; i++) {
      const s = await openIsolated();
      // Torrents and event streams dropped without remove() or return():
      // closing the session must free them.
      for (let j = 0; j < 20; j++) {
        const t = await s.add({ infoHash: hash(), savePath: dir.path, paused: j % 2 === 0 });
        t.events();
      }
      s.events();
      const kept = await s.add({ infoHash: hash(), savePath: dir.path, paused: true });
      await s.close();
      dead.push({ s, t: kept });
      if (dead.length > 5) {
        const { s: ds, t: dt } = dead.shift()!;
        throwsCode(() => dt.status(), "SESSION_CLOSED");
        throwsCode(() => dt.forceRecheck(), "SESSION_CLOSED");
        throwsCode(() => ds.statusAll(), "SESSION_CLOSED");
        await rejectsCode(() => ds.add({ infoHash: hash(), savePath: dir.path }), "SESSION_CLOSED");
        await rejectsCode(() => dt.saveResumeData(), "SESSION_CLOSED");
        assert.equal((await dt.events().next()).done, true, "a closed session's streams are over");
        staleUses += 6;
      }
      // Allocation churn between sessions.
      for (let k = 0; k < 200; k++) new Uint8Array(16384).fill(k);
      if (i % 10 === 9) marks.push(settle());
    }
    const half = Math.floor(marks.length / 2);
    const first = marks[half] - marks[0], second = marks[marks.length - 1] - marks[half];
    report("sessions open/close", {
      sessions: N,
      torrentsDropped: N * 20,
      staleUses,
      rssStartMB: marks[0] / MB,
      firstHalfGrowthMB: first / MB,
      secondHalfGrowthMB: second / MB,
      gc: forceGC(),
    });
    // A leaked engine (threads, buffers, caches) costs megabytes: 50 of them would be far above this.
    assert.ok(second < 48 * MB, `RSS grew ${(second / MB).toFixed(1)} MB over the second ${N / 2} sessions`);
  });
});
