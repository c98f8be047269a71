// Child-process helpers for the bench orchestrators (node:child_process, so
// they run under Deno or Bun).
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DENO = join(ROOT, "node_modules/.bin/deno");
export const BUN = join(ROOT, "node_modules/.bin/bun");
export const PYTHON = "/usr/bin/python3";

/** The command that runs a TypeScript bench file under `runtime`. */
export function tsCommand(runtime: "deno" | "bun", file: string, args: string[]): [string, string[]] {
  return runtime === "deno"
    ? [DENO, ["run", "-A", "--config", join(ROOT, "deno.json"), join(ROOT, file), ...args]]
    : [BUN, [join(ROOT, file), ...args]];
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The last stdout line that parses as a JSON object. */
  json: Record<string, unknown> | undefined;
}

/** Runs a command to completion and parses its last JSON line. */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs) : undefined;
    child.on("error", reject);
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr, json: lastJson(stdout) });
    });
  });
}

/** Like run(), but throws with the output's tail unless it exited 0 with a JSON line. */
export async function runJson(cmd: string, args: string[], opts: { timeoutMs?: number } = {}) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0 || !r.json || "error" in r.json) {
    throw new Error(
      `${cmd.split("/").pop()} ${args.join(" ")} failed (exit ${r.code})\n` +
        `--- stdout\n${r.stdout.slice(-2000)}\n--- stderr\n${r.stderr.slice(-2000)}`,
    );
  }
  return r.json;
}

export function lastJson(text: string): Record<string, unknown> | undefined {
  const lines = text.trim().split("\n").reverse();
  for (const l of lines) {
    const s = l.trim();
    if (!s.startsWith("{")) continue;
    try {
      return JSON.parse(s);
    } catch { /* not JSON */ }
  }
  return undefined;
}
