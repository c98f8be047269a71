/**
 * `torrentxt download <magnet|file|url|info-hash>`: downloads into a
 * directory with progress, saves resume data on Ctrl-C, resumes from it on
 * the next run, optionally seeds afterwards.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { bdecode, type Session, type Torrent, TorrentError } from "../mod.ts";
import { type OptionSpec, parseArgs, type Parsed, UsageError } from "./_args.ts";
import {
  type Context,
  hashKey,
  interruptCode,
  intervalOf,
  openSession,
  OUTPUT_SPECS,
  PEER_SPEC,
  peersOf,
  resumePath,
  SESSION_SPECS,
  watchTorrent,
  writeAtomic,
} from "./_common.ts";
import { resolveInput, type Source } from "./_input.ts";
import { formatBinary, formatBytes, type Output, progressOf } from "./_output.ts";

/** Options of `download`. */
export const DOWNLOAD_SPECS: Record<string, OptionSpec> = {
  output: { kind: "value", short: "o", arg: "dir", help: "directory to download into (default: .)" },
  ...PEER_SPEC,
  seed: { kind: "flag", help: "keep seeding after the download completes, until Ctrl-C" },
  sequential: { kind: "flag", help: "fetch pieces in order" },
  ...SESSION_SPECS,
  ...OUTPUT_SPECS,
};

/** Usage of `download`. */
export const DOWNLOAD_USAGE = "torrentxt download <magnet|file.torrent|url|info-hash> [-o dir] [--peer host:port]... " +
  "[--dht-node host:port]... [--seed] [--public]";

/** A torrent added to a session for transfer, with its resume bookkeeping. */
export interface Added {
  session: Session;
  torrent: Torrent;
  dir: string;
  resumed: boolean;
}

/**
 * Adds the input of `p` to `session` (from its resume file in `dir` when
 * there is one), connects `--peer`s and announces it on the output.
 */
export async function addForTransfer(session: Session, p: Parsed, out: Output, dir: string): Promise<Added> {
  const src = await resolveInput(p.positionals[0]);
  const peers = peersOf(p);
  const sequential = p.flags.has("sequential") || undefined;
  let torrent: Torrent | undefined, resumed = false;
  const file = src.key ? resumePath(dir, src.key) : undefined;
  if (file && existsSync(file)) {
    try {
      torrent = await session.add({ resume: new Uint8Array(readFileSync(file)), savePath: dir, sequential });
      resumed = true;
    } catch (e) {
      if (!(e instanceof TorrentError) || e.code !== "INVALID_RESUME") throw e;
      out.warn(`ignoring unreadable resume file ${file}: ${e.message}`);
    }
  }
  torrent ??= await session.add({ ...src.add, savePath: dir, sequential });
  for (const ep of peers) torrent.connectPeer(ep.host, ep.port);
  if (!p.flags.has("public") && peers.length === 0 && !p.lists.get("dht-node")?.length && !namesPeers(src)) {
    out.warn(
      "isolated profile and no --peer or --dht-node: peers can only come from trackers on this machine " +
        "or peers that connect to us (add --public to use the internet)",
    );
  }
  const st = torrent.status();
  out.event("added", {
    name: st.name,
    infoHash: torrent.infoHash,
    savePath: dir,
    resumed,
    listenPort: session.listenPort,
  });
  out.say(`${resumed ? "resuming" : "downloading"} ${st.name || hashKey(torrent.infoHash)} into ${dir}`);
  return { session, torrent, dir, resumed };
}

/** True when the input itself says where peers are: a magnet's x.pe or tr, a .torrent's announce URLs. */
function namesPeers(src: Source): boolean {
  if (src.add.magnet) return /[?&](x\.pe|tr)(\.\d+)?=/.test(src.add.magnet);
  if (!src.torrent) return false;
  try {
    const d = bdecode(src.torrent) as Record<string, unknown>;
    return d.announce !== undefined || d["announce-list"] !== undefined;
  } catch {
    return false;
  }
}

/**
 * Closes the session after an interruption, saving the torrents' resume
 * data next to their downloads (atomically). Returns the exit code.
 */
