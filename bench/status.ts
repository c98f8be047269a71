/**
 * Status bench: adding 10,000 torrents, one full status poll of all of them,
 * one torrent's status(), and memory per torrent — TorrentXT under Deno and
 * under Bun against python-libtorrent (bench/py/status.py), in one run.
 *
 *   deno run -A --config deno.json bench/status.ts [--count 10000] [--rounds 2]
 *       [--status-reps 1000] [--poll-reps 5]
 *
 * The orchestrator (this file) runs, --rounds times in turn, bench/py/status.py
 * and this file with `--child` under Deno and under Bun, each a fresh process
 * with one isolated session (127.0.0.1 only, DHT/LSD/UPnP/NAT-PMP off, no
 * bootstrap nodes), and prints the median of each figure per side.
 *
 * The child mirrors status.py step by step (same order, same counts):
 *  (d) RssAnon (KiB) after start-up, before any add.
 *  (a) session.addMany() of N magnet-style torrents (random v1 info-hashes
 *      generated beforehand; building each add option object and magnet URI
 *      is inside the timed part, as python builds its add_torrent_params),
 *      all paused and not auto-managed: one engine round trip for all
 *      (libtorrent's async_add_torrent each, then one barrier call). Python's
 *      anchor: async_add_torrent() each, timed until the N-th
 *      add_torrent_alert is popped. → µs per torrent.
 *  (d) RssAnon after the adds → KiB per torrent.
 *  (b) session.statusAll() of the N torrents, --poll-reps times, median and
 *      min in ms. Each returns N StatusRecord objects (the fields of
 *      TorrentStatus, read on access from the poll's buffers). It follows
 *      libtorrent's state updates (post_torrent_updates): the engine reports
 *      the torrents that changed since the last poll, the shim copies only
 *      those records into the reused buffers. Python: ses.get_torrent_status(
 *      lambda t: True), a list of N torrent_status objects (the engine
 *      queries every torrent each time). Goal: ≤ half python's.
 *  (c) torrent.status() of one torrent, --status-reps calls each timed
 *      alone, median (p10, p90) in µs. Python: handle.status().
 *  (a') session.add() of another N in a loop (one synchronous engine round
 *      trip each). Python: ses.add_torrent() each.
 * With --profile the child also splits a poll of its 2N torrents: the
 * native call alone (btx_session_status_poll into buffers of its own, only
 * what changed), the whole statusAll() (the JavaScript part is the rest:
 * the records, the buffer pool, the FFI call), and for comparison the old
 * full refresh (btx_session_status_all: libtorrent queries every torrent).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { type AddOptions, Session } from "../mod.ts";
import { ST } from "../src/_status.ts";

declare const Bun: unknown;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const flag = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const COUNT = Number(flag("--count", "10000"));
const STATUS_REPS = Number(flag("--status-reps", "1000"));
const POLL_REPS = Number(flag("--poll-reps", "5"));
const ROUNDS = Number(flag("--rounds", "2"));
const SETTLE_MS = Number(flag("--settle-ms", "50"));

function rssAnonKib(): number {
  const m = /^RssAnon:\s+(\d+)\s+kB/m.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) : NaN;
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
function gc(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun?.gc) g.Bun.gc(true);
  else g.gc?.();
}

async function child(): Promise<void> {
  const runtime = typeof Bun !== "undefined" ? "bun" : "deno";
  const tmp = mkdtempSync(join(tmpdir(), "btx-status-"));
  const session = await Session.open({ profile: "isolated", settings: { alert_queue_size: 4 * COUNT + 1000 } });
  const hexes: string[] = [];
  const seen = new Set<string>();
  while (hexes.length < 2 * COUNT) {
    const h = randomBytes(20).toString("hex");
    if (!seen.has(h)) {
      seen.add(h);
      hexes.push(h);
    }
  }
  const opts = (h: string): AddOptions => ({ magnet: `magnet:?xt=urn:btih:${h}`, savePath: tmp, paused: true });
  try {
    // Warm the paths once on a torrent outside the measured set (JIT, lazily loaded tables).
    const warm = await session.add(opts("f".repeat(40)));
    warm.status();
    session.statusAll();
    await warm.remove();
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    await new Promise((resolve) => setTimeout(resolve, 100));
    gc();
    const rssBefore = rssAnonKib();

    // (a) addMany
    let t0 = performance.now();
    let list: AddOptions[] | undefined = new Array(COUNT);
    for (let i = 0; i < COUNT; i++) list[i] = opts(hexes[i]);
    const torrents = await session.addMany(list);
    const addManyMs = performance.now() - t0;
    list = undefined; // python's params are gone once added, too
    // Garbage collected and given back: a turn, a collection, a pause for
    // the runtime's background sweeping, another collection.
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    await new Promise((resolve) => setTimeout(resolve, 100));
    gc();
    const rssAfter = rssAnonKib();

    // (b) full poll
    // Between polls the previous result is released, as python's `del st`
    // frees it at once: a JavaScript runtime needs a turn of the event loop
    // and a collection for that (outside the timed part). Without them
    // (back-to-back in one job) every poll writes into fresh memory.
    // The poll runs in a function of its own: a result held in a local of
    // this async function would stay reachable from its suspended frame
    // across the awaits below (V8 keeps the register), unlike python's.
    const polls: number[] = [], burst: number[] = [];
    let polled = 0;
    const pollOnce = (): number => {
      const t = performance.now();
      const all = session.statusAll();
      polls.push(performance.now() - t);
      return all.length;
    };
    for (let r = 0; r < POLL_REPS; r++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      gc();
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      polled = pollOnce();
    }
    for (let r = 0; r < POLL_REPS; r++) {
      t0 = performance.now();
      session.statusAll();
      burst.push(performance.now() - t0);
    }
    const rssAfterPoll = rssAnonKib();

    // (c) one status()
    const one = torrents[Math.floor(COUNT / 2)];
    const single: number[] = [];
    for (let r = 0; r < STATUS_REPS; r++) {
      t0 = performance.now();
      one.status();
      single.push(performance.now() - t0);
    }

    // (a') add() in a loop
    t0 = performance.now();
    for (let i = COUNT; i < 2 * COUNT; i++) await session.add(opts(hexes[i]));
    const addMs = performance.now() - t0;

    let profile: Record<string, number> | undefined;
    if (args.includes("--profile")) profile = await profilePoll(session);

    process.stdout.write(
      JSON.stringify({
        runtime,
        count: COUNT,
        async_add_us_per_torrent: round(addManyMs / COUNT * 1e3),
        sync_add_us_per_torrent: round(addMs / COUNT * 1e3),
        poll_all_ms_median: round(median(polls), 3),
        poll_all_ms_min: round(Math.min(...polls), 3),
        poll_burst_ms_median: round(median(burst), 3),
        polls_ms: polls.map((x) => round(x, 2)),
        burst_ms: burst.map((x) => round(x, 2)),
        poll_torrents: polled,
        one_status_us_median: round(median(single) * 1e3),
        one_status_us_p10: round(quantile(single, 0.1) * 1e3),
        one_status_us_p90: round(quantile(single, 0.9) * 1e3),
        rss_anon_kib_before: rssBefore,
        rss_anon_kib_after: rssAfter,
        rss_kib_per_torrent: round((rssAfter - rssBefore) / COUNT, 3),
        rss_anon_kib_after_poll: rssAfterPoll,
        profile,
      }) + "\n",
    );
  } finally {
    await session.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Splits a poll of the session's 2N torrents: the native call alone (engine
 * refresh + writing the records) against the whole statusAll().
 */
