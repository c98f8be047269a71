/**
 * Transfer bench: download speed, CPU and memory of TorrentXT under Deno and
 * under Bun, against python-libtorrent (bench/py/download.py) in the same run.
 *
 *   deno run -A --config deno.json bench/transfer.ts [--size 1GiB] [--rounds 3]
 *       [--piece 2MiB] [--seeder ts|py] [--transport tcp|utp|auto]
 *       [--tuning default|throughput] [--set name=value]… [--anchor python|webtorrent]
 *       [--downloaders deno,bun,python,webtorrent]
 *
 * --tuning and --set apply to TorrentXT's seeder and downloaders only (the
 * anchors keep their defaults). --anchor webtorrent adds (d) WebTorrent 3 on
 * node (bench/webtorrent/download.mjs; run bench/webtorrent/setup.sh first)
 * and prints a/d and b/d. --downloaders runs a subset (for experiments).
 *
 * 1. Writes one file of random-ish bytes (a 1 MiB random block, repeated,
 *    with a per-MiB header so no two pieces are alike) and a v1 torrent of it
 *    (createTorrent), all in a temp dir.
 * 2. Starts ONE seeder that lives for the whole run: TorrentXT under Deno
 *    (bench/_seeder.ts) by default, or bench/py/seed.py with --seeder py.
 * 3. Runs the downloaders interleaved, each round: (a) TorrentXT under Deno,
 *    (b) TorrentXT under Bun (both bench/_download.ts), (c) python-libtorrent
 *    (bench/py/download.py). Each is a fresh child process downloading into a
 *    fresh temp dir from the seeder at 127.0.0.1 (isolated sessions, DHT off,
 *    alert_mask error|status|connect, otherwise libtorrent's default settings
 *    on both sides, except the transport: --transport tcp (default) turns uTP
 *    off in the downloader, since libtorrent 2.0 tries uTP first for a
 *    connect_peer() address and uTP over loopback runs at ~10 MB/s here).
 *    The child times connect_peer → torrent_finished and reports CPU and
 *    RssAnon itself.
 * 4. The first download of each downloader is verified against the source
 *    (SHA-1 of the whole file, outside the timed part); every download is
 *    deleted before the next.
 *
 * Prints a table (per-round and median MB/s, CPU s, RSS MiB) and the ratios
 * a/c and b/c of the median MB/s — ≥ 1.0 means TorrentXT downloads at least
 * as fast as python-libtorrent on the same engine. Ends with one JSON line.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createTorrent } from "../mod.ts";
import { lastJson, PYTHON, ROOT, runJson, tsCommand } from "./_proc.ts";
import { flag, flags, fmt, median, parseSize, table } from "./_util.ts";

const args = process.argv.slice(2);
const size = parseSize(flag(args, "--size", "1GiB"));
const rounds = Math.max(1, Number(flag(args, "--rounds", "3")));
const pieceSize = parseSize(flag(args, "--piece", "2MiB"));
const seederKind = flag(args, "--seeder", "ts") as "ts" | "py";
const transport = flag(args, "--transport", "tcp") as "tcp" | "utp" | "auto";
const tuning = flag(args, "--tuning", "default") as "default" | "throughput";
const anchor = flag(args, "--anchor", "python") as "python" | "webtorrent";
if (anchor !== "python" && anchor !== "webtorrent") throw new Error(`--anchor python|webtorrent, not ${anchor}`);
if (anchor === "webtorrent" && transport !== "tcp") throw new Error("--anchor webtorrent: TCP only (no uTP module)");
// Passed to TorrentXT's seeder and downloaders (not to the anchors).
const tsExtra = [
  "--tuning",
  tuning,
  ...flags(args, "--set").flatMap((kv) => ["--set", kv]),
];
const FILE = "bench.bin";

type Kind = "deno" | "bun" | "python" | "webtorrent";
// --downloaders deno,python,…: a subset, for experiments (ratios need their two sides).
const KINDS: Kind[] = (anchor === "webtorrent" ? ["deno", "bun", "webtorrent", "python"] as Kind[] : [
  "deno",
  "bun",
  "python",
] as Kind[]).filter((k) => flag(args, "--downloaders", k).split(",").includes(k));
const LABEL: Record<Kind, string> = {
  deno: "(a) TorrentXT / Deno",
  bun: "(b) TorrentXT / Bun",
  python: "(c) python-libtorrent",
  webtorrent: "(d) WebTorrent / node",
};
const WEBTORRENT_DIR = join(ROOT, "bench/webtorrent");

/** One downloader's JSON line (bench/_download.ts and bench/py/download.py print the same keys). */
interface Result {
  bytes: number;
  /** peer_connect → torrent_finished. */
  seconds: number;
  /** connect_peer() call → torrent_finished (includes libtorrent's 0–0.5 s connect tick). */
  seconds_from_connect_peer: number;
  connect_wait_seconds: number;
  mbps: number;
  cpu_seconds: number;
  cpu_seconds_transfer: number;
  rss_anon_kib: number;
  socket?: string | null;
}

