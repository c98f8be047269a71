// Load: one session, 10,000 torrents added and removed in overlapping
// rounds (about a thousand alive at a time, half of them running) while a
// consumer drains every event. Nothing leaks: the torrent tables end empty,
// every removal was seen, RSS stays bounded; and no event queue grows
// without bound: a stream nobody reads holds at most its maxQueued events
// plus one events_dropped marker. libtorrent's own alert queue overflowing
// shows as alerts_dropped events; how many is printed.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { Torrent, TorrentEvent } from "../../mod.ts";
import { forceGC, openIsolated, TempDir } from "../_helpers.ts";
import { FULL, report, rss } from "./_faults.ts";

const MB = 1 << 20;

describe("load", () => {
  test(
    "10,000 torrents churned through one session while events are drained: tables empty, RSS bounded, queues bounded",
    {
      timeout: FULL ? 900_000 : 180_000,
    },
    async () => {
      const N = FULL ? 50_000 : 10_000;
      const ROUND = 500;
      const SLOW_MAX = 1000;
      using dir = new TempDir();
      const session = await openIsolated();
      const queueSize = session.settings.get("alert_queue_size");
      const byType = new Map<string, number>();
      let removedSeen = 0, alertsDropped = 0, alertTypesDropped = 0;
      const droppedNames = new Set<string>();
      let allRemoved: () => void = () => {};
      const removedAll = new Promise<void>((r) => allRemoved = r);
      const all = session.events();
      const consumer = (async () => {
        for await (const ev of all) {
          byType.set(ev.type, (byType.get(ev.type) ?? 0) + 1);
          if (ev.type === "torrent_removed" && ++removedSeen === N) allRemoved();
          if (ev.type === "alerts_dropped") {
            alertsDropped++;
            alertTypesDropped += ev.types;
            for (const name of ev.dropped.split(",")) if (name) droppedNames.add(name);
          }
          if (ev.type === "events_dropped") throw new Error("the draining consumer lost events");
        }
      })();
      // A stream nobody reads until the end.
      const slow = session.events(undefined, { maxQueued: SLOW_MAX });

      const marks: number[] = [];
      let previous: Torrent[] = [];
      let added = 0;
      for (let round = 0; added < N; round++) {
        const list = Array.from({ length: Math.min(ROUND, N - added) }, (_, i) => ({
          infoHash: randomBytes(20).toString("hex"),
          savePath: dir.path,
          paused: i % 2 === 0,
          name: `r${round}-${i}`,
        }));
        // Add this round (every other one by addMany) while the previous round is removed.
        const adding = round % 2 === 0 ? session.addMany(list) : Promise.all(list.map((o) => session.add(o)));
        const [ts] = await Promise.all([adding, Promise.all(previous.map((t) => t.remove()))]);
        added += ts.length;
        assert.equal(session.torrents().length, ts.length, "the previous round is gone, this one is in");
        previous = ts;
        if (round % 2 === 1) {
          forceGC();
          marks.push(rss());
        }
      }
      await Promise.all(previous.map((t) => t.remove()));
      await removedAll;
      assert.equal(session.torrents().length, 0, "the session's table is empty");
      assert.equal(session.statusAll().length, 0, "the engine has no torrent left");
      assert.equal(removedSeen, N, "the consumer saw every removal");
      await session.close();
      await consumer;

      // The unread stream kept at most SLOW_MAX events and counted the rest.
      let kept = 0, dropped = 0;
      for await (const ev of slow as AsyncIterable<TorrentEvent>) {
        if (ev.type === "events_dropped") dropped += ev.count;
        else kept++;
      }
      const half = Math.floor(marks.length / 2);
      const first = marks[half] - marks[0], second = marks[marks.length - 1] - marks[half];
      report("load churn", {
        torrents: N,
        events: [...byType.values()].reduce((a, b) => a + b, 0),
        added: byType.get("add_torrent") ?? 0,
        removed: byType.get("torrent_removed") ?? 0,
        alertsDropped,
        alertTypesDropped,
        droppedTypes: [...droppedNames].join("+") || "-",
        alertQueueSize: queueSize,
        slowStreamKept: kept,
        slowStreamDropped: dropped,
        rssStartMB: marks[0] / MB,
        firstHalfGrowthMB: first / MB,
        secondHalfGrowthMB: second / MB,
        gc: forceGC(),
      });
      assert.ok(kept <= SLOW_MAX, `an unread stream queued ${kept} events (bound ${SLOW_MAX})`);
      assert.ok(dropped > 0, "the unread stream overflowed (else the bound was not tested)");
      assert.ok(second < 48 * MB, `RSS grew ${(second / MB).toFixed(1)} MB over the second ${N / 2} torrents`);
    },
  );

  test("10,000 torrents removed in one go: every remove() resolves, no torrent_removed is dropped", {
    timeout: FULL ? 900_000 : 120_000,
  }, async () => {
    // Before the session sized libtorrent's alert queue to its torrents,
    // this burst overflowed it (default 2000, x3 for torrent_removed): some
    // torrent_removed alerts were dropped and their remove() never resolved.
    const N = FULL ? 50_000 : 10_000;
    using dir = new TempDir();
    await using session = await openIsolated();
    const drops: string[] = [];
    const watch = session.events({ types: ["alerts_dropped"] });
    const watching = (async () => {
      for await (const ev of watch) if (ev.type === "alerts_dropped") drops.push(ev.dropped);
    })();
    const ts = await session.addMany(Array.from({ length: N }, () => ({
      infoHash: randomBytes(20).toString("hex"),
      savePath: dir.path,
      paused: true,
    })));
    const t0 = performance.now();
    await Promise.all(ts.map((t) => t.remove()));
    const ms = performance.now() - t0;
    const queueSize = session.settings.get("alert_queue_size");
    assert.equal(session.torrents().length, 0);
    assert.equal(session.statusAll().length, 0);
    await session.close();
    await watching;
    report("burst remove", {
      torrents: N,
      removeAllMs: Math.round(ms),
      alertQueueSize: queueSize,
      alertsDropped: drops.length ? drops.join(";") : 0,
    });
    assert.ok(!drops.some((d) => d.split(",").includes("torrent_removed")), `torrent_removed dropped: ${drops}`);
  });
});
