/**
 * `torrentxt seed <torrent>`: checks the data against the torrent and seeds
 * it until Ctrl-C, printing a magnet link that reaches this seeder.
 *
 * @module
 */
import { resolve } from "node:path";
import { type OptionSpec, parseArgs, UsageError } from "./_args.ts";
import {
  type Context,
  EngineError,
  interruptCode,
  intervalOf,
  localPeerOf,
  magnetOf,
  openSession,
  OUTPUT_SPECS,
  SESSION_SPECS,
} from "./_common.ts";
import { resolveInput } from "./_input.ts";
import { reportUntil } from "./download.ts";
import { formatBytes } from "./_output.ts";

/** Options of `seed`. */
export const SEED_SPECS: Record<string, OptionSpec> = {
  path: {
    kind: "value",
    arg: "dir",
    help: "directory that holds the torrent's content (its file, or its top folder); default: .",
  },
  ...SESSION_SPECS,
  ...OUTPUT_SPECS,
};

/** Usage of `seed`. */
export const SEED_USAGE = "torrentxt seed <file.torrent|url> [--path dir] [--listen host:port] [--public]";

/** Runs `seed`. */
export async function seed(ctx: Context, argv: string[]): Promise<number> {
  const p = parseArgs(argv, SEED_SPECS, "seed");
  const out = ctx.output(p);
  if (p.positionals.length !== 1) {
    throw new UsageError("seed: give one .torrent file (or its http(s) URL)", "try: torrentxt seed --help");
  }
  const interval = intervalOf(p, out);
  const src = await resolveInput(p.positionals[0]);
  if (!src.torrent) {
    throw new UsageError(
      `seed: ${src.kind === "magnet" ? "a magnet link" : "an info-hash"} has no piece hashes to check the data ` +
        "against; give the .torrent file",
    );
  }
  const dir = resolve(p.values.get("path") ?? ".");
  const session = await openSession(p);
  try {
    const events = session.events({ types: ["torrent_checked", "state_changed", "torrent_error", "file_error"] });
    const t = await session.add({ torrent: src.torrent, savePath: dir });
    // Wait for the check of the data on disk to end.
    const checked = (async () => {
      for (;;) {
        const r = await events.next();
        if (r.done) return;
        const ev = r.value;
        if (ev.torrent !== t) continue;
        if (ev.type === "torrent_error") throw new EngineError(`torrent error: ${ev.error} ${ev.file}`.trim());
        if (ev.type === "file_error") throw new EngineError(`file error (${ev.operation}) on ${ev.file}: ${ev.error}`);
        if (ev.type === "torrent_checked") return;
        if (ev.type === "state_changed" && !ev.state.startsWith("checking")) return;
      }
    })();
    const outcome = await Promise.race([
      checked.then(() => "checked" as const),
      ctx.interrupted.then(() => "int" as const),
    ]);
    await events.return();
    if (outcome === "int") return interruptCode(ctx.signal());
    const st = t.status();
    if (!st.isSeeding) {
      throw new UsageError(
        `seed: the data of "${st.name}" under ${dir} is incomplete: ${(st.progress * 100).toFixed(1)}% ` +
          `(${formatBytes(st.totalDone)} of ${formatBytes(st.totalWanted)})`,
        `--path must be the directory that holds "${st.name}"`,
      );
    }
    const peer = localPeerOf(session, p);
    const magnet = magnetOf(t.infoHash, st.name, peer);
    out.event("seeding", {
      name: st.name,
      infoHash: t.infoHash,
      totalSize: st.totalSize,
      listenPort: session.listenPort,
      peer: peer ?? null,
      magnet,
    });
    out.say(`seeding ${st.name} (${formatBytes(st.totalSize)}) from ${dir}`);
    out.say(`listening on port ${session.listenPort}${peer ? ` (peers on this machine: --peer ${peer})` : ""}`);
    out.say(`magnet: ${magnet}`);
    out.say("Ctrl-C to stop");
    await reportUntil(out, t, interval, "seed", ctx.interrupted);
    return interruptCode(ctx.signal());
  } finally {
    out.flush();
    await session.close().catch(() => {});
  }
}
