/**
 * The flagship web client's server side: a fetch handler over one Session.
 * The page (static/) talks to it over a small JSON API and one live update
 * stream (Server-Sent Events) driven by `session.events()`.
 *
 * Routes (all JSON unless noted):
 *   GET  /                        the page (HTML; static/app.js, static/style.css)
 *   GET  /api/torrents            every torrent's summary
 *   POST /api/add                 { input } magnet | bare info-hash | http(s) URL of a .torrent,
 *                                 or { torrentBase64 } (an uploaded .torrent); → { id }
 *   POST /api/create              { path } create a torrent of a local path and seed it; → { id, magnet }
 *   POST /api/t/:id/:action       pause | resume | recheck | reannounce | remove ({ deleteFiles })
 *                                 | queue-up | queue-down | sequential ({ on }) | priority ({ file, priority })
 *   GET  /api/t/:id               details: files, peers, trackers, pieces (bitfield hex)
 *   GET  /api/dht                 DHT status; POST /api/dht/bootstrap { node: "host:port" }
 *   GET  /api/stream              text/event-stream: "torrents" snapshots and "log" lines
 *
 * Only 127.0.0.1 / localhost Host headers are served (DNS rebinding).
 * @module
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createTorrent, type Session, type Torrent, TorrentError } from "../../mod.ts";

const STATIC = join(dirname(fileURLToPath(import.meta.url)), "static");
const PAGES: Record<string, [string, string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
  "/style.css": ["style.css", "text/css; charset=utf-8"],
};
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Options of {@link createClientApp}. */
export interface ClientAppOptions {
  /** Where downloads go. */
  savePath: string;
  /** Host names the server answers to besides 127.0.0.1 / localhost / [::1]. */
  allowHosts?: string[];
}

/** A torrent's row in the table. */
export interface TorrentSummary {
  id: string;
  name: string;
  state: string;
  progress: number;
  downloadRate: number;
  uploadRate: number;
  numPeers: number;
  eta: number | null;
  totalSize: number;
  totalDone: number;
  paused: boolean;
  queuePosition: number;
  sequential: boolean;
  error: string | null;
}

/** The client app: its fetch handler and how to stop it. */
export interface ClientApp {
  handler(req: Request): Promise<Response>;
  close(): Promise<void>;
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const fail = (status: number, code: string, message: string) => json({ error: { code, message } }, status);

function idOf(t: Torrent): string {
  return t.infoHash.v1 ?? t.infoHash.v2 ?? "";
}

function summary(t: Torrent): TorrentSummary {
  const s = t.status();
  const flags = t.flags();
  const left = s.totalWanted - s.totalWantedDone;
  return {
    id: idOf(t),
    name: s.name || idOf(t),
    state: s.error ? "error" : flags.paused ? "paused" : s.state,
    progress: s.progress,
    downloadRate: s.downloadRate,
    uploadRate: s.uploadRate,
    numPeers: s.numPeers,
    eta: s.downloadRate > 0 && left > 0 ? Math.round(left / s.downloadRate) : null,
    totalSize: s.totalSize,
    totalDone: s.totalDone,
    paused: flags.paused,
    queuePosition: s.queuePosition,
    sequential: flags.sequential,
    error: s.error ? s.error.message : null,
  };
}

/** Creates the app over `session` (which the caller opens and closes). */
export function createClientApp(session: Session, options: ClientAppOptions): ClientApp {
  const hosts = new Set(["127.0.0.1", "localhost", "[::1]", ...(options.allowHosts ?? [])]);
  const savePath = resolve(options.savePath);
  const streams = new Set<(chunk: string) => void>();
  const log: string[] = [];
  const events = session.events();
  let snapshotTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const broadcast = (event: string, data: unknown) => {
    const chunk = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const send of streams) send(chunk);
  };
  const snapshot = () => session.closed ? [] : session.torrents().map(summary);
  // Events drive the updates: each batch of events schedules one snapshot.
  const scheduleSnapshot = () => {
    if (snapshotTimer !== undefined || closed) return;
    snapshotTimer = setTimeout(() => {
      snapshotTimer = undefined;
      if (!closed && streams.size > 0) broadcast("torrents", snapshot());
    }, 200);
  };
  const LOGGED = new Set([
    "torrent_added",
    "metadata_received",
    "torrent_finished",
    "torrent_paused",
    "torrent_resumed",
    "torrent_removed",
    "torrent_error",
    "file_error",
    "tracker_error",
    "torrent_checked",
    "peer_connect",
    "dht_bootstrap",
    "listen_succeeded",
    "storage_moved",
  ]);
  (async () => {
    for await (const ev of events) {
      scheduleSnapshot();
      if (LOGGED.has(ev.type)) {
        const line = `${new Date().toISOString().slice(11, 19)} ${ev.type}: ${ev.message}`;
        log.push(line);
        if (log.length > 200) log.shift();
        broadcast("log", line);
      }
    }
  })();
  // While anything moves, rates change without events: refresh once a second.
  const ticker = setInterval(() => {
    if (closed || streams.size === 0 || session.closed) return;
    if (session.torrents().some((t) => t.status().state !== "seeding" || t.status().uploadRate > 0)) scheduleSnapshot();
  }, 1000);