async function profilePoll(session: Session): Promise<Record<string, number>> {
  const { getNative } = await import("../src/_native.ts");
  const native = await getNative();
  // The session's handle is private; sessions are numbered from the handle
  // table, and this process has exactly one open: find it by asking.
  let handle = 0;
  const out = new Uint32Array(4);
  for (let h = 1; h < 1 << 12 && handle === 0; h++) {
    for (let gen = 1; gen < 8; gen++) {
      const id = (gen << 20) | h;
      if (native.sym.btx_session_listen_port(id, out) === 0 && out[0] === session.listenPort) {
        handle = id;
        break;
      }
    }
  }
  const n = session.torrents().length;
  const nums = new Float64Array(n * ST.COUNT + 1024);
  const strs = new Uint8Array(n * 256 + 4096);
  const io = new Uint32Array(8);
  // A first call fills these buffers (tag 0); the timed ones write only what changed since.
  if (native.sym.btx_session_status_poll(handle, nums, nums.length, strs, strs.length, io) !== 0) {
    throw new Error("btx_session_status_poll failed");
  }
  let tag = io[4];
  const nativeMs: number[] = [], totalMs: number[] = [], fullMs: number[] = [];
  for (let r = 0; r < 7; r++) {
    let t0 = performance.now();
    io[0] = tag;
    const rc = native.sym.btx_session_status_poll(handle, nums, nums.length, strs, strs.length, io);
    nativeMs.push(performance.now() - t0);
    if (rc !== 0) throw new Error(`btx_session_status_poll: ${rc}`);
    tag = io[4];
    // For comparison: libtorrent's status of every torrent, refreshed (the
    // pre-incremental way, into the same warm buffers).
    t0 = performance.now();
    native.sym.btx_session_status_all(handle, nums, nums.length, strs, strs.length, out);
    fullMs.push(performance.now() - t0);
    io[0] = 0;
    native.sym.btx_session_status_poll(handle, nums, nums.length, strs, strs.length, io);
    tag = io[4];
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc(); // the previous poll's buffers are free again, as in the timed polls
    t0 = performance.now();
    session.statusAll();
    totalMs.push(performance.now() - t0);
  }
  return {
    torrents: n,
    native_ms_median: round(median(nativeMs), 3),
    native_full_refresh_ms_median: round(median(fullMs), 3),
    status_all_ms_median: round(median(totalMs), 3),
    js_ms_median: round(median(totalMs) - median(nativeMs), 3),
  };
}

