// Runs the torrentxt CLI as a subprocess under the runtime running the test
// (Deno or Bun), and reads its output line by line. Shared by cli.test.ts and
// distribution.test.ts.
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The CLI's entry point. */
export const CLI = fileURLToPath(new URL("../cli/main.ts", import.meta.url));

/** "deno" or "bun": the runtime running this test. */
export const RUNTIME: "deno" | "bun" = (globalThis as { Bun?: unknown }).Bun !== undefined ? "bun" : "deno";

/** The command line that runs `script` under this runtime. */
export function runtimeArgv(script: string): string[] {
  const exe = process.execPath;
  return RUNTIME === "deno"
    ? [exe, "run", "-A", "--config", fileURLToPath(new URL("../deno.json", import.meta.url)), script]
    : [exe, script];
}

/** A running CLI process. */
export class CliRun {
  readonly child: ReturnType<typeof spawn>;
  stdout = "";
  stderr = "";
  readonly exited: Promise<number>;
  #waiters: (() => void)[] = [];

  constructor(argv: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}) {
    this.child = spawn(argv[0], argv.slice(1), {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: "1", ...options.env } as Record<string, string>,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.setEncoding("utf8");
    this.child.stderr!.setEncoding("utf8");
    this.child.stdout!.on("data", (d: string) => {
      this.stdout += d;
      this.#wake();
    });
    this.child.stderr!.on("data", (d: string) => {
      this.stderr += d;
      this.#wake();
    });
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code: number | null, signal: string | null) => {
        this.#wake();
        resolve(code ?? (signal ? 128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 9) : -1));
      });
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Complete stdout lines so far. */
  lines(): string[] {
    const all = this.stdout.split("\n");
    all.pop(); // the unfinished one
    return all;
  }

  /** stdout's JSON lines so far (every complete line must parse). */
  json(): Record<string, unknown>[] {
    return this.lines().map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        throw new Error(`a --json line does not parse: ${JSON.stringify(l)}\nstderr: ${this.stderr}`);
      }
    });
  }

  /** Waits for a JSON line satisfying `pred`; throws if the process exits first. */
  async waitJson(pred: (o: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
    let exited = false;
    this.exited.then(() => (exited = true));
    for (;;) {
      const hit = this.json().find(pred);
      if (hit) return hit;
      if (exited) {
        throw new Error(`the CLI exited before ${what}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      }
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  /** Sends `signal`. */
  kill(signal: "SIGINT" | "SIGTERM" | "SIGKILL"): void {
    this.child.kill(signal);
  }
}

/** Runs the CLI (from the source tree) with `args`. */
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}) {
  return new CliRun([...runtimeArgv(CLI), ...args], options);
}

/** Runs the CLI to the end; returns exit code and output. */
export async function cli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<{ code: number; stdout: string; stderr: string; run: CliRun }> {
  const run = runCli(args, options);
  const code = await run.exited;
  return { code, stdout: run.stdout, stderr: run.stderr, run };
}
