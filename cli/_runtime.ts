/**
 * The CLI's runtime shim: the few things that differ between Deno and Bun
 * (arguments, stdout being a terminal, signals, exit), behind one small
 * interface picked once at load time. Everything else the CLI needs is
 * `node:*` (fs, path, crypto), which both runtimes provide as it is.
 *
 * @module
 */
import { writeSync } from "node:fs";

/** A signal the CLI handles. */
export type CliSignal = "SIGINT" | "SIGTERM";

/** What the CLI needs from its runtime. */
export interface Runtime {
  /** "deno" or "bun". */
  readonly name: "deno" | "bun";
  /** The command-line arguments after the script (or the executable). */
  args(): string[];
  /** True when stdout is a terminal (progress bars), false for a pipe or file (plain lines). */
  stdoutIsTTY(): boolean;
  /** Terminal width in columns (80 when unknown). */
  columns(): number;
  /** Writes `text` to stdout, synchronously and completely. */
  write(text: string): void;
  /** Writes `text` to stderr, synchronously and completely. */
  writeErr(text: string): void;
  /** Calls `handler` on `signal` (instead of the default termination); returns a remover. */
  onSignal(signal: CliSignal, handler: () => void): () => void;
  /** Ends the process with `code`. */
  exit(code: number): never;
  /** An environment variable, or undefined. */
  env(name: string): string | undefined;
}

const enc = new TextEncoder();

/** Writes all of `bytes` to file descriptor `fd` (retrying short writes and EAGAIN). */
function writeAll(fd: number, text: string): void {
  const bytes = enc.encode(text);
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      if ((e as { code?: string }).code === "EAGAIN") continue;
      if ((e as { code?: string }).code === "EPIPE") return; // the reader went away (e.g. `| head`)
      throw e;
    }
  }
}

interface DenoNs {
  args: string[];
  stdout: { isTerminal(): boolean };
  consoleSize(): { columns: number; rows: number };
  addSignalListener(signal: CliSignal, handler: () => void): void;
  removeSignalListener(signal: CliSignal, handler: () => void): void;
  exit(code: number): never;
  env: { get(name: string): string | undefined };
}

interface NodeProcess {
  argv: string[];
  stdout: { isTTY?: boolean; columns?: number };
  on(signal: string, handler: () => void): void;
  off(signal: string, handler: () => void): void;
  exit(code: number): never;
  env: Record<string, string | undefined>;
}

function denoRuntime(d: DenoNs): Runtime {
  return {
    name: "deno",
    args: () => [...d.args],
    stdoutIsTTY: () => d.stdout.isTerminal(),
    columns: () => {
      try {
        return d.consoleSize().columns || 80;
      } catch {
        return 80;
      }
    },
    write: (text) => writeAll(1, text),
    writeErr: (text) => writeAll(2, text),
    onSignal(signal, handler) {
      d.addSignalListener(signal, handler);
      return () => d.removeSignalListener(signal, handler);
    },
    exit: (code) => d.exit(code),
    env: (name) => {
      try {
        return d.env.get(name);
      } catch {
        return undefined; // no --allow-env
      }
    },
  };
}

function bunRuntime(p: NodeProcess): Runtime {
  return {
    name: "bun",
    args: () => p.argv.slice(2),
    stdoutIsTTY: () => p.stdout.isTTY === true,
    columns: () => p.stdout.columns || 80,
    write: (text) => writeAll(1, text),
    writeErr: (text) => writeAll(2, text),
    onSignal(signal, handler) {
      p.on(signal, handler);
      return () => p.off(signal, handler);
    },
    exit: (code) => p.exit(code),
    env: (name) => p.env[name],
  };
}

/** The runtime this process runs on. */
export function currentRuntime(): Runtime {
  const g = globalThis as { Deno?: DenoNs; Bun?: unknown; process?: NodeProcess };
  if (g.Bun !== undefined && g.process) return bunRuntime(g.process);
  if (g.Deno !== undefined) return denoRuntime(g.Deno);
  throw new Error("the torrentxt CLI runs on Deno or Bun");
}
