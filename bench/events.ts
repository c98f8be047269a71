/**
 * Events bench: how fast libtorrent's alerts reach `for await`, what an idle
 * session costs, and how many alerts per second TorrentXT drains into typed
 * event objects — under Deno and under Bun, against python-libtorrent in the
 * same run.
 *
 *   deno run -A --config deno.json bench/events.ts [--n 2000] [--count 1000000]
 *       [--torrents 1000] [--batch-rounds 40] [--idle-seconds 10] [--tp-rounds 3]
 *
 * The orchestrator (this file, under Deno) runs each part as child processes:
 * this same file with `--child latency|idle|throughput` under Deno and under
 * Bun, and the python anchors. Every session is isolated (127.0.0.1 only).
 *
 * 1. Latency, alert posted → `for await`. A paused magnet torrent (no
 *    trackers, so nothing touches the network) is resumed and paused in
 *    turn; each sample runs from just before torrent.resume()/pause() to the
 *    torrent_resumed / torrent_paused event arriving in `for await`. That
 *    includes libtorrent's hop to its network thread (the call is posted
 *    there; the alert is posted from there), the shim's notify, the wake of
 *    the waiting thread, the drain and the async iteration. Back-to-back
 *    samples (N, after 100 warm-up) and "after idle" samples (a 5 ms sleep
 *    before each, so the waiter is asleep). Anchor (inline python, same
 *    run): the same round trip with handle.pause()/resume() +
 *    ses.wait_for_alert() + pop_alerts(). Goal: p50 ≤ 1 ms.
 * 2. Idle CPU: a process that opens one isolated session and sleeps; user +
 *    system CPU (process.cpuUsage(), every thread) over --idle-seconds, after
 *    a 1 s settle. Also the bare runtime without a session, and a python-
 *    libtorrent session (anchor). All run at the same time. Goal ≈ 0.
 * 3. Throughput, alerts drained into typed events, per second. The alerts
 *    are generated exactly as bench/py/events.py does (see its header): one
 *    session with alert_mask = error|status (65) and a large
 *    alert_queue_size, T magnet torrents added paused (3 alerts each:
 *    add_torrent, torrent_added, state_changed), then rounds of resume() +
 *    pause() on every torrent (torrent_resumed + torrent_paused), in cycles
 *    of K rounds. Each cycle: generate synchronously, barrier (one
 *    synchronous torrent.status(), so the network thread has posted
 *    everything), then the TIMED part: from the end of the barrier until
 *    the consumer — a `for await (const ev of session.events())` loop — has
 *    received the cycle's last event. That covers the wake of the waiter,
 *    btx_session_drain (pop_alerts + encoding each alert, message() text
 *    included), decoding every record into a typed event object, the fan-
 *    out and one async-iterator step per event (the consumer reads ev.type,
 *    ev.message and ev.torrent). Python times pop_alerts() + type(a),
 *    a.what(), a.message(), a.category() per alert. The same --count,
 *    --torrents and --batch-rounds go to both. Goal: ratio ≥ 1.0.
 *
 * @module
 */
import process from "node:process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Session, type Torrent, type TorrentEvent } from "../mod.ts";
import { PYTHON, ROOT, runJson, tsCommand } from "./_proc.ts";
import { cpuSeconds, emit, flag, fmt, median, percentile, rssAnonKib, runtimeName, table } from "./_util.ts";

const args = process.argv.slice(2);
const child = flag(args, "--child", "");
const N = Number(flag(args, "--n", "2000"));
const COUNT = Number(flag(args, "--count", "1000000"));
const TORRENTS = Number(flag(args, "--torrents", "1000"));
const BATCH_ROUNDS = Number(flag(args, "--batch-rounds", "40"));
const IDLE_SECONDS = Number(flag(args, "--idle-seconds", "10"));
const TP_ROUNDS = Math.max(1, Number(flag(args, "--tp-rounds", "3")));
const IDLE_GAP_MS = 5;
const IDLE_SAMPLES = 300;
const WARMUP = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(s + "\n");

