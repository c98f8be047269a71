// Shared helpers of tests/faults: child processes of the same runtime,
// small tmpfs mounts, RSS, a seeded random source, the FULL switch.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import process from "node:process";

/** TORRENTXT_FAULTS_FULL=1: the full-strength variants (more kills, cycles, torrents). */
export const FULL = process.env.TORRENTXT_FAULTS_FULL === "1";

/** The runtime running this test. */
export const RUNTIME: "bun" | "deno" = (globalThis as { Bun?: unknown }).Bun ? "bun" : "deno";

const REPO = dirname(dirname(dirname(fromFileUrl(import.meta.url))));

/** Spawns `script` (a path under tests/faults) with the runtime running this test. */
export function spawnSame(script: string, env: Record<string, string>): ChildProcess {
  const file = `${REPO}/tests/faults/${script}`;
  const argv = RUNTIME === "bun" ? [file] : ["run", "-A", "--config", `${REPO}/deno.json`, file];
  const child = spawn(process.execPath, argv, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  alive.add(child);
  child.on("exit", () => alive.delete(child));
  return child;
}

const alive = new Set<ChildProcess>();

/** SIGKILLs every child spawned by spawnSame() that is still running (a failed test's leftovers). */
export function killAll(): void {
  for (const c of alive) c.kill("SIGKILL");
}

/** A child's JSON lines, as they come, and its exit. */
export class ChildLines {
  readonly lines: Record<string, unknown>[] = [];
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  #waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown> | null) => void }[] =
    [];
  #done = false;
  constructor(readonly child: ChildProcess) {
    let buf = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const text = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!text.trim()) continue;
        let l: Record<string, unknown>;
        try {
          l = JSON.parse(text);
        } catch {
          l = { ev: "text", text };
        }
        l.at ??= Date.now();
        this.lines.push(l);
        this.#waiters = this.#waiters.filter((w) => {
          if (!w.pred(l)) return true;
          w.resolve(l);
          return false;
        });
      }
    });
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      if (this.stderr.length < 20_000) this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        this.#done = true;
        for (const w of this.#waiters) w.resolve(null);
        this.#waiters = [];
        resolve({ code, signal });
      });
    });
  }
  /** The first line (past or future) matching `pred`; null if the child exits first. */
  wait(pred: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown> | null> {
    const seen = this.lines.find(pred);
    if (seen || this.#done) return Promise.resolve(seen ?? null);
    return new Promise((resolve) => this.#waiters.push({ pred, resolve }));
  }
  of(ev: string): Record<string, unknown> | undefined {
    return this.lines.find((l) => l.ev === ev);
  }
}

/** A small seeded PRNG (mulberry32), so a failing run can be replayed with TORRENTXT_FAULTS_SEED. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: TORRENTXT_FAULTS_SEED, else the clock. */
export const SEED = Number(process.env.TORRENTXT_FAULTS_SEED ?? Date.now() % 1_000_000_007);

/** True when this process may mount file systems (root on Linux, `mount` present and allowed). */
export function canMount(): boolean {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  try {
    execFileSync("mount", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A tmpfs mounted on `dir` (options like "size=2m,ro"); dispose unmounts it. */
export class Tmpfs implements Disposable {
  constructor(readonly dir: string, options: string) {
    execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir]);
  }
  remount(options: string): void {
    execFileSync("mount", ["-o", `remount,${options}`, this.dir]);
  }
  [Symbol.dispose](): void {
    try {
      execFileSync("umount", [this.dir]);
    } catch {
      execFileSync("umount", ["-l", this.dir]);
    }
  }
}

/** Resident set size of this process, bytes. */
export function rss(): number {
  return process.memoryUsage().rss;
}

/** Files in `dir` whose names start with `prefix`. */
export function filesWithPrefix(dir: string, prefix: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith(prefix));
}

/** One line of figures at the end of a test: "faults: <what>: k=v …". */
export function report(what: string, figures: Record<string, unknown>): void {
  const parts = Object.entries(figures).map(([k, v]) =>
    `${k}=${typeof v === "number" && !Number.isInteger(v) ? v.toFixed(2) : v}`
  );
  console.log(`faults[${RUNTIME}]: ${what}: ${parts.join(" ")}`);
}