export async function closeInterrupted(ctx: Context, out: Output, a: Added): Promise<number> {
  let saved = 0;
  try {
    await a.session.close({
      saveResumeData: (t, bytes) => {
        const file = resumePath(a.dir, hashKey(t.infoHash));
        const st = t.status();
        writeAtomic(file, bytes);
        saved++;
        out.event("interrupted", {
          signal: ctx.signal(),
          resumeFile: file,
          totalDone: st.totalDone,
          totalWanted: st.totalWanted,
          progress: st.progress,
          pieces: st.numPieces,
          pieceCount: st.pieceCount,
          pieceSize: st.pieceSize,
        });
        out.say(
          `interrupted at ${(st.progress * 100).toFixed(1)}% (${formatBytes(st.totalDone)}); ` +
            `resume data saved to ${file}; run the same command again to resume`,
        );
      },
    });
  } catch (e) {
    out.warn(`resume data not saved: ${(e as Error).message}`);
  }
  if (saved === 0) out.event("interrupted", { signal: ctx.signal(), resumeFile: null });
  return interruptCode(ctx.signal());
}

/**
 * Reports progress of `t` every `interval` seconds until `until` settles;
 * returns how it settled.
 */
export async function reportUntil<T>(
  out: Output,
  t: Torrent,
  interval: number,
  mode: "download" | "seed",
  until: Promise<T>,
  check?: () => void,
): Promise<T> {
  const tick = () => {
    try {
      check?.();
      out.progress(progressOf(t.status()), mode);
    } catch {
      // the session is closing
    }
  };
  tick();
  const timer = setInterval(tick, interval * 1000);
  try {
    return await until;
  } finally {
    clearInterval(timer);
  }
}

/** Runs `download`. */
export async function download(ctx: Context, argv: string[]): Promise<number> {
  const p = parseArgs(argv, DOWNLOAD_SPECS, "download");
  const out = ctx.output(p);
  if (p.positionals.length !== 1) {
    throw new UsageError(
      p.positionals.length === 0
        ? "download: give a magnet link, .torrent file, http(s) URL or info-hash"
        : `download: one input at a time (got ${p.positionals.length})`,
      "try: torrentxt download --help",
    );
  }
  const interval = intervalOf(p, out);
  peersOf(p); // bad peers are usage errors before anything starts
  const dir = resolve(p.values.get("output") ?? ".");
  mkdirSync(dir, { recursive: true });
  const session = await openSession(p);
  let added: Added | undefined;
  try {
    added = await addForTransfer(session, p, out, dir);
    const t = added.torrent;
    const w = watchTorrent(t, () => {
      const st = t.status();
      out.event("metadata", {
        name: st.name,
        totalSize: st.totalSize,
        pieceCount: st.pieceCount,
        pieceSize: st.pieceSize,
      });
      out.say(
        `metadata: ${st.name}, ${formatBytes(st.totalSize)} in ${st.pieceCount} pieces of ${
          formatBinary(st.pieceSize)
        }`,
      );
    });
    const outcome = await reportUntil(
      out,
      t,
      interval,
      "download",
      Promise.race([w.finished.then(() => "finished" as const), ctx.interrupted.then(() => "interrupted" as const)]),
      () => w.check(),
    );
    await w.stop();
    if (outcome === "interrupted") return await closeInterrupted(ctx, out, added);
    const st = t.status();
    out.progress(progressOf(st));
    out.event("finished", { ...progressOf(st), savePath: dir, infoHash: t.infoHash });
    out.say(`done: ${st.name}, ${formatBytes(st.totalWanted)} in ${dir}`);
    if (p.flags.has("seed")) {
      out.say("seeding; Ctrl-C to stop");
      await reportUntil(out, t, interval, "seed", ctx.interrupted);
      return await closeInterrupted(ctx, out, added);
    }
    rmSync(resumePath(dir, hashKey(t.infoHash)), { force: true });
    await session.close(); // joins the disk threads: every byte is on disk after this
    return 0;
  } finally {
    out.flush();
    await session.close().catch(() => {});
  }
}
