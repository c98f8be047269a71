/**
 * A streaming HTTP server for a session's torrents: each file by info-hash
 * and file index, with Range requests served as the pieces arrive (piece
 * deadlines on the requested range and a read-ahead window), an HTML index,
 * an `.m3u` playlist and a JSON listing. Binds 127.0.0.1 by default; the
 * fetch handler can also be mounted in your own `Deno.serve` / `Bun.serve`.
 *
 * Routes (below `basePath`):
 * - `GET /` — HTML index of the torrents and their files
 * - `GET /torrents.json` — JSON listing
 * - `GET /playlist.m3u` — every media file of every torrent with metadata
 * - `GET /t/<info-hash>/playlist.m3u` — one torrent's media files
 * - `GET|HEAD /t/<info-hash>/<file index>[/<name>]` — one file (the name is cosmetic)
 *
 * @example Stream a file of a torrent while it downloads
 * ```ts
 * import { Session } from "../../mod.ts";
 * import { httpServer } from "./mod.ts";
 * await using session = await Session.open({ profile: "isolated" });
 * const t = await session.add({ magnet: "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", savePath: "/tmp/dl" });
 * await using http = await session.use(httpServer());
 * console.log(http.url, http.fileUrl(t, 0)); // open the file URL in a player
 * ```
 *
 * @module
 */
import { z } from "zod";
import type { EventStream, FileEntry, Plugin, PluginInstance, Session, Torrent, TorrentEvent } from "../../mod.ts";
import { TorrentError } from "../../mod.ts";
import {
  baseName,
  contentDisposition,
  contentType,
  escapeHtml,
  hostName,
  isMedia,
  m3uText,
  normalizeHost,
  parseRange,
  parseRoute,
} from "./_parse.ts";
import { diskPath, FileReader, TorrentWatch } from "./_stream.ts";
import { listen, type Listening } from "./_serve.ts";

/** Options of {@link httpServer}. */
export interface HttpServerOptions {
  /** Address to listen on (default "127.0.0.1"). Anything but loopback exposes the torrents to the network. */
  hostname?: string;
  /** Port, 0..65535 (default 0: a free port; see `url`). */
  port?: number;
  /** Listen (default true). false: only build `handler`, for mounting in your own server. */
  serve?: boolean;
  /**
   * Host names (Host header, port ignored, case-insensitive) answered besides
   * 127.0.0.1, localhost, [::1] and `hostname`. Any other Host is refused
   * with 421 (DNS rebinding); a missing or malformed one with 400.
   */
  allowedHosts?: string[];
  /**
   * Value of `Access-Control-Allow-Origin` on every response ("*" or one
   * origin). Default: none. The request's Origin is never reflected.
   */
  allowOrigin?: string;
  /** Bytes ahead of the read position that get piece deadlines, 0..1 GiB (default 4 MiB). */
  readAhead?: number;
  /**
   * Most ranges in one Range header, 1..64 (default 8); more get 416.
   * Several ranges are served as one part spanning them.
   */
  maxRanges?: number;
  /** How long a request for a file of a torrent without metadata waits for it, ms (default 30000); then 504. */
  metadataTimeout?: number;
  /** Path prefix the routes live under, e.g. "/media" (default "": the root). */
  basePath?: string;
}

/** The server's handle: `session.use(httpServer())` returns it. */
export interface HttpServer extends PluginInstance {
  /** The fetch handler; mount it in your own server when `serve: false`. Never rejects. */
  readonly handler: (req: Request) => Promise<Response>;
  /** Base URL when serving (e.g. "http://127.0.0.1:41234"), basePath included; undefined with `serve: false`. */
  readonly url: string | undefined;
  /**
   * URL of file `fileIndex` of `torrent` (absolute when serving, a path
   * otherwise). Ends with the file's name when the metadata is known.
   * @throws TorrentError INVALID_ARGUMENT (not an index, or no such file once the metadata is known; pad files
   *   are not files), TORRENT_REMOVED
   */
  fileUrl(torrent: Torrent, fileIndex: number): string;
  /** URL of the `.m3u` playlist of `torrent`'s media files, or of every torrent's. */
  playlistUrl(torrent?: Torrent): string;
  /** File responses whose body is still streaming. */
  readonly activeStreams: number;
  /** Pieces that have a deadline set by this server (released when their readers close). */
  readonly heldDeadlines: number;
  /** Resolves when no file response is streaming (at once if none is). */
  idle(): Promise<void>;
  /** Stops the server: ends every streaming response, drops every deadline, stops listening. */
  detach(): Promise<void>;
}

