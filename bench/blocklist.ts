/**
 * Blocklist bench: lines per second to parse a 1,000,000-line list and
 * apply it to a session's IP filter, under Deno and Bun, against
 * python-libtorrent in the same run.
 *
 *   deno run -A --config deno.json bench/blocklist.ts [--lines 1000000] [--rounds 3]
 *
 * Two generated lists (seeded PRNG, same files for every side): PeerGuardian
 * .p2p (`Label n: with colon:a.b.c.d-a.b.c.e`, random IPv4 ranges of 1–4096
 * addresses, some reversed) and CIDR (IPv4 /16…/32, one line in ten an IPv6
 * /32…/128), each with a comment every 1000 lines and a malformed line
 * every 10,000.
 *
 * TorrentXT (child process per runtime, per list): each round opens a fresh
 * isolated session (untimed), then times `await session.use(blocklist({
 * sources: file }))` — reading the file in chunks, parsing, merging, packing
 * and the one `addPacked` call — then `detach()` (which reads the filter
 * back with `ipFilter.export()` to keep other rules), and separately
 * `parseBlocklist()` alone. RSS: RssAnon of the process right after the
 * first load (session, libtorrent's filter and the JS heap included).
 * Anchor: bench/py/blocklist.py — a line-by-line Python loader (ipaddress
 * for CIDR/validation) into lt.ip_filter().add_rule + session.set_ip_filter,
 * same file, same run. Ratio = TorrentXT lines/s ÷ python lines/s (best
 * round each).
 *
 * @module
 */
import process from "node:process";
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Session } from "../mod.ts";
import { blocklist, parseBlocklist } from "../plugins/blocklist/mod.ts";
import { PYTHON, ROOT, runJson, tsCommand } from "./_proc.ts";
import { emit, flag, fmt, median, rssAnonKib, runtimeName, table } from "./_util.ts";

const args = process.argv.slice(2);
const child = args.includes("--child");
const LINES = Number(flag(args, "--lines", "1000000"));
const ROUNDS = Math.max(1, Number(flag(args, "--rounds", "3")));
const log = (s: string) => process.stderr.write(s + "\n");

// ---------------------------------------------------------------- child

async function runChild(file: string): Promise<void> {
  const load: number[] = [];
  const parse: number[] = [];
  const detach: number[] = [];
  let report;
  let rssLoaded = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const session = await Session.open({ profile: "isolated" });
    try {
      const t0 = performance.now();
      const bl = await session.use(blocklist({ sources: file }));
      load.push((performance.now() - t0) / 1000);
      report = bl.report;
      if (r === 0) rssLoaded = rssAnonKib() ?? 0;
      const t2 = performance.now();
      await bl.detach();
      detach.push((performance.now() - t2) / 1000);
    } finally {
      await session.close();
    }
    const t1 = performance.now();
    await parseBlocklist(createReadStream(file, { highWaterMark: 256 * 1024 }));
    parse.push((performance.now() - t1) / 1000);
    log(
      `${runtimeName()} round ${r + 1}: load+apply ${load.at(-1)!.toFixed(3)} s, parse ${
        parse.at(-1)!.toFixed(3)
      } s, detach ${detach.at(-1)!.toFixed(3)} s`,
    );
  }
  const s = report!.sources[0];
  emit({
    runtime: runtimeName(),
    lines: s.lines,
    entries: s.entries,
    ranges: report!.ranges,
    malformed: s.malformed,
    best_s: Math.min(...load),
    median_s: median(load),
    parse_best_s: Math.min(...parse),
    detach_best_s: Math.min(...detach),
    lines_per_s: s.lines / Math.min(...load),
    rss_kib: rssLoaded,
  });
}

// ---------------------------------------------------------------- generator

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const v4 = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

function generate(path: string, kind: "p2p" | "cidr", lines: number): void {
  const next = rng(kind === "p2p" ? 1 : 2);
  const out: string[] = [];
  const parts: string[] = [];
  for (let i = 0; i < lines; i++) {
    if (i % 1000 === 0) out.push(`# section ${i / 1000}`);
    else if (i % 10_000 === 5) out.push(`not a range ${i}`);
    else if (kind === "p2p") {
      const a = (next() % 0xdf000000) + 0x01000000;
      const b = a + (next() % 4096);
      out.push(i % 97 === 0 ? `Org ${i}: Inc:${v4(b)}-${v4(a)}` : `Org ${i}: Inc:${v4(a)}-${v4(b)}`);
    } else if (i % 10 === 0) {
      const bits = 32 + (next() % 97);
      out.push(`2001:${(next() & 0xffff).toString(16)}:${(next() & 0xffff).toString(16)}::/${bits}`);
    } else {
      const bits = 16 + (next() % 17);
      out.push(`${v4((next() % 0xdf000000) + 0x01000000)}/${bits}`);
    }
    if (out.length >= 50_000) {
      parts.push(out.join("\n"));
      out.length = 0;
    }
  }
  if (out.length) parts.push(out.join("\n"));
  writeFileSync(path, parts.join("\n") + "\n");
}

// ---------------------------------------------------------------- orchestrator

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "btx-blocklist-"));
  try {
    const rows: (string | number)[][] = [];
    const results: Record<string, unknown> = {};
    for (const kind of ["p2p", "cidr"] as const) {
      const file = join(dir, `list.${kind}`);
      generate(file, kind, LINES);
      log(`${kind}: ${LINES} lines, ${(statSync(file).size / 1e6).toFixed(1)} MB`);
      const py = await runJson(PYTHON, [
        join(ROOT, "bench/py/blocklist.py"),
        "--file",
        file,
        "--rounds",
        String(ROUNDS),
      ], {
        timeoutMs: 600_000,
      });
      const per: Record<string, Record<string, unknown>> = { python: py };
      for (const rt of ["deno", "bun"] as const) {
        per[rt] = await runJson(
          ...tsCommand(rt, "bench/blocklist.ts", ["--child", "--file", file, "--rounds", String(ROUNDS)]),
          { timeoutMs: 600_000 },
        );
      }
      const pyRate = py.lines_per_s as number;
      for (const side of ["deno", "bun", "python"]) {
        const r = per[side];
        rows.push([
          `${kind} ${side}`,
          fmt((r.lines_per_s as number) / 1e6, 2),
          fmt(r.best_s as number, 3),
          r.parse_best_s === undefined ? "-" : fmt(r.parse_best_s as number, 3),
          r.detach_best_s === undefined ? "-" : fmt(r.detach_best_s as number, 3),
          String(r.ranges),
          String(r.malformed),
          fmt((r.rss_kib as number) / 1024, 0),
          side === "python" ? "1.00" : fmt((r.lines_per_s as number) / pyRate, 2),
        ]);
      }
      results[kind] = per;
    }
    console.log(
      "\n" +
        table(
          [
            "list / side",
            "Mlines/s",
            "load+apply s",
            "parse s",
            "detach s",
            "ranges",
            "malformed",
            "RSS MiB",
            "vs python",
          ],
          rows,
        ),
    );
    console.log(
      "\nranges: merged ranges for TorrentXT, add_rule calls for python. " +
        "load+apply: best of rounds, file → filter in force. RSS: after the first load (python: at the end).",
    );
    emit({ lines: LINES, rounds: ROUNDS, results });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (child) await runChild(flag(args, "--file", ""));
else await main();