  const find = (id: string): Torrent => {
    const t = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(id) ? session.findTorrent(id) : undefined;
    if (!t) throw new TorrentError("INVALID_ARGUMENT", `no torrent ${id}`);
    return t;
  };

  async function add(body: Record<string, unknown>): Promise<Torrent> {
    if (typeof body.torrentBase64 === "string") {
      const bin = Uint8Array.from(atob(body.torrentBase64), (c) => c.charCodeAt(0));
      return await session.add({ torrent: bin, savePath });
    }
    const input = typeof body.input === "string" ? body.input.trim() : "";
    if (input.startsWith("magnet:")) return await session.add({ magnet: input, savePath });
    if (/^[0-9a-fA-F]{40}$|^[0-9a-fA-F]{64}$/.test(input)) {
      return await session.add({ infoHash: input.toLowerCase(), savePath });
    }
    if (/^https?:\/\//i.test(input)) {
      const r = await fetch(input, { signal: AbortSignal.timeout(15_000) });
      if (!r.ok) throw new TorrentError("INVALID_ARGUMENT", `fetching ${input}: HTTP ${r.status}`);
      const bytes = new Uint8Array(await r.arrayBuffer());
      if (bytes.length > 10 << 20) throw new TorrentError("INVALID_ARGUMENT", "the .torrent is larger than 10 MB");
      return await session.add({ torrent: bytes, savePath });
    }
    throw new TorrentError("INVALID_ARGUMENT", "give a magnet link, an info-hash, or an http(s) URL of a .torrent");
  }

  async function action(t: Torrent, what: string, body: Record<string, unknown>): Promise<unknown> {
    switch (what) {
      case "pause":
        return t.pause();
      case "resume":
        return t.resume();
      case "recheck":
        return t.forceRecheck();
      case "reannounce":
        return t.forceReannounce();
      case "remove":
        return await t.remove({ deleteFiles: body.deleteFiles === true });
      case "queue-up":
        return t.queueUp();
      case "queue-down":
        return t.queueDown();
      case "sequential":
        return t.setFlags({ sequential: body.on === true });
      case "priority":
        return await t.setFilePriority(body.file as number, body.priority as never);
    }
    throw new TorrentError("INVALID_ARGUMENT", `unknown action ${what}`);
  }

  function details(t: Torrent) {
    const st = t.status();
    const hasMeta = st.hasMetadata;
    const pieces = hasMeta ? t.pieces() : undefined;
    return {
      ...summary(t),
      savePath: st.savePath,
      files: hasMeta ? t.files() : [],
      peers: t.peers().map((p) => ({
        address: p.address,
        client: p.client,
        downloadRate: p.downloadRate,
        uploadRate: p.uploadRate,
        progress: p.progress,
        source: p.source,
      })),
      trackers: t.trackers().map((tr) => ({ url: tr.url, tier: tr.tier })),
      webSeeds: t.webSeeds(),
      pieces: pieces
        ? { count: pieces.count, have: pieces.numHave, bits: pieces.toArray().map((b) => b ? 1 : 0).join("") }
        : null,
    };
  }