interface Result {
  [k: string]: unknown;
}

function runJson(cmd: string, argv: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, argv, {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "", stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => p.kill("SIGKILL"), 600_000);
    p.on("close", (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split("\n").reverse().find((l) => l.startsWith("{"));
      if (code !== 0 || !line) {
        reject(new Error(`${cmd} ${argv.join(" ")} exited ${code}\n${stderr.slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(line));
    });
  });
}

async function orchestrate(): Promise<void> {
  const common = ["--count", String(COUNT), "--status-reps", String(STATUS_REPS), "--poll-reps", String(POLL_REPS)];
  const self = join(ROOT, "bench/status.ts");
  const sides = {
    python: () => runJson("/usr/bin/python3", [join(ROOT, "bench/py/status.py"), ...common]),
    deno: () =>
      runJson(join(ROOT, "node_modules/.bin/deno"), [
        "run",
        "-A",
        "--v8-flags=--expose-gc",
        "--config",
        join(ROOT, "deno.json"),
        self,
        "--child",
        ...common,
        ...(args.includes("--profile") ? ["--profile"] : []),
      ]),
    bun: () =>
      runJson(join(ROOT, "node_modules/.bin/bun"), [
        self,
        "--child",
        ...common,
        ...(args.includes("--profile") ? ["--profile"] : []),
      ]),
  };
  const results: Record<keyof typeof sides, Result[]> = { python: [], deno: [], bun: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const side of Object.keys(sides) as (keyof typeof sides)[]) {
      const res = await sides[side]();
      results[side].push(res);
      process.stderr.write(`round ${r + 1} ${side}: ${JSON.stringify(res)}\n`);
    }
  }
  const med = (side: keyof typeof sides, key: string) => median(results[side].map((x) => Number(x[key])));
  const rows: [string, string, boolean][] = [
    // figure, key, lower is better
    ["add, batch (µs/torrent): addMany vs async_add_torrent", "async_add_us_per_torrent", true],
    ["add, one by one (µs/torrent): add() vs add_torrent()", "sync_add_us_per_torrent", true],
    [`full status poll of ${COUNT} (ms, median)`, "poll_all_ms_median", true],
    [`full status poll of ${COUNT} (ms, min)`, "poll_all_ms_min", true],
    ["one torrent's status() (µs, median)", "one_status_us_median", true],
    ["RssAnon per added torrent (KiB)", "rss_kib_per_torrent", true],
  ];
  const lines: string[] = [];
  lines.push(
    `status bench: ${COUNT} torrents, ${ROUNDS} round(s) per side (medians across rounds), load ${
      readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")
    }`,
  );
  lines.push(
    "figure".padEnd(56) + "python".padStart(10) + "deno".padStart(10) + "py/deno".padStart(9) +
      "bun".padStart(10) + "py/bun".padStart(9),
  );
  const summary: Record<string, unknown> = {};
  for (const [label, key] of rows) {
    const py = med("python", key), de = med("deno", key), bu = med("bun", key);
    summary[key] = { python: py, deno: de, bun: bu, ratio_deno: round(py / de), ratio_bun: round(py / bu) };
    lines.push(
      label.padEnd(56) + String(round(py)).padStart(10) + String(round(de)).padStart(10) +
        String(round(py / de)).padStart(9) + String(round(bu)).padStart(10) + String(round(py / bu)).padStart(9),
    );
  }
  lines.push("ratio = python / ours: above 1 means TorrentXT is faster (or smaller).");
  lines.push("goal: full poll ratio ≥ 2; every other ratio ≥ 1.");
  if (args.includes("--profile")) {
    for (const side of ["deno", "bun"] as const) {
      lines.push(`${side} poll split: ${results[side].map((r) => JSON.stringify(r.profile)).join(" ")}`);
    }
  }
  console.log(lines.join("\n"));
  console.log(JSON.stringify({ bench: "status", count: COUNT, rounds: ROUNDS, summary, raw: results }));
}

if (args.includes("--child")) await child();
else await orchestrate();
