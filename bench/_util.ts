// Small helpers shared by the benches. Runs under Deno and Bun (node: APIs only).
import { readFileSync } from "node:fs";
import process from "node:process";

declare const Bun: unknown;

/** "deno" or "bun". */
export function runtimeName(): "deno" | "bun" {
  return typeof Bun !== "undefined" ? "bun" : "deno";
}

/** RssAnon of this process in KiB (/proc/self/status). */
export function rssAnonKib(): number | null {
  const m = /^RssAnon:\s+(\d+)\s+kB/m.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) : null;
}

/** user + system CPU seconds of the whole process (every thread), from process.cpuUsage(). */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** user + system CPU seconds of the whole process from /proc/self/stat (clock ticks, 10 ms). */
export function procStatCpuSeconds(): number {
  const s = readFileSync("/proc/self/stat", "utf8");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  // fields after the comm: state is f[0]; utime is field 14 → f[11], stime f[12]
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Prints the one JSON result line on stdout. */
export function emit(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile, p in 0..100. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

/** Value of `--name v` or the default. */
export function flag(args: string[], name: string, def: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}

/** Every value of a repeatable flag. */
export function flags(args: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length - 1; i++) if (args[i] === name) out.push(args[i + 1]);
  return out;
}

/** `--set name=value` flags as libtorrent settings (numbers and true/false typed). */
export function extraSettings(args: string[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of flags(args, "--set")) {
    const i = kv.indexOf("=");
    if (i <= 0) throw new Error(`--set wants name=value, not "${kv}"`);
    const v = kv.slice(i + 1);
    out[kv.slice(0, i)] = v === "true" ? true : v === "false" ? false : /^-?\d+$/.test(v) ? Number(v) : v;
  }
  return out;
}

/** Parses sizes like 1GiB, 512MiB, 100MB, 1048576. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(k|ki|kib|m|mi|mib|g|gi|gib|kb|mb|gb|b)?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size "${s}"`);
  const n = Number(m[1]);
  const u = (m[2] ?? "b").toLowerCase();
  const mult: Record<string, number> = {
    b: 1,
    k: 1024,
    ki: 1024,
    kib: 1024,
    m: 1 << 20,
    mi: 1 << 20,
    mib: 1 << 20,
    g: 1 << 30,
    gi: 1 << 30,
    gib: 1 << 30,
    kb: 1e3,
    mb: 1e6,
    gb: 1e9,
  };
  return Math.round(n * mult[u]);
}

/** Right-aligned table with a header row. */
export function table(header: string[], rows: (string | number)[][]): string {
  const all = [header, ...rows.map((r) => r.map(String))];
  const w = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ");
  return [line(all[0]), w.map((n) => "-".repeat(n)).join("  "), ...all.slice(1).map(line)].join("\n");
}

export function fmt(n: number | null | undefined, digits = 1): string {
  return n === null || n === undefined || Number.isNaN(n) ? "-" : n.toFixed(digits);
}