/** MB/s over peer_connect → torrent_finished (the headline figure, as download.py). */
const mbpsXfer = (r: Result) => r.bytes / 1e6 / r.seconds;
/** MB/s over connect_peer() → torrent_finished. */
const mbpsTotal = (r: Result) => r.bytes / 1e6 / r.seconds_from_connect_peer;

const log = (s: string) => process.stderr.write(s + "\n");

/** Writes `size` bytes of random-ish data; returns its SHA-1. */
function makeData(path: string, size: number): string {
  const block = new Uint8Array(1 << 20);
  for (let i = 0; i < block.length; i += 65536) crypto.getRandomValues(block.subarray(i, i + 65536));
  const view = new DataView(block.buffer);
  const h = createHash("sha1");
  const fd = openSync(path, "w");
  try {
    for (let off = 0, mib = 0; off < size; off += block.length, mib++) {
      // Per-MiB header: the index and a scrambled copy, so every piece differs.
      view.setUint32(0, mib, true);
      view.setUint32(4, Math.imul(mib ^ 0x9e3779b9, 0x85ebca6b) >>> 0, true);
      const chunk = block.subarray(0, Math.min(block.length, size - off));
      writeSync(fd, chunk);
      h.update(chunk);
    }
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

function sha1File(path: string): string {
  const h = createHash("sha1");
  const buf = new Uint8Array(8 << 20);
  const fd = openSync(path, "r");
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

interface Seeder {
  port: number;
  info: Record<string, unknown>;
  stop(): Promise<Record<string, unknown> | undefined>;
}

/** Starts the seeder; resolves once it prints its {"port":…} line. */
function startSeeder(torrentPath: string, dataDir: string): Promise<Seeder> {
  const [cmd, cargs] = seederKind === "py"
    ? [PYTHON, [join(ROOT, "bench/py/seed.py"), "--torrent", torrentPath, "--data", dataDir]]
    : tsCommand("deno", "bench/_seeder.ts", ["--torrent", torrentPath, "--save", dataDir, ...tsExtra]);
  const child = spawn(cmd, cargs, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  let out = "", err = "";
  const exited = new Promise<void>((r) => child.on("close", () => r()));
  return new Promise((resolve, reject) => {
    let ready = false;
    child.stderr.on("data", (d) => (err += d));
    child.stdout.on("data", (d) => {
      out += d;
      if (ready) return;
      const j = lastJson(out);
      if (j && typeof j.port === "number") {
        ready = true;
        resolve({
          port: j.port,
          info: j,
          async stop() {
            child.stdin.end();
            const t = setTimeout(() => child.kill("SIGTERM"), 10_000);
            await exited;
            clearTimeout(t);
            const last = lastJson(out);
            return last && last !== j ? last : undefined;
          },
        });
      }
    });
    child.on("close", (code) => {
      if (!ready) reject(new Error(`seeder exited (${code}) before seeding\n${out}\n${err.slice(-2000)}`));
    });
  });
}

async function download(kind: Kind, torrentPath: string, port: number, save: string): Promise<Result> {
  const common = ["--torrent", torrentPath, "--save", save, "--transport", transport];
  const [cmd, cargs] = kind === "python"
    ? [PYTHON, [join(ROOT, "bench/py/download.py"), ...common, "--peer", `127.0.0.1:${port}`, "--timeout", "300"]]
    : kind === "webtorrent"
    ? [
      "node",
      [join(WEBTORRENT_DIR, "download.mjs"), "--torrent", torrentPath, "--save", save, "--peer", String(port)],
    ]
    : tsCommand(kind, "bench/_download.ts", [...common, ...tsExtra, "--peer", String(port), "--timeout", "300"]);
  return await runJson(cmd, cargs, { timeoutMs: 330_000 }) as unknown as Result;
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), "btx-transfer-"));
  const dataDir = join(work, "seed");
  mkdirSync(dataDir);
  let seeder: Seeder | undefined;
  try {
    log(
      `transfer bench: ${fmt(size / 2 ** 20, 0)} MiB, ${rounds} rounds, piece ${pieceSize >> 10} KiB, work dir ${work}`,
    );
    let t = performance.now();
    const srcSha1 = makeData(join(dataDir, FILE), size);
    log(`  wrote the data in ${fmt((performance.now() - t) / 1000, 2)} s (sha1 ${srcSha1})`);
    t = performance.now();
    const made = await createTorrent({
      path: join(dataDir, FILE),
      version: "v1",
      pieceSize,
      creator: "TorrentXT bench",
    });
    const torrentPath = join(work, "bench.torrent");
    writeFileSync(torrentPath, made.torrent);
    log(`  created the v1 torrent in ${fmt((performance.now() - t) / 1000, 2)} s (${made.infoHash.v1})`);

    t = performance.now();
    seeder = await startSeeder(torrentPath, dataDir);
    const seederName = seederKind === "py"
      ? "python-libtorrent (bench/py/seed.py)"
      : "TorrentXT / Deno (bench/_seeder.ts)";
    log(`  seeder: ${seederName} on 127.0.0.1:${seeder.port}, ready in ${fmt((performance.now() - t) / 1000, 2)} s`);

    // Warm-up (not counted): the seeder's first upload faults its mmap of the
    // file in; without this the first downloader of round 1 would pay for it.
    {
      const save = mkdtempSync(join(work, "dl-warmup-"));
      try {
        const res = await download("python", torrentPath, seeder.port, save);
        log(`  warm-up download (not counted): ${fmt(mbpsXfer(res))} MB/s`);
      } finally {
        rmSync(save, { recursive: true, force: true });
      }
    }

    const results: Record<Kind, Result[]> = { deno: [], bun: [], python: [], webtorrent: [] };
    const verified: Record<Kind, boolean | null> = { deno: null, bun: null, python: null, webtorrent: null };
    for (let r = 0; r < rounds; r++) {
      // Rotate the order each round so no downloader always goes first.
      for (const kind of KINDS.map((_, i) => KINDS[(i + r) % KINDS.length])) {
        const save = mkdtempSync(join(work, `dl-${kind}-`));
        try {
          const res = await download(kind, torrentPath, seeder.port, save);
          if (res.bytes !== size) throw new Error(`${kind}: downloaded ${res.bytes} bytes, expected ${size}`);
          results[kind].push(res);
          let note = "";
          if (verified[kind] === null) {
            const ok = sha1File(join(save, FILE)) === srcSha1;
            verified[kind] = ok;
            note = ok ? "  verified (SHA-1)" : "  VERIFY FAILED";
            if (!ok) throw new Error(`${kind}: the downloaded file differs from the source`);
          }
          log(
            `  round ${r + 1} ${LABEL[kind].padEnd(22)} ${fmt(mbpsXfer(res)).padStart(6)} MB/s  ${
              fmt(res.seconds, 2)
            } s ` +
              `(+${fmt(res.connect_wait_seconds, 2)} s tick, ${res.socket ?? "?"})  cpu ${
                fmt(res.cpu_seconds, 2)
              } s  ` +
              `rss ${fmt(res.rss_anon_kib / 1024)} MiB${note}`,
          );
        } finally {
          rmSync(save, { recursive: true, force: true });
        }
      }
    }
    const seederStats = await seeder.stop();
    seeder = undefined;

    // Table.
    const med = (k: Kind, f: (r: Result) => number) => median(results[k].map(f));
    const per = (f: (r: Result) => number) =>
      Object.fromEntries(KINDS.map((k) => [k, med(k, f)])) as Record<Kind, number>;
    const mbps = per(mbpsXfer), mbpsFromCall = per(mbpsTotal);
    const cpu = per((r) => r.cpu_seconds), cpuXfer = per((r) => r.cpu_seconds_transfer);
    const rss = per((r) => r.rss_anon_kib);
    const header = [
      "downloader",
      ...Array.from({ length: rounds }, (_, i) => `r${i + 1} MB/s`),
      "median MB/s",
      "MB/s incl tick",
      "CPU s",
      "CPU s xfer",
      "RSS MiB",
    ];
    const rows = KINDS.map((k) => [
      LABEL[k],
      ...results[k].map((r) => fmt(mbpsXfer(r))),
      fmt(mbps[k]),
      fmt(mbpsFromCall[k]),
      fmt(cpu[k], 2),
      fmt(cpuXfer[k], 2),
      fmt(rss[k] / 1024),
    ]);
    const ratio = { deno_python: mbps.deno / mbps.python, bun_python: mbps.bun / mbps.python };
    const ratioInclTick = {
      deno_python: mbpsFromCall.deno / mbpsFromCall.python,
      bun_python: mbpsFromCall.bun / mbpsFromCall.python,
    };
    const ratioWt = anchor === "webtorrent"
      ? { deno_webtorrent: mbps.deno / mbps.webtorrent, bun_webtorrent: mbps.bun / mbps.webtorrent }
      : undefined;
    console.log(
      `\nTransfer: ${fmt(size / 2 ** 20, 0)} MiB v1 torrent (piece ${pieceSize >> 10} KiB) over 127.0.0.1 ` +
        `${transport.toUpperCase()}, seeder ${seederName}, TorrentXT tuning "${tuning}"` +
        (tsExtra.length > 2 ? ` + ${tsExtra.slice(2).filter((x) => x !== "--set").join(" ")}` : ""),
    );
    console.log("MB = 1e6 bytes. MB/s = bytes / (peer_connect → torrent_finished), as bench/py/download.py;");
    console.log("'incl tick' = from the connect_peer() call (adds libtorrent's 0–0.5 s wait for its connect tick).");
    console.log("CPU s = whole child process (user+sys, all threads, start-up and teardown included);");
    console.log("CPU s xfer = connect_peer() → torrent_finished only. RSS = RssAnon at torrent_finished. Medians.\n");
    console.log(table(header, rows));
    console.log(
      `\nratio a/c (Deno / python, median MB/s) = ${fmt(ratio.deno_python, 3)}   ` +
        `ratio b/c (Bun / python) = ${fmt(ratio.bun_python, 3)}   (goal ≥ 1.0: as fast as python-libtorrent)`,
    );
    console.log(
      `incl tick: a/c = ${fmt(ratioInclTick.deno_python, 3)}   b/c = ${fmt(ratioInclTick.bun_python, 3)}`,
    );
    if (ratioWt) {
      console.log(
        `ratio a/d (Deno / WebTorrent) = ${fmt(ratioWt.deno_webtorrent, 3)}   ` +
          `ratio b/d (Bun / WebTorrent) = ${fmt(ratioWt.bun_webtorrent, 3)}   (goal ≥ 2.0)`,
      );
    }
    console.log(
      `verified (SHA-1 of the whole file): ${KINDS.map((k) => `${k} ${verified[k] ? "ok" : "NO"}`).join(", ")}`,
    );
    console.log(
      JSON.stringify({
        bench: "transfer",
        bytes: size,
        piece_size: pieceSize,
        rounds,
        transport,
        seeder: seederKind === "py" ? "python-libtorrent" : "torrentxt-deno",
        anchor: anchor === "webtorrent"
          ? "bench/webtorrent/download.mjs (WebTorrent 3.0.21 on node), and python-libtorrent 2.0.8"
          : "bench/py/download.py (python-libtorrent 2.0.8)",
        tuning,
        extra_settings: flags(args, "--set"),
        ...(ratioWt ?? {}),
        median_mbps: mbps,
        ratio_deno_python: ratio.deno_python,
        ratio_bun_python: ratio.bun_python,
        goal: "ratio >= 1.0",
        median_mbps_incl_tick: mbpsFromCall,
        ratio_incl_tick: ratioInclTick,
        median_cpu_seconds: cpu,
        median_cpu_seconds_transfer: cpuXfer,
        median_rss_anon_kib: rss,
        rounds_mbps: Object.fromEntries(KINDS.map((k) => [k, results[k].map(mbpsXfer)])),
        verified,
        seeder_stats: seederStats ?? null,
      }),
    );
  } finally {
    await seeder?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
