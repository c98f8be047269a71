/**
 * `torrentxt stream <torrent|magnet>`: downloads and serves the files over
 * HTTP while they arrive (the streaming server of plugins/http), until Ctrl-C.
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { httpServer } from "../plugins/http/mod.ts";
import { type OptionSpec, parseArgs, parseInteger, UsageError } from "./_args.ts";
import {
  type Context,
  intervalOf,
  openSession,
  OUTPUT_SPECS,
  PEER_SPEC,
  peersOf,
  SESSION_SPECS,
  watchTorrent,
} from "./_common.ts";
import { type Added, addForTransfer, closeInterrupted, reportUntil } from "./download.ts";
import { formatBytes } from "./_output.ts";

/** Options of `stream`. */
export const STREAM_SPECS: Record<string, OptionSpec> = {
  port: { kind: "value", arg: "port", help: "HTTP port (default 0: a free one)" },
  host: { kind: "value", arg: "address", help: "HTTP address (default 127.0.0.1; others expose your files)" },
  output: { kind: "value", short: "o", arg: "dir", help: "directory the files download into (default: .)" },
  ...PEER_SPEC,
  ...SESSION_SPECS,
  ...OUTPUT_SPECS,
};

/** Usage of `stream`. */
export const STREAM_USAGE = "torrentxt stream <magnet|file.torrent|url|info-hash> [--port N] [-o dir] " +
  "[--peer host:port]...";

/** Runs `stream`. */
export async function stream(ctx: Context, argv: string[]): Promise<number> {
  const p = parseArgs(argv, STREAM_SPECS, "stream");
  const out = ctx.output(p);
  if (p.positionals.length !== 1) {
    throw new UsageError(
      "stream: give one magnet link, .torrent file, URL or info-hash",
      "try: torrentxt stream --help",
    );
  }
  const interval = intervalOf(p, out);
  const port = parseInteger(p.values.get("port") ?? "0", "--port", 0, 65535);
  const hostname = p.values.get("host") ?? "127.0.0.1";
  peersOf(p);
  const dir = resolve(p.values.get("output") ?? ".");
  mkdirSync(dir, { recursive: true });
  const session = await openSession(p);
  let added: Added | undefined;
  try {
    const http = await session.use(httpServer({ hostname, port }));
    added = await addForTransfer(session, p, out, dir);
    const t = added.torrent;
    out.event("serving", { url: http.url, playlist: http.playlistUrl(t) });
    out.say(`serving on ${http.url}/  (playlist ${http.playlistUrl(t)})`);
    const w = watchTorrent(t, () => {
      const files = t.files().map((f) => ({
        index: f.index,
        path: f.path,
        size: f.size,
        url: http.fileUrl(t, f.index),
      }));
      out.event("files", { name: t.status().name, files });
      for (const f of files) out.say(`  ${f.url}  ${f.path} (${formatBytes(f.size)})`);
    });
    w.finished.then(() => {
      out.event("finished", { infoHash: t.infoHash, savePath: dir });
      out.say("download complete; still serving (Ctrl-C to stop)");
    }, () => {});
    const failed = w.finished.then(() => new Promise<never>(() => {}));
    await reportUntil(
      out,
      t,
      interval,
      "download",
      Promise.race([ctx.interrupted, failed]),
      () => w.check(),
    );
    await w.stop();
    return await closeInterrupted(ctx, out, added);
  } finally {
    out.flush();
    await session.close().catch(() => {});
  }
}