function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function stats(xs: number[]) {
  return {
    n: xs.length,
    p50: percentile(xs, 50),
    p90: percentile(xs, 90),
    p99: percentile(xs, 99),
    max: Math.max(...xs),
    mean: xs.reduce((a, b) => a + b, 0) / xs.length,
  };
}

// ---------------------------------------------------------------- children

/** Latency of pause()/resume() → event in `for await`, in ms. */
async function childLatency(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), "btx-lat-"));
  const session = await Session.open({ profile: "isolated" });
  try {
    const t = await session.add({ magnet: `magnet:?xt=urn:btih:${randomHex(20)}`, savePath: tmp, paused: true });
    const stream = session.events({ types: ["torrent_paused", "torrent_resumed"], torrent: t });
    await sleep(200); // let start-up settle
    let paused = true;
    const it = stream[Symbol.asyncIterator]();
    const once = async (): Promise<number> => {
      const want = paused ? "torrent_resumed" : "torrent_paused";
      const t0 = performance.now();
      if (paused) t.resume();
      else t.pause();
      for (;;) {
        const r = await it.next();
        if (r.done) throw new Error("stream ended");
        if (r.value.type === want) break;
      }
      paused = !paused;
      return performance.now() - t0;
    };
    for (let i = 0; i < WARMUP; i++) await once();
    const hot: number[] = [];
    for (let i = 0; i < N; i++) hot.push(await once());
    const idle: number[] = [];
    for (let i = 0; i < IDLE_SAMPLES; i++) {
      await sleep(IDLE_GAP_MS);
      idle.push(await once());
    }
    emit({ runtime: runtimeName(), back_to_back_ms: stats(hot), after_idle_ms: stats(idle) });
  } finally {
    await session.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** CPU of an idle process with (or without, --no-session) one isolated session. */
async function childIdle(): Promise<void> {
  const withSession = !args.includes("--no-session");
  const session = withSession ? await Session.open({ profile: "isolated" }) : undefined;
  let events = 0;
  if (session) {
    (async () => {
      for await (const _ev of session.events()) events++;
    })();
  }
  await sleep(1000); // settle: start-up alerts, JIT
  const c0 = cpuSeconds(), t0 = performance.now(), e0 = events;
  await sleep(IDLE_SECONDS * 1000);
  const cpu = cpuSeconds() - c0, wall = (performance.now() - t0) / 1000;
  emit({
    runtime: runtimeName(),
    session: withSession,
    wall_seconds: wall,
    cpu_seconds: cpu,
    cpu_percent: (100 * cpu) / wall,
    events: events - e0,
    rss_anon_kib: rssAnonKib(),
  });
  await session?.close();
  process.exit(0);
}

/** Alerts drained into typed events per second (mirrors bench/py/events.py). */
async function childThroughput(): Promise<void> {
  const T = TORRENTS, K = Math.max(1, BATCH_ROUNDS);
  const R = Math.max(0, Math.ceil((COUNT - 3 * T) / (2 * T)));
  const expected = 3 * T + 2 * R * T;
  const cycles = Math.max(1, Math.ceil(R / K));
  const tmp = mkdtempSync(join(tmpdir(), "btx-events-"));
  const session = await Session.open({
    profile: "isolated",
    // As events.py: DHT off, alert_mask = error | status, a queue big enough that nothing drops.
    settings: { enable_dht: false, alert_mask: 65, alert_queue_size: 2 * (3 * T + 2 * K * T) + 10000 },
  });
  try {
    await sleep(300); // start-up alerts are drained to nobody (events.py discards them)

    // The consumer: a plain for-await over every event of the session.
    const COUNTED = new Set(["add_torrent", "torrent_added", "state_changed", "torrent_resumed", "torrent_paused"]);
    const byType = new Map<string, number>();
    let got = 0, lost = 0, target = 0, tLast = 0, stalled = false;
    let reached: (() => void) | undefined;
    let checksum = 0;
    const consumer = (async () => {
      for await (const ev of session.events() as AsyncIterable<TorrentEvent>) {
        // Touch the typed fields, as python touches what()/message().
        checksum += ev.message.length + (ev.torrent ? 1 : 0);
        byType.set(ev.type, (byType.get(ev.type) ?? 0) + 1);
        if (ev.type === "events_dropped") {
          // This consumer's queue overflowed (TorrentXT's per-stream bound):
          // count the lost events so the cycle still ends.
          log(`throughput: ${ev.message}`);
          lost += ev.count;
        } else if (ev.type === "alerts_dropped") {
          // libtorrent's queue overflowed: the count is unknown; stop.
          log(`throughput: ${ev.message}`);
          tLast = performance.now();
          stalled = true;
          reached?.();
        }
        if (!COUNTED.has(ev.type) && ev.type !== "events_dropped") continue;
        if (ev.type !== "events_dropped") ++got;
        if (got + lost === target) {
          tLast = performance.now();
          reached?.();
        }
      }
    })();

    const torrents: Torrent[] = [];
    let seconds = 0, genSeconds = 0, roundsLeft = R;
    const cycleRates: number[] = [];
    for (let cyc = 0; cyc < cycles; cyc++) {
      const before = got + lost;
      const g0 = performance.now();
      let posted = 0;
      if (cyc === 0) {
        // session.add() is synchronous underneath; awaiting its settled promise
        // runs microtasks only, so no drain happens during generation.
        for (let i = 0; i < T; i++) {
          torrents.push(
            await session.add({ magnet: `magnet:?xt=urn:btih:${randomHex(20)}`, savePath: tmp, paused: true }),
          );
        }
        posted += 3 * T;
      }
      const k = Math.min(K, roundsLeft);
      roundsLeft -= k;
      for (let r = 0; r < k; r++) {
        for (const t of torrents) {
          t.resume();
          t.pause();
        }
      }
      posted += 2 * k * T;
      torrents[torrents.length - 1].status(); // barrier
      const t0 = performance.now();
      genSeconds += (t0 - g0) / 1000;
      if (got + lost !== before) {
        log(`warning: ${got + lost - before} events arrived during generation (counted in the timed part anyway)`);
      }
      target = before + posted;
      if (got + lost < target && !stalled) await new Promise<void>((r) => (reached = r));
      reached = undefined;
      if (stalled) {
        seconds += (tLast - t0) / 1000;
        break;
      }
      const s = (tLast - t0) / 1000;
      seconds += s;
      cycleRates.push((got + lost - before) / s);
    }
    const dropped = (byType.get("events_dropped") ?? 0) + (byType.get("alerts_dropped") ?? 0);
    const complete = got === expected && dropped === 0;
    if (!complete) log(`WARNING: received ${got} events, expected ${expected}, dropped markers ${dropped}`);
    emit({
      runtime: runtimeName(),
      alerts: got,
      lost_to_events_dropped: lost,
      seconds,
      alerts_per_sec: got / seconds,
      median_cycle_alerts_per_sec: median(cycleRates),
      complete,
      expected,
      torrents: T,
      rounds: R,
      cycles,
      gen_seconds: genSeconds,
      by_type: Object.fromEntries(byType),
      checksum,
    });
    await session.close();
    await consumer;
  } finally {
    await session.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ------------------------------------------------------- inline python anchors

// Anchors for parts 1 and 2 (bench/py has none): the same round trip and the
// same idle session in python-libtorrent, isolated like bench/py/common.py.
const PY_LATENCY = `
import sys, os, json, time, tempfile, binascii
sys.path.insert(0, ${JSON.stringify(join(ROOT, "bench/py"))})
import libtorrent as lt
from common import make_session
N, WARM, IDLE_N, GAP = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
ses = make_session(extra={"alert_mask": 65})  # error | status: torrent_paused/resumed are status alerts
tmp = tempfile.mkdtemp()
p = lt.parse_magnet_uri("magnet:?xt=urn:btih:" + binascii.hexlify(os.urandom(20)).decode())
p.save_path = tmp
p.flags = (p.flags | lt.torrent_flags.paused) & ~lt.torrent_flags.auto_managed
h = ses.add_torrent(p)
time.sleep(0.2); ses.pop_alerts()
paused = [True]
def once():
    want = lt.torrent_resumed_alert if paused[0] else lt.torrent_paused_alert
    t0 = time.perf_counter()
    h.resume() if paused[0] else h.pause()
    deadline = t0 + 5
    while True:
        ses.wait_for_alert(1000)
        if any(isinstance(a, want) for a in ses.pop_alerts()):
            break
        if time.perf_counter() > deadline:
            raise SystemExit("no %s within 5 s" % want.__name__)
    paused[0] = not paused[0]
    return (time.perf_counter() - t0) * 1000
for _ in range(WARM): once()
hot = [once() for _ in range(N)]
idle = []
for _ in range(IDLE_N):
    time.sleep(GAP / 1000); idle.append(once())
print(json.dumps({"runtime": "python", "back_to_back_ms": hot, "after_idle_ms": idle}))
`;

const PY_IDLE = `
import sys, json, time, resource
sys.path.insert(0, ${JSON.stringify(join(ROOT, "bench/py"))})
from common import make_session, cpu_seconds, rss_anon_kib
ses = make_session()
time.sleep(1.0); ses.pop_alerts()
c0, t0 = cpu_seconds(), time.perf_counter()
time.sleep(float(sys.argv[1]))
cpu, wall = cpu_seconds() - c0, time.perf_counter() - t0
print(json.dumps({"runtime": "python", "session": True, "wall_seconds": wall, "cpu_seconds": cpu,
                  "cpu_percent": 100 * cpu / wall, "rss_anon_kib": rss_anon_kib()}))
`;

// ---------------------------------------------------------------- orchestrator

type Row = Record<string, unknown>;

async function both(childArgs: string[], timeoutMs: number): Promise<{ deno: Row; bun: Row }> {
  const out: Record<string, Row> = {};
  for (const rt of ["deno", "bun"] as const) {
    const [cmd, a] = tsCommand(rt, "bench/events.ts", childArgs);
    out[rt] = await runJson(cmd, a, { timeoutMs });
  }
  return out as { deno: Row; bun: Row };
}

async function orchestrate(): Promise<void> {
  const common = ["--count", String(COUNT), "--torrents", String(TORRENTS), "--batch-rounds", String(BATCH_ROUNDS)];

  // 1. Latency.
  log(`events bench: latency (N=${N} back-to-back + ${IDLE_SAMPLES} after a ${IDLE_GAP_MS} ms sleep)…`);
  const lat = await both(["--child", "latency", "--n", String(N)], 120_000);
  const pyLatRaw = await runJson(PYTHON, [
    "-c",
    PY_LATENCY,
    String(N),
    String(WARMUP),
    String(IDLE_SAMPLES),
    String(IDLE_GAP_MS),
  ], {
    timeoutMs: 120_000,
  });
  const pyLat = {
    runtime: "python",
    back_to_back_ms: stats(pyLatRaw.back_to_back_ms as number[]),
    after_idle_ms: stats(pyLatRaw.after_idle_ms as number[]),
  };

  // 2. Idle CPU: all at once (they are idle).
  log(`events bench: idle CPU over ${IDLE_SECONDS} s…`);
  const idleRuns = await Promise.all([
    runJson(...tsCommand("deno", "bench/events.ts", ["--child", "idle", "--idle-seconds", String(IDLE_SECONDS)]), {
      timeoutMs: 60_000,
    }),
    runJson(...tsCommand("bun", "bench/events.ts", ["--child", "idle", "--idle-seconds", String(IDLE_SECONDS)]), {
      timeoutMs: 60_000,
    }),
    runJson(
      ...tsCommand("deno", "bench/events.ts", [
        "--child",
        "idle",
        "--no-session",
        "--idle-seconds",
        String(IDLE_SECONDS),
      ]),
      {
        timeoutMs: 60_000,
      },
    ),
    runJson(
      ...tsCommand("bun", "bench/events.ts", [
        "--child",
        "idle",
        "--no-session",
        "--idle-seconds",
        String(IDLE_SECONDS),
      ]),
      {
        timeoutMs: 60_000,
      },
    ),
    runJson(PYTHON, ["-c", PY_IDLE, String(IDLE_SECONDS)], { timeoutMs: 60_000 }),
  ]);
  const [idleDeno, idleBun, bareDeno, bareBun, idlePy] = idleRuns;

  // 3. Throughput: TP_ROUNDS interleaved rounds of deno, bun, python (order rotated).
  log(
    `events bench: throughput (${COUNT} alerts, ${TORRENTS} torrents, ${BATCH_ROUNDS} rounds per cycle, ` +
      `${TP_ROUNDS} rounds)…`,
  );
  type TpKind = "deno" | "bun" | "python";
  const tpKinds: TpKind[] = ["deno", "bun", "python"];
  const tpRuns: Record<TpKind, Row[]> = { deno: [], bun: [], python: [] };
  for (let r = 0; r < TP_ROUNDS; r++) {
    for (const k of tpKinds.map((_, i) => tpKinds[(i + r) % 3])) {
      const [cmd, a] = k === "python"
        ? [PYTHON, [join(ROOT, "bench/py/events.py"), ...common]]
        : tsCommand(k, "bench/events.ts", ["--child", "throughput", ...common]);
      const res = await runJson(cmd, a, { timeoutMs: 300_000 });
      tpRuns[k].push(res);
      log(
        `  round ${r + 1} ${k.padEnd(6)} ${fmt((res.alerts_per_sec as number) / 1e3, 0)} k alerts/s` +
          `${res.complete ? "" : "  INCOMPLETE"}`,
      );
    }
  }

  // Report.
  const L = (r: Row, k: string) => r[k] as ReturnType<typeof stats>;
  console.log("\n1. Latency: torrent.pause()/resume() call → torrent_paused/torrent_resumed event in `for await` (ms)");
  console.log("   (includes libtorrent's hop to its network thread and back; python: wait_for_alert + pop_alerts)\n");
  const latSources: [string, Row][] = [["deno", lat.deno], ["bun", lat.bun], ["python (anchor)", pyLat]];
  const cols = ["n", "p50", "p90", "p99", "max"] as const;
  const latRows = latSources.flatMap(([name, r]) => [
    [`${name} back-to-back`, ...cols.map((k) => fmt(L(r, "back_to_back_ms")[k], k === "n" ? 0 : 3))],
    [`${name} after ${IDLE_GAP_MS} ms idle`, ...cols.map((k) => fmt(L(r, "after_idle_ms")[k], k === "n" ? 0 : 3))],
  ]);
  console.log(table(["runtime", "n", "p50", "p90", "p99", "max"], latRows));
  const latGoal = (r: Row) => L(r, "back_to_back_ms").p50 <= 1 && L(r, "after_idle_ms").p50 <= 1;
  console.log(
    `   goal p50 ≤ 1 ms: deno ${latGoal(lat.deno) ? "met" : "MISSED"}, bun ${latGoal(lat.bun) ? "met" : "MISSED"}`,
  );

  console.log(`\n2. Idle CPU over ${IDLE_SECONDS} s (user+sys, all threads; process.cpuUsage / getrusage)\n`);
  const idleRow = (
    name: string,
    r: Row,
  ) => [name, fmt(r.cpu_seconds as number, 4), fmt(r.cpu_percent as number, 3), fmt((r.rss_anon_kib as number) / 1024)];
  console.log(
    table(["process", "CPU s", "CPU %", "RSS MiB"], [
      idleRow("deno + isolated session", idleDeno),
      idleRow("bun + isolated session", idleBun),
      idleRow("deno, no session (baseline)", bareDeno),
      idleRow("bun, no session (baseline)", bareBun),
      idleRow("python-libtorrent session (anchor)", idlePy),
    ]),
  );

  console.log(`\n3. Throughput: alerts drained into typed events per second (same alerts as bench/py/events.py)\n`);
  const medAps = (k: TpKind) => median(tpRuns[k].map((r) => r.alerts_per_sec as number));
  const aps = { deno: medAps("deno"), bun: medAps("bun"), python: medAps("python") };
  const complete = (k: TpKind) => tpRuns[k].every((r) => r.complete === true);
  const tpRow = (name: string, k: TpKind) => [
    name,
    String(tpRuns[k][0].alerts),
    complete(k) ? "yes" : "NO",
    ...tpRuns[k].map((r) => fmt((r.alerts_per_sec as number) / 1e3, 0)),
    fmt(aps[k] / 1e3, 0),
  ];
  console.log(
    table(
      ["consumer", "alerts", "complete", ...tpRuns.deno.map((_, i) => `r${i + 1} k/s`), "median k alerts/s"],
      [
        tpRow("TorrentXT / Deno (for await)", "deno"),
        tpRow("TorrentXT / Bun (for await)", "bun"),
        tpRow("python-libtorrent (pop_alerts)", "python"),
      ],
    ),
  );
  const ratio = { deno_python: aps.deno / aps.python, bun_python: aps.bun / aps.python };
  console.log(
    `\n   ratio Deno / python = ${fmt(ratio.deno_python, 3)}   Bun / python = ${
      fmt(ratio.bun_python, 3)
    }   (median alerts/s; goal ≥ 1.0)`,
  );

  console.log(
    JSON.stringify({
      bench: "events",
      latency_ms: {
        deno: { back_to_back: lat.deno.back_to_back_ms, after_idle: lat.deno.after_idle_ms },
        bun: { back_to_back: lat.bun.back_to_back_ms, after_idle: lat.bun.after_idle_ms },
        python: { back_to_back: pyLat.back_to_back_ms, after_idle: pyLat.after_idle_ms },
        goal: "p50 <= 1 ms",
      },
      idle_cpu: {
        seconds: IDLE_SECONDS,
        deno: idleDeno.cpu_seconds,
        bun: idleBun.cpu_seconds,
        deno_no_session: bareDeno.cpu_seconds,
        bun_no_session: bareBun.cpu_seconds,
        python: idlePy.cpu_seconds,
        goal: "≈ 0",
      },
      throughput: {
        alerts_per_sec: aps,
        complete: { deno: complete("deno"), bun: complete("bun"), python: complete("python") },
        alerts_per_round: tpRuns.deno[0].alerts,
        rounds_alerts_per_sec: {
          deno: tpRuns.deno.map((r) => r.alerts_per_sec),
          bun: tpRuns.bun.map((r) => r.alerts_per_sec),
          python: tpRuns.python.map((r) => r.alerts_per_sec),
        },
        ratio_deno_python: ratio.deno_python,
        ratio_bun_python: ratio.bun_python,
        goal: "ratio >= 1.0",
        count: COUNT,
        torrents: TORRENTS,
        batch_rounds: BATCH_ROUNDS,
        anchor: "bench/py/events.py",
      },
    }),
  );
}

if (child === "latency") await childLatency();
else if (child === "idle") await childIdle();
else if (child === "throughput") await childThroughput();
else if (child) throw new Error(`unknown --child ${child}`);
else await orchestrate();