  async function route(req: Request, url: URL): Promise<Response> {
    const path = url.pathname;
    const page = PAGES[path];
    if (page && req.method === "GET") {
      return new Response(readFileSync(join(STATIC, page[0])), {
        headers: { "content-type": page[1], "content-security-policy": CSP, "x-content-type-options": "nosniff" },
      });
    }
    if (path === "/favicon.ico") return new Response(null, { status: 204 });
    const body = req.method === "POST" ? await req.json().catch(() => ({})) as Record<string, unknown> : {};
    if (path === "/api/torrents" && req.method === "GET") return json(snapshot());
    if (path === "/api/add" && req.method === "POST") return json({ id: idOf(await add(body)) });
    if (path === "/api/create" && req.method === "POST") {
      if (typeof body.path !== "string" || body.path === "") {
        throw new TorrentError("INVALID_ARGUMENT", "give the path of a file or folder to share");
      }
      const p = resolve(body.path);
      const made = await createTorrent({ path: p, version: "hybrid" });
      const t = await session.add({ torrent: made.torrent, savePath: dirname(p) });
      return json({ id: idOf(t), magnet: made.magnet });
    }
    if (path === "/api/dht" && req.method === "GET") {
      const s = await session.dht.stats({ timeoutMs: 5000 }).catch(() => null);
      return json({ stats: s });
    }
    if (path === "/api/dht/bootstrap" && req.method === "POST") {
      session.dht.addNode(String(body.node ?? ""));
      return json({ ok: true });
    }
    if (path === "/api/log" && req.method === "GET") return json(log);
    if (path === "/api/stream" && req.method === "GET") return stream();
    let m = /^\/api\/t\/([0-9a-f]+)$/.exec(path);
    if (m && req.method === "GET") return json(details(find(m[1])));
    m = /^\/api\/t\/([0-9a-f]+)\/([a-z-]+)$/.exec(path);
    if (m && req.method === "POST") {
      await action(find(m[1]), m[2], body);
      scheduleSnapshot();
      return json({ ok: true });
    }
    return fail(404, "NOT_FOUND", `no route ${req.method} ${path}`);
  }

  function stream(): Response {
    let send: ((chunk: string) => void) | undefined;
    const enc = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        send = (chunk) => {
          try {
            controller.enqueue(enc.encode(chunk));
          } catch {
            if (send) streams.delete(send);
          }
        };
        streams.add(send);
        send(`event: torrents\ndata: ${JSON.stringify(snapshot())}\n\n`);
        for (const line of log.slice(-50)) send(`event: log\ndata: ${JSON.stringify(line)}\n\n`);
      },
      cancel() {
        if (send) streams.delete(send);
      },
    });
    return new Response(body, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
    });
  }

  return {
    async handler(req: Request): Promise<Response> {
      const url = new URL(req.url);
      const host = (req.headers.get("host") ?? "").replace(/:\d+$/, "");
      if (!hosts.has(host)) return fail(403, "FORBIDDEN_HOST", "this server answers to 127.0.0.1 and localhost only");
      if (req.method === "POST") {
        const origin = req.headers.get("origin");
        if (origin !== null && new URL(origin).host !== req.headers.get("host")) {
          return fail(403, "FORBIDDEN_ORIGIN", "cross-origin requests are refused");
        }
      }
      try {
        return await route(req, url);
      } catch (e) {
        if (e instanceof TorrentError) {
          return fail(e.code === "INVALID_ARGUMENT" || e.code.startsWith("INVALID") ? 400 : 409, e.code, e.message);
        }
        return fail(500, "INTERNAL", (e as Error).message);
      }
    },
    async close() {
      closed = true;
      clearInterval(ticker);
      clearTimeout(snapshotTimer);
      await events.return();
      for (const send of streams) send("event: bye\ndata: null\n\n");
      streams.clear();
    },
  };
}