const MiB = 1024 * 1024;
const OptionsSchema = z.object({
  hostname: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  serve: z.boolean().optional(),
  allowedHosts: z.array(z.string().min(1).max(255)).optional(),
  allowOrigin: z.string().regex(/^(\*|[a-z][a-z0-9+.-]*:\/\/[^\s/,]+)$/i, {
    error: 'allowOrigin must be "*" or an origin like "http://app.example"',
  }).optional(),
  readAhead: z.number().int().min(0).max(1024 * MiB).optional(),
  maxRanges: z.number().int().min(1).max(64).optional(),
  metadataTimeout: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  basePath: z.string().regex(/^(\/[A-Za-z0-9._~-]+)*$/, {
    error: 'basePath must be "" or like "/a/b" (no trailing slash)',
  }).optional(),
}).strict();

type Options = Required<Omit<HttpServerOptions, "allowOrigin">> & { allowOrigin?: string };

/**
 * The streaming HTTP server plugin: `await session.use(httpServer())`.
 *
 * @example Serve on a free loopback port
 * ```ts
 * import { Session } from "../../mod.ts";
 * import { httpServer } from "./mod.ts";
 * await using session = await Session.open({ profile: "isolated" });
 * await using http = await session.use(httpServer({ readAhead: 8 * 1024 * 1024 }));
 * console.log(`index at ${http.url}/`);
 * ```
 * @example Mount the handler in your own server
 * ```ts
 * import { Session } from "../../mod.ts";
 * import { httpServer } from "./mod.ts";
 * await using session = await Session.open({ profile: "isolated" });
 * const http = await session.use(httpServer({ serve: false, basePath: "/media" }));
 * Deno.serve({ hostname: "127.0.0.1", port: 8080 }, (req) =>
 *   new URL(req.url).pathname.startsWith("/media/") ? http.handler(req) : new Response("my app"));
 * ```
 * @throws TorrentError INVALID_ARGUMENT (bad options); attaching throws LISTEN_FAILED when it cannot listen
 */
