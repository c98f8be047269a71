#!/usr/bin/env bun
/**
 * The `torrentxt` command line: download, create, seed, inspect and stream
 * torrents. Runs the same under Deno and Bun:
 *
 * ```sh
 * deno run -A cli/main.ts download "magnet:?xt=urn:btih:…" -o ./downloads --peer 127.0.0.1:6881
 * bun cli/main.ts create ./folder -o folder.torrent
 * ```
 *
 * Exit codes: 0 done; 1 engine or network error; 2 usage or input error (bad
 * arguments, bad torrent, bad magnet); 130 interrupted by Ctrl-C (resume
 * data saved; run the same command again to resume); 143 by SIGTERM.
 *
 * Sessions use the isolated profile (127.0.0.1 only, no public DHT, LSD,
 * UPnP or NAT-PMP) unless `--public` is given. See docs/cli.md.
 *
 * @example Run the CLI from your own script
 * ```ts
 * import { main } from "./cli/main.ts";
 * const code = await main(["info", "folder.torrent", "--json"]);
 * console.log("exit code", code);
 * ```
 *
 * @module
 */
import { TorrentError } from "../mod.ts";
import { loadNative, PACKAGE_VERSION } from "../ffi/loader.ts";
import { optionsHelp, type OptionSpec, type Parsed, UsageError } from "./_args.ts";
import { type Context, EngineError } from "./_common.ts";
import { FetchError } from "./_input.ts";
import { Output } from "./_output.ts";
import { type CliSignal, currentRuntime, type Runtime } from "./_runtime.ts";
export type { CliSignal, Runtime } from "./_runtime.ts";
import { create, CREATE_SPECS, CREATE_USAGE } from "./create.ts";
import { download, DOWNLOAD_SPECS, DOWNLOAD_USAGE } from "./download.ts";
import { info, INFO_SPECS, INFO_USAGE } from "./info.ts";
import { seed, SEED_SPECS, SEED_USAGE } from "./seed.ts";
import { stream, STREAM_SPECS, STREAM_USAGE } from "./stream.ts";

interface Command {
  run(ctx: Context, argv: string[]): Promise<number>;
  specs: Record<string, OptionSpec>;
  usage: string;
  summary: string;
}

const COMMANDS: Record<string, Command> = {
  download: { run: download, specs: DOWNLOAD_SPECS, usage: DOWNLOAD_USAGE, summary: "download a torrent" },
  create: { run: create, specs: CREATE_SPECS, usage: CREATE_USAGE, summary: "make a .torrent of a file or folder" },
  seed: { run: seed, specs: SEED_SPECS, usage: SEED_USAGE, summary: "seed a torrent's data until Ctrl-C" },
  info: { run: info, specs: INFO_SPECS, usage: INFO_USAGE, summary: "show what a .torrent or magnet holds" },
  stream: { run: stream, specs: STREAM_SPECS, usage: STREAM_USAGE, summary: "download and serve the files over HTTP" },
};

/** Stable error codes that are the user's to fix (exit code 2); every other code is exit code 1. */
const USER_CODES = new Set<string>([
  "INVALID_ARGUMENT",
  "INVALID_MAGNET",
  "INVALID_TORRENT",
  "INVALID_RESUME",
  "PATH_NOT_FOUND",
  "DUPLICATE_TORRENT",
  "UNKNOWN_SETTING",
  "SETTING_TYPE",
]);

/** The general usage text. */
export function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    `torrentxt ${PACKAGE_VERSION}: BitTorrent on libtorrent, for Deno and Bun`,
    "",
    "usage: torrentxt <command> [options]",
    "",
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.summary}`),
    "",
    "Every command takes --json (one JSON object per line) and --help.",
    "Sessions stay on this machine (127.0.0.1, no public DHT) unless --public is given.",
    "Exit codes: 0 ok, 1 engine/network error, 2 usage/input error, 130 interrupted (Ctrl-C).",
  ].join("\n");
}

function commandHelp(c: Command): string {
  return `usage: ${c.usage}\n\n${c.summary}.\n\noptions:\n${optionsHelp(c.specs)}`;
}

/** What went wrong → exit code, stable code, message. */
function classify(e: unknown): { exit: number; code: string; message: string; hint?: string } {
  if (e instanceof UsageError) return { exit: 2, code: "USAGE", message: e.message, hint: e.hint };
  if (e instanceof TorrentError) {
    return { exit: USER_CODES.has(e.code) ? 2 : 1, code: e.code, message: `${e.message} [${e.code}]` };
  }
  if (e instanceof FetchError) return { exit: 1, code: "FETCH", message: e.message };
  if (e instanceof EngineError) return { exit: 1, code: "ENGINE", message: e.message };
  const err = e as Error;
  return { exit: 1, code: "INTERNAL", message: `${err?.name ?? "Error"}: ${err?.message ?? String(e)}` };
}

/**
 * Runs the CLI with `args` (the arguments after the program name) and
 * resolves with the exit code. Installs SIGINT / SIGTERM handlers while it
 * runs: the first signal ends the command cleanly (resume data saved), a
 * second one exits at once.
 */
export async function main(args: string[], rt: Runtime = currentRuntime()): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const topic = name === "help" ? rest[0] : undefined;
    if (topic && COMMANDS[topic]) rt.write(commandHelp(COMMANDS[topic]) + "\n");
    else if (name === undefined) {
      rt.writeErr(usage() + "\n");
      return 2;
    } else rt.write(usage() + "\n");
    return 0;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    rt.write(`torrentxt ${PACKAGE_VERSION} (${rt.name})\n`);
    try {
      rt.write(`native library: ${(await loadNative()).path}\n`);
    } catch (e) {
      rt.write(`native library: not loaded: ${(e as Error).message}\n`);
      return 1;
    }
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    rt.writeErr(`torrentxt: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    rt.write(commandHelp(cmd) + "\n");
    return 0;
  }
  let got: CliSignal | undefined;
  let wake!: (s: CliSignal) => void;
  const interrupted = new Promise<CliSignal>((r) => (wake = r));
  let out: Output | undefined;
  const handler = (sig: CliSignal) => () => {
    if (got) {
      rt.writeErr("torrentxt: interrupted again; exiting without saving\n");
      rt.exit(sig === "SIGTERM" ? 143 : 130);
    }
    got = sig;
    out?.flush();
    rt.writeErr(`torrentxt: ${sig === "SIGINT" ? "interrupted" : "terminated"}; stopping (again to quit at once)\n`);
    wake(sig);
  };
  const removers = [rt.onSignal("SIGINT", handler("SIGINT")), rt.onSignal("SIGTERM", handler("SIGTERM"))];
  const jsonWanted = rest.includes("--json");
  const ctx: Context = {
    rt,
    interrupted,
    signal: () => got,
    output: (p: Parsed) => (out = new Output(rt, { json: p.flags.has("json"), quiet: p.flags.has("quiet") })),
  };
  try {
    const code = await cmd.run(ctx, rest);
    return got && code === 0 ? (got === "SIGTERM" ? 143 : 130) : code;
  } catch (e) {
    const c = classify(e);
    (out ?? new Output(rt, { json: jsonWanted, quiet: false })).error(c.message, c.code, c.exit, c.hint);
    return c.exit;
  } finally {
    for (const remove of removers) remove();
  }
}

if (import.meta.main) {
  const rt = currentRuntime();
  rt.exit(await main(rt.args(), rt));
}