export function httpServer(options: HttpServerOptions = {}): Plugin<HttpServer> {
  const r = OptionsSchema.safeParse(options);
  if (!r.success) {
    const issues = r.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ` : "") + i.message).join("; ");
    throw new TorrentError("INVALID_ARGUMENT", `httpServer: ${issues}`, { cause: r.error });
  }
  const v = r.data;
  const o: Options = {
    hostname: v.hostname ?? "127.0.0.1",
    port: v.port ?? 0,
    serve: v.serve ?? true,
    allowedHosts: v.allowedHosts ?? [],
    allowOrigin: v.allowOrigin,
    readAhead: v.readAhead ?? 4 * MiB,
    maxRanges: v.maxRanges ?? 8,
    metadataTimeout: v.metadataTimeout ?? 30_000,
    basePath: v.basePath ?? "",
  };
  return { name: "http", attach: (session) => Server.start(session, o) };
}

const WATCHED = [
  "piece_finished",
  "metadata_received",
  "torrent_removed",
  "torrent_checked",
  "torrent_finished",
  "hash_failed",
  "state_changed",
  "torrent_error",
  "file_error",
  "storage_moved",
  "file_renamed",
] as const;

/** Headers on every response. */
const BASE_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};
const INDEX_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const FILE_CSP = "default-src 'none'; sandbox";

const REASON: Record<number, string> = {
  400: "bad request",
  403: "forbidden",
  404: "not found",
  405: "method not allowed",
  416: "range not satisfiable",
  421: "misdirected request",
  500: "internal error",
  503: "unavailable",
  504: "timed out waiting for the torrent's metadata",
};

// Waits for metadata are bounded by metadataTimeout (and end when the server
// detaches), not by request.signal: Deno aborts that signal on every
// completed response too ("legacy abort") and warns when it is used.
const NEVER = new AbortController().signal;

function hostOfUrl(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

function idOf(t: Torrent): string {
  const ih = t.infoHash;
  return (ih.v1 ?? ih.v2)!;
}

class Server implements HttpServer {
  readonly #session: Session;
  readonly #o: Options;
  readonly #hosts: Set<string>;
  readonly #watches = new Map<Torrent, TorrentWatch>();
  readonly #streams = new Set<FileReader>();
  readonly #idle = new Set<() => void>();
  readonly #events: EventStream;
  #listening: Listening | undefined;
  #detached = false;
  url: string | undefined;
  readonly handler: (req: Request) => Promise<Response>;

  private constructor(session: Session, o: Options) {
    this.#session = session;
    this.#o = o;
    const hosts = ["127.0.0.1", "localhost", "[::1]", ...o.allowedHosts];
    if (o.hostname !== "0.0.0.0" && o.hostname !== "::") hosts.push(o.hostname);
    this.#hosts = new Set(hosts.map(normalizeHost));
    this.#events = session.events({ types: WATCHED });
    this.handler = (req) => this.#handle(req).catch((e) => this.#fail(e));
  }

  static start(session: Session, o: Options): Server {
    const s = new Server(session, o);
    void s.#pump();
    if (o.serve) {
      try {
        s.#listening = listen(o.hostname, o.port, s.handler);
      } catch (e) {
        void s.#events.return();
        throw e;
      }
      const h = o.hostname.includes(":") ? `[${o.hostname}]` : o.hostname;
      s.url = `http://${h}:${s.#listening.port}${o.basePath}`;
    }
    return s;
  }

  get activeStreams(): number {
    return this.#streams.size;
  }

  get heldDeadlines(): number {
    let n = 0;
    for (const w of this.#watches.values()) n += w.held;
    return n;
  }

  idle(): Promise<void> {
    if (this.#streams.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  fileUrl(torrent: Torrent, fileIndex: number): string {
    if (!Number.isInteger(fileIndex) || fileIndex < 0 || fileIndex > 999_999_999) {
      throw new TorrentError("INVALID_ARGUMENT", "fileUrl: fileIndex must be an integer from 0");
    }
    const base = `${this.url ?? this.#o.basePath}/t/${idOf(torrent)}/${fileIndex}`;
    if (!torrent.status().hasMetadata) return base;
    const f = torrent.files({ includePad: true }).find((x) => x.index === fileIndex);
    if (!f || f.pad) throw new TorrentError("INVALID_ARGUMENT", `fileUrl: the torrent has no file ${fileIndex}`);
    return `${base}/${encodeURIComponent(baseName(f.path))}`;
  }

  playlistUrl(torrent?: Torrent): string {
    const base = this.url ?? this.#o.basePath;
    return torrent ? `${base}/t/${idOf(torrent)}/playlist.m3u` : `${base}/playlist.m3u`;
  }

  async detach(): Promise<void> {
    if (this.#detached) return;
    this.#detached = true;
    const gone = new TorrentError("ABORTED", "the HTTP server was detached");
    for (const r of [...this.#streams]) r.abort(gone);
    for (const w of this.#watches.values()) w.dispose(gone);
    this.#watches.clear();
    await this.#events.return();
    await this.#listening?.close();
  }

  // ---- events

  async #pump(): Promise<void> {
    for await (const ev of this.#events) this.#onEvent(ev);
  }

  #onEvent(ev: TorrentEvent): void {
    if (ev.type === "events_dropped") {
      for (const w of this.#watches.values()) w.wakeAll();
      return;
    }
    const t = (ev as { torrent?: Torrent }).torrent;
    const w = t && this.#watches.get(t);
    if (!w) return;
    if (ev.type === "piece_finished") w.pieceFinished(ev.piece);
    else if (ev.type === "torrent_removed") {
      w.dispose(new TorrentError("TORRENT_REMOVED", "the torrent was removed from its session"));
      this.#watches.delete(t);
    } else w.wakeAll();
  }

  #watch(t: Torrent): TorrentWatch {
    if (this.#detached) throw new TorrentError("ABORTED", "the HTTP server was detached");
    let w = this.#watches.get(t);
    if (!w) this.#watches.set(t, w = new TorrentWatch(t));
    return w;
  }

  // ---- responses

  #headers(extra: Record<string, string>): Headers {
    const h = new Headers({ ...BASE_HEADERS, ...extra });
    if (this.#o.allowOrigin !== undefined) {
      h.set("access-control-allow-origin", this.#o.allowOrigin);
      h.set("access-control-expose-headers", "content-range, content-length, accept-ranges, content-disposition");
      if (this.#o.allowOrigin !== "*") h.append("vary", "origin");
    }
    return h;
  }

  #error(status: number, detail = "", extra: Record<string, string> = {}): Response {
    const body = `${status} ${REASON[status] ?? "error"}${detail ? `: ${detail}` : ""}\n`;
    return new Response(body, {
      status,
      headers: this.#headers({
        "content-type": "text/plain; charset=utf-8",
        "content-security-policy": FILE_CSP,
        "cache-control": "no-store",
        ...extra,
      }),
    });
  }

  #fail(e: unknown): Response {
    if (e instanceof TorrentError) {
      if (e.code === "TORRENT_REMOVED") return this.#error(404, "the torrent was removed");
      if (e.code === "SESSION_CLOSED" || e.code === "ABORTED") return this.#error(503, e.message);
    }
    return this.#error(500);
  }

  async #handle(req: Request): Promise<Response> {
    if (this.#detached || this.#session.closed) return this.#error(503, "the server is stopping");
    // A Request made in process (no server) has no Host header: its URL's host stands in.
    const host = hostName(req.headers.get("host") ?? hostOfUrl(req.url));
    if (host === undefined) return this.#error(400, "missing or malformed Host header");
    if (!this.#hosts.has(host)) return this.#error(421, "this server does not answer to that host name");
    const method = req.method;
    if (method === "OPTIONS" && this.#o.allowOrigin !== undefined) {
      return new Response(null, {
        status: 204,
        headers: this.#headers({
          "access-control-allow-methods": "GET, HEAD",
          "access-control-allow-headers": "range, if-range",
          "access-control-max-age": "600",
        }),
      });
    }
    if (method !== "GET" && method !== "HEAD") return this.#error(405, "", { allow: "GET, HEAD" });
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return this.#error(400, "bad URL");
    }
    const route = parseRoute(url.pathname, this.#o.basePath);
    const head = method === "HEAD";
    switch (route.kind) {
      case "error":
        return this.#error(route.status, route.reason);
      case "index":
        return this.#text(this.#index(), "text/html; charset=utf-8", head, { "content-security-policy": INDEX_CSP });
      case "json":
        return this.#text(JSON.stringify(this.#listing(), null, 1), "application/json", head);
      case "playlist":
        return await this.#playlist(route.infoHash, url, head);
      case "file":
        return await this.#file(route.infoHash, route.index, url, req, head);
    }
  }

  #text(body: string, type: string, head: boolean, extra: Record<string, string> = {}): Response {
    const bytes = new TextEncoder().encode(body);
    return new Response(head ? null : bytes, {
      status: 200,
      headers: this.#headers({
        "content-type": type,
        "content-length": String(bytes.length),
        "content-security-policy": FILE_CSP,
        "cache-control": "no-store",
        ...extra,
      }),
    });
  }

  #find(infoHash: string): Torrent | undefined {
    return this.#session.findTorrent(infoHash);
  }

  #mediaFiles(t: Torrent): FileEntry[] {
    return t.files().filter((f) => !f.symlink && isMedia(contentType(baseName(f.path))));
  }

  async #playlist(infoHash: string | undefined, url: URL, head: boolean): Promise<Response> {
    const base = this.url ?? `${url.origin}${this.#o.basePath}`;
    let torrents: Torrent[];
    if (infoHash !== undefined) {
      const t = this.#find(infoHash);
      if (!t) return this.#error(404, "no torrent with that info-hash");
      if (!await this.#watch(t).waitMetadata(NEVER, this.#o.metadataTimeout)) return this.#error(504);
      torrents = [t];
    } else {
      torrents = this.#session.torrents().filter((t) => t.status().hasMetadata);
    }
    const lines = ["#EXTM3U"];
    for (const t of torrents) {
      for (const f of this.#mediaFiles(t)) {
        const name = baseName(f.path);
        lines.push(`#EXTINF:-1,${m3uText(name)}`, `${base}/t/${idOf(t)}/${f.index}/${encodeURIComponent(name)}`);
      }
    }
    return this.#text(lines.join("\n") + "\n", "audio/x-mpegurl; charset=utf-8", head);
  }

  #listing(): unknown {
    const base = this.url ?? this.#o.basePath;
    return {
      torrents: this.#session.torrents().map((t) => {
        const st = t.status();
        const id = idOf(t);
        return {
          id,
          infoHash: t.infoHash,
          name: st.name,
          hasMetadata: st.hasMetadata,
          progress: st.progress,
          size: st.totalSize,
          playlist: `${base}/t/${id}/playlist.m3u`,
          files: st.hasMetadata
            ? t.files().filter((f) => !f.symlink).map((f) => ({
              index: f.index,
              path: f.path,
              size: f.size,
              progress: f.progress,
              type: contentType(baseName(f.path)),
              url: `${base}/t/${id}/${f.index}/${encodeURIComponent(baseName(f.path))}`,
            }))
            : [],
        };
      }),
    };
  }

  #index(): string {
    const base = this.#o.basePath;
    const out = [
      "<!doctype html>",
      '<html><head><meta charset="utf-8"><title>TorrentXT</title></head><body>',
      `<h1>Torrents</h1><p><a href="${base}/playlist.m3u">playlist</a> · <a href="${base}/torrents.json">JSON</a></p>`,
    ];
    for (const t of this.#session.torrents()) {
      const st = t.status();
      const id = idOf(t);
      out.push(
        `<h2>${escapeHtml(st.name)}</h2><p>${(st.progress * 100).toFixed(1)}% · <code>${id}</code></p><ul>`,
      );
      if (!st.hasMetadata) out.push("<li>waiting for metadata</li>");
      else {
        for (const f of t.files()) {
          if (f.symlink) continue;
          const name = baseName(f.path);
          const href = `${base}/t/${id}/${f.index}/${encodeURIComponent(name)}`;
          out.push(`<li><a href="${escapeHtml(href)}">${escapeHtml(f.path)}</a> (${f.size} bytes)</li>`);
        }
      }
      out.push("</ul>");
    }
    out.push("</body></html>");
    return out.join("\n");
  }

  async #file(infoHash: string, index: number, url: URL, req: Request, head: boolean): Promise<Response> {
    const t = this.#find(infoHash);
    if (!t) return this.#error(404, "no torrent with that info-hash");
    const w = this.#watch(t);
    if (!await w.waitMetadata(NEVER, this.#o.metadataTimeout)) return this.#error(504);
    const f = t.files({ includePad: true }).find((x) => x.index === index);
    if (!f || f.pad || f.symlink) return this.#error(404, "no such file in the torrent");
    const st = t.status();
    const path = diskPath(st.savePath, f);
    if (path === undefined) return this.#error(404, "no such file in the torrent");
    const name = baseName(f.path);
    const type = contentType(name);
    const etag = `"${infoHash}-${index}"`;
    const common: Record<string, string> = {
      "accept-ranges": "bytes",
      "content-type": type,
      "content-disposition": contentDisposition(name, url.searchParams.has("download")),
      "content-security-policy": FILE_CSP,
      "cache-control": "private, max-age=3600",
      etag,
    };
    if (req.headers.get("if-none-match") === etag) {
      return new Response(null, { status: 304, headers: this.#headers({ etag, "accept-ranges": "bytes" }) });
    }
    const ifRange = req.headers.get("if-range");
    const r = parseRange(
      ifRange === null || ifRange === etag ? req.headers.get("range") : null,
      f.size,
      this.#o.maxRanges,
    );
    if (r.kind === "malformed") return this.#error(400, r.reason);
    if (r.kind === "too_many") {
      return this.#error(416, `at most ${this.#o.maxRanges} ranges`, { "content-range": `bytes */${f.size}` });
    }
    if (r.kind === "unsatisfiable") return this.#error(416, "", { "content-range": `bytes */${f.size}` });
    const [status, start, end] = r.kind === "range" ? [206, r.start, r.end] : [200, 0, f.size - 1];
    const headers = this.#headers({ ...common, "content-length": String(end - start + 1) });
    if (status === 206) headers.set("content-range", `bytes ${start}-${end}/${f.size}`);
    if (head || end < start) return new Response(head ? null : new Uint8Array(0), { status, headers });
    if (f.priority === 0) {
      // Wanted now: its pieces must be downloaded, into the file (not the part file).
      await t.setFilePriority(f.index, 1);
    }
    if (this.#detached) return this.#error(503, "the server is stopping");
    const reader = new FileReader(
      {
        watch: w,
        file: f,
        savePath: st.savePath,
        pieceSize: st.pieceSize,
        start,
        end,
        readAhead: this.#o.readAhead,
        media: isMedia(type),
      },
      path,
      (rd) => this.#closed(rd),
    );
    this.#streams.add(reader);
    return new Response(reader.stream, { status, headers });
  }

  #closed(r: FileReader): void {
    this.#streams.delete(r);
    if (this.#streams.size > 0) return;
    for (const resolve of this.#idle) resolve();
    this.#idle.clear();
  }
}
