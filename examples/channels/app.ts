/**
 * The channels app's server side: a fetch handler over one Session and the
 * channels plugin (BEP 46). The page (static/) talks to it over a small JSON
 * API and one live update stream (Server-Sent Events) driven by
 * `session.events()`.
 *
 * Routes (JSON in and out; every POST needs `content-type: application/json`):
 *   GET  /                      the page (HTML; static/app.js, static/style.css)
 *   GET  /api/state             { me, following, transfers } (what the stream sends)
 *   GET  /api/stream            text/event-stream: "state" snapshots
 *   GET  /api/dht               { nodes } DHT routing-table size (null: no answer)
 *   POST /api/name              { name } your channel's display name (≤ 64 bytes)
 *   POST /api/publish           { path, name? } create + seed a folder/file, publish it → { infoHash, seq, numSuccess }
 *   POST /api/follow            { address } follow a channel (magnet:?xs=urn:btpk:…) → { address }
 *   POST /api/unfollow          { address }
 *   POST /api/refresh           { address } look the channel up now → { seq | null }
 *   POST /api/download          { address, infoHash } download a release of a followed channel
 *   POST /api/drop              { text } quick drop → { code }
 *   POST /api/pickup            { code } → { text } (null: nobody has it)
 *
 * Errors: `{ error: { code, message } }` — bad input is 4xx with the
 * TorrentError code (INVALID_ARGUMENT, INVALID_CHANNEL_ADDRESS,
 * PATH_NOT_FOUND, …); a DHT request with no answer 504 TIMEOUT.
 *
 * What the data directory holds: `channel-key.json` (the channel's secret
 * seed, file mode 0600), `state.json` (name, releases, followed channels),
 * `torrents/<info-hash>.resume` (what was seeding or downloading, written
 * by {@link ChannelsApp.saveResumeData} when the session closes), and
 * `downloads/<channel>/` (releases of followed channels).
 *
 * Only 127.0.0.1 / localhost / [::1] Host headers are served (DNS rebinding).
 * @module
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createDhtKeypair, type Session, type Torrent, TorrentError } from "../../mod.ts";
import {
  channelAddress,
  type ChannelFollower,
  type ChannelRelease,
  type Channels,
  channels,
  parseChannelAddress,
} from "../../plugins/channels/mod.ts";

const STATIC = join(dirname(fileURLToPath(import.meta.url)), "static");
const PAGES: Record<string, [string, string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
  "/style.css": ["style.css", "text/css; charset=utf-8"],
  "/qr.js": ["qr.js", "text/javascript; charset=utf-8"],
};
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const SECURITY_HEADERS = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};
const MAX_BODY = 64 * 1024;
const HEX40 = /^[0-9a-f]{40}$/;

/** Options of {@link createChannelsApp}. */
export interface ChannelsAppOptions {
  /** Where the key, the state, resume data and downloads live (created when missing). */
  dataDir: string;
  /** Host names the server answers to besides 127.0.0.1 / localhost / [::1]. */
  allowHosts?: string[];
  /** How often followed channels are looked up, ms. Default 60 000. */
  pollIntervalMs?: number;
  /** Time limit of each DHT request, ms. Default 30 000. */
  timeoutMs?: number;
}

/** A row of the transfers table. */
export interface TransferRow {
  id: string;
  name: string;
  /** "mine" (published here) or the followed channel's address. */
  channel: string;
  state: string;
  progress: number;
  downloadRate: number;
  uploadRate: number;
  numPeers: number;
  totalSize: number;
  savePath: string;
  error: string | null;
}

/** A followed channel as the page shows it. */
export interface FollowedView {
  address: string;
  name: string;
  seq: number;
  feed: ChannelRelease[];
  /** Per release in the feed: "none" | "downloading" | "done" | "paused". */
  have: Record<string, string>;
  status: "looking" | "ok" | "error";
  error: { code: string; message: string } | null;
  savePath: string;
}

/** The app's whole state, as the page gets it. */
export interface AppState {
  me: { address: string; name: string; releases: ChannelRelease[] };
  following: FollowedView[];
  transfers: TransferRow[];
}

/** The channels app: its fetch handler, its channel, and how to stop it. */
export interface ChannelsApp {
  /** The fetch handler to serve (see `../client/serve.ts`). */
  handler(req: Request): Promise<Response>;
  /** Your channel's address (with its display name as `dn` when one is set). */
  readonly address: string;
  /** The state the page shows. */
  state(): AppState;
  /**
   * Writes a torrent's resume data into the data directory when the app
   * tracks it (published or downloaded here): pass it to
   * `session.close({ saveResumeData: app.saveResumeData })`.
   */
  saveResumeData(t: Torrent, bytes: Uint8Array): void;
  /** Stops the streams, followers and timers, and writes the state. The session stays open. */
  close(): Promise<void>;
}

interface Followed {
  address: string;
  name: string;
  savePath: string;
  follower: ChannelFollower;
  feed: ChannelRelease[];
  status: "looking" | "ok" | "error";
}

interface Tracked {
  /** "mine" or a followed channel's address. */
  channel: string;
  name: string;
}

interface SavedState {
  name?: string;
  releases?: ChannelRelease[];
  following?: { address: string; name?: string }[];
  tracked?: Record<string, Tracked>;
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...SECURITY_HEADERS },
  });
const fail = (status: number, code: string, message: string) => json({ error: { code, message } }, status);

const BAD_INPUT = new Set([
  "INVALID_ARGUMENT",
  "INVALID_MAGNET",
  "INVALID_TORRENT",
  "INVALID_CHANNEL_ADDRESS",
  "PATH_NOT_FOUND",
  "CHANNEL_WRONG_KEY",
  "CHANNEL_STALE_SEQUENCE",
  "CHANNEL_BAD_VALUE",
  "DHT_BAD_SIGNATURE",
]);

/** HTTP status of a TorrentError: bad input 400, a clash 409, no answer 504, the engine 502. */
export function statusOf(e: TorrentError): number {
  if (BAD_INPUT.has(e.code)) return 400;
  if (e.code === "TIMEOUT") return 504;
  if (e.code === "ENGINE" || e.code === "CREATE_FAILED") return 502;
  if (e.code === "SESSION_CLOSED" || e.code === "ABORTED") return 503;
  return 409;
}

const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const fromHex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));

/**
 * Loads the channel's key from `file` (a 32-byte seed in hex), or makes a
 * new one and writes it with mode 0600. A key file others can read is
 * tightened to 0600.
 */
async function loadKeys(file: string) {
  if (existsSync(file)) {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    let seed: Uint8Array;
    try {
      const j = JSON.parse(readFileSync(file, "utf8"));
      if (typeof j.seed !== "string" || !/^[0-9a-f]{64}$/.test(j.seed)) throw new Error("no 64-hex seed");
      seed = fromHex(j.seed);
    } catch (e) {
      throw new TorrentError("INVALID_ARGUMENT", `the key file ${file} is damaged (${(e as Error).message})`, {
        cause: e,
      });
    }
    return await createDhtKeypair(seed);
  }
  const keys = await createDhtKeypair();
  const body = JSON.stringify(
    {
      note: "The secret key of your TorrentXT channel. Whoever has this file can publish as you.",
      seed: toHex(keys.seed),
      publicKey: toHex(keys.publicKey),
    },
    null,
    2,
  );
  writeFileSync(file, body + "\n", { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600); // whatever the umask
  return keys;
}

/** Creates the app over `session` (which the caller opens and closes). */
export async function createChannelsApp(session: Session, options: ChannelsAppOptions): Promise<ChannelsApp> {
  const hosts = new Set(["127.0.0.1", "localhost", "[::1]", ...(options.allowHosts ?? []).map((h) => h.toLowerCase())]);
  const dataDir = resolve(options.dataDir);
  const torrentsDir = join(dataDir, "torrents");
  mkdirSync(torrentsDir, { recursive: true, mode: 0o700 });
  const keys = await loadKeys(join(dataDir, "channel-key.json"));
  const pollIntervalMs = options.pollIntervalMs ?? 60_000;
  const stateFile = join(dataDir, "state.json");
  let saved: SavedState = {};
  try {
    if (existsSync(stateFile)) saved = JSON.parse(readFileSync(stateFile, "utf8"));
  } catch {
    saved = {}; // a damaged state file starts afresh (the key is what matters)
  }
  let myName = typeof saved.name === "string" ? saved.name : "";
  let myReleases: ChannelRelease[] = Array.isArray(saved.releases) ? saved.releases : [];
  const tracked = new Map<string, Tracked>(Object.entries(saved.tracked ?? {}));
  const followed = new Map<string, Followed>();
  const lastError = new Map<string, { code: string; message: string }>();
  const streams = new Set<(chunk: string) => void>();
  const controllers = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const ch: Channels = await session.use(channels({ timeoutMs: options.timeoutMs ?? 30_000 }));
  const events = session.events();
  let closed = false;
  let snapshotTimer: ReturnType<typeof setTimeout> | undefined;
  const plainAddress = channelAddress(keys.publicKey);
  const myAddress = () => channelAddress(keys.publicKey, undefined, myName || undefined);

  const persist = () => {
    if (closed) return;
    const s: SavedState = {
      name: myName,
      releases: myReleases,
      following: [...followed.values()].map((f) => ({ address: f.address, name: f.name })),
      tracked: Object.fromEntries(tracked),
    };
    writeFileSync(stateFile, JSON.stringify(s, null, 2) + "\n", { mode: 0o600 });
  };

  // ---- the live state ----
  const idOf = (t: Torrent) => t.infoHash.v1 ?? t.infoHash.v2 ?? "";
  const transfers = (): TransferRow[] => {
    if (session.closed) return [];
    const rows: TransferRow[] = [];
    for (const t of session.torrents()) {
      const id = idOf(t);
      const tr = tracked.get(id);
      if (!tr) continue; // a followed release not asked for (added paused by the follower)
      const s = t.status();
      rows.push({
        id,
        name: s.name || tr.name || id,
        channel: tr.channel,
        state: s.error ? "error" : s.paused ? "paused" : s.state,
        progress: s.progress,
        downloadRate: s.downloadRate,
        uploadRate: s.uploadRate,
        numPeers: s.numPeers,
        totalSize: s.totalSize,
        savePath: s.savePath,
        error: s.error ? s.error.message : null,
      });
    }
    return rows;
  };
  const haveOf = (ih: string): string => {
    const t = session.closed ? undefined : session.findTorrent(ih);
    if (!t || !tracked.has(ih)) return "none";
    const s = t.status();
    if (s.isFinished || s.isSeeding) return "done";
    return s.paused ? "paused" : "downloading";
  };
  const state = (): AppState => ({
    me: { address: myAddress(), name: myName, releases: myReleases },
    following: [...followed.values()].map((f) => ({
      address: f.address,
      name: f.name,
      seq: f.follower.seq,
      feed: f.feed,
      have: Object.fromEntries(f.feed.map((r) => [r.infoHash, haveOf(r.infoHash)])),
      status: f.status,
      error: lastError.get(f.address) ??
        (f.follower.lastError ? { code: f.follower.lastError.code, message: f.follower.lastError.message } : null),
      savePath: f.savePath,
    })),
    transfers: transfers(),
  });
  const broadcast = () => {
    if (closed || streams.size === 0) return;
    const chunk = `event: state\ndata: ${JSON.stringify(state())}\n\n`;
    for (const send of streams) send(chunk);
  };
  // Events drive the updates: each burst of events schedules one snapshot.
  const schedule = () => {
    if (snapshotTimer !== undefined || closed) return;
    snapshotTimer = setTimeout(() => {
      snapshotTimer = undefined;
      broadcast();
    }, 150);
  };
  (async () => {
    for await (const _ of events) schedule();
  })();
  // While anything moves, rates change without events: refresh once a second.
  const ticker = setInterval(() => {
    if (closed || streams.size === 0 || session.closed) return;
    if (transfers().some((t) => t.downloadRate > 0 || t.uploadRate > 0 || t.state === "downloading")) schedule();
  }, 1000);

  // ---- peers for a release being downloaded ----
  const assisting = new Set<string>();
  /** Looks the release's peers up on the DHT and connects to them, until it has a peer or is done. */
  const assist = async (t: Torrent, ih: string) => {
    if (assisting.has(ih)) return;
    assisting.add(ih);
    try {
      for (let i = 0; i < 120 && !closed && !t.removed && !session.closed; i++) {
        const s = t.status();
        if (s.isFinished || s.isSeeding || s.numPeers > 0 || s.paused) return;
        try {
          const peers = await session.dht.getPeers(ih, { timeoutMs: 5000 });
          for (const p of peers) {
            const k = p.lastIndexOf(":");
            if (!t.removed) t.connectPeer(p.slice(0, k).replace(/^\[|\]$/g, ""), Number(p.slice(k + 1)));
          }
        } catch {
          // nobody announced yet (TIMEOUT): try again
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    } finally {
      assisting.delete(ih);
    }
  };

  // ---- following ----
  const labelOf = (address: string, name?: string) =>
    name || `channel ${parseChannelAddress(address).target.slice(0, 8)}`;
  function follow(input: string, name?: string): Followed {
    const info = parseChannelAddress(input.trim()); // INVALID_CHANNEL_ADDRESS
    if (info.address === plainAddress) {
      throw new TorrentError("INVALID_ARGUMENT", "that is your own channel's address — give it to others to follow");
    }
    const known = followed.get(info.address);
    if (known) return known;
    const savePath = join(dataDir, "downloads", toHex(info.publicKey).slice(0, 12));
    const follower = ch.follow(info.address, { savePath, download: false, pollIntervalMs });
    const f: Followed = {
      address: info.address,
      name: labelOf(info.address, info.name ?? name),
      savePath,
      follower,
      feed: [],
      status: "looking",
    };
    followed.set(info.address, f);
    (async () => {
      for await (const u of follower) {
        f.status = "ok";
        lastError.delete(f.address);
        const known = u.feed.length > 0 ? u.feed : f.feed;
        f.feed = known.some((r) => r.infoHash === u.infoHash) ? known : [
          { infoHash: u.infoHash, seq: u.seq, name: u.torrent.status().name || u.infoHash, time: 0 },
          ...known,
        ];
        schedule();
      }
    })();
    return f;
  }

  async function download(address: string, infoHash: string): Promise<Torrent> {
    const info = parseChannelAddress(address);
    const f = followed.get(info.address);
    if (!f) throw new TorrentError("INVALID_ARGUMENT", "follow the channel first");
    const ih = infoHash.toLowerCase();
    const rel = f.feed.find((r) => r.infoHash === ih);
    if (!rel) throw new TorrentError("INVALID_ARGUMENT", `${infoHash} is not a release of this channel`);
    let t = session.findTorrent(ih);
    if (!t) {
      t = await session.add({ infoHash: ih, savePath: f.savePath, ...(rel.name ? { name: rel.name } : {}) });
    } else if (t.status().paused) {
      t.resume();
    }
    tracked.set(ih, { channel: f.address, name: rel.name });
    persist();
    void assist(t, ih);
    return t;
  }

  // ---- restore what was running before ----
  for (const file of readdirSync(torrentsDir)) {
    const m = /^([0-9a-f]{40})\.resume$/.exec(file);
    if (!m || !tracked.has(m[1])) continue;
    try {
      const t = await session.add({ resume: readFileSync(join(torrentsDir, file)) });
      void assist(t, m[1]);
    } catch {
      // a damaged or duplicate resume file: skip it
    }
  }
  for (const f of saved.following ?? []) {
    try {
      follow(f.address, f.name);
    } catch {
      // an address that no longer parses: drop it
    }
  }

  // ---- the API ----
  async function body(req: Request): Promise<Record<string, unknown>> {
    const type = req.headers.get("content-type") ?? "";
    if (!/^application\/json\b/i.test(type)) {
      throw new TorrentError("INVALID_ARGUMENT", "send JSON (content-type: application/json)");
    }
    const text = await req.text();
    if (text.length > MAX_BODY) throw new TorrentError("INVALID_ARGUMENT", "the request is too large");
    let v: unknown;
    try {
      v = JSON.parse(text || "{}");
    } catch {
      throw new TorrentError("INVALID_ARGUMENT", "the request is not valid JSON");
    }
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      throw new TorrentError("INVALID_ARGUMENT", "the request must be a JSON object");
    }
    return v as Record<string, unknown>;
  }
  const str = (b: Record<string, unknown>, key: string, what: string): string => {
    const v = b[key];
    if (typeof v !== "string" || v.trim() === "") throw new TorrentError("INVALID_ARGUMENT", `give ${what}`);
    return v;
  };

  async function post(path: string, b: Record<string, unknown>): Promise<unknown> {
    switch (path) {
      case "/api/name": {
        const name = typeof b.name === "string" ? b.name.trim() : "";
        if (new TextEncoder().encode(name).length > 64) {
          throw new TorrentError("INVALID_ARGUMENT", "a channel name is at most 64 bytes");
        }
        myName = name;
        persist();
        return { address: myAddress() };
      }
      case "/api/publish": {
        const path = resolve(str(b, "path", "the path of a folder or file to publish"));
        if (!existsSync(path)) throw new TorrentError("PATH_NOT_FOUND", `nothing at ${path}`);
        const name = typeof b.name === "string" && b.name.trim() ? b.name.trim() : undefined;
        const r = await ch.publish(path, { keys, ...(name ? { name } : {}) });
        myReleases = r.feed.length > 0 ? r.feed : [
          {
            infoHash: r.infoHash,
            seq: r.seq,
            name: name ?? r.torrent?.status().name ?? "",
            time: Date.now() / 1000 | 0,
          },
          ...myReleases,
        ];
        tracked.set(r.infoHash, { channel: "mine", name: name ?? r.torrent?.status().name ?? "" });
        persist();
        return { infoHash: r.infoHash, seq: r.seq, numSuccess: r.numSuccess, address: myAddress() };
      }
      case "/api/follow": {
        const f = follow(str(b, "address", "a channel address (magnet:?xs=urn:btpk:…)"));
        persist();
        return { address: f.address };
      }
      case "/api/unfollow": {
        const info = parseChannelAddress(str(b, "address", "a channel address"));
        const f = followed.get(info.address);
        if (!f) throw new TorrentError("INVALID_ARGUMENT", "not following that channel");
        await f.follower.stop();
        followed.delete(info.address);
        // Releases the follower added (paused) and nobody asked to download go; downloads stay.
        for (const r of f.feed) {
          const t = tracked.has(r.infoHash) ? undefined : session.findTorrent(r.infoHash);
          if (t) await t.remove().catch(() => {});
        }
        persist();
        return { ok: true };
      }
      case "/api/refresh": {
        const info = parseChannelAddress(str(b, "address", "a channel address"));
        const f = followed.get(info.address);
        if (!f) throw new TorrentError("INVALID_ARGUMENT", "not following that channel");
        try {
          const u = await f.follower.refresh();
          lastError.delete(f.address);
          return { seq: u?.seq ?? null };
        } catch (e) {
          if (e instanceof TorrentError) lastError.set(f.address, { code: e.code, message: e.message });
          throw e;
        }
      }
      case "/api/download": {
        const address = str(b, "address", "the channel's address");
        const ih = str(b, "infoHash", "the release's info-hash");
        if (!HEX40.test(ih.toLowerCase())) throw new TorrentError("INVALID_ARGUMENT", "an info-hash is 40 hex digits");
        const t = await download(address, ih);
        return { id: idOf(t) };
      }
      case "/api/drop": {
        const text = b.text;
        if (typeof text !== "string" || text === "") throw new TorrentError("INVALID_ARGUMENT", "give a text to pin");
        return { code: await ch.drop(text) };
      }
      case "/api/pickup": {
        const code = str(b, "code", "a 40-character drop code").trim().toLowerCase();
        return { text: await ch.pickup(code) };
      }
    }
    return undefined;
  }

  async function route(req: Request, url: URL): Promise<Response> {
    const path = url.pathname;
    if (req.method === "GET") {
      const page = PAGES[path];
      if (page) {
        return new Response(readFileSync(join(STATIC, page[0])), {
          headers: { "content-type": page[1], "cache-control": "no-cache", ...SECURITY_HEADERS },
        });
      }
      if (path === "/favicon.ico") return new Response(null, { status: 204 });
      if (path === "/api/state") return json(state());
      if (path === "/api/stream") return stream();
      if (path === "/api/dht") {
        const s = await session.dht.stats({ timeoutMs: 3000 }).catch(() => null);
        return json({ nodes: s ? s.nodes : null });
      }
    } else if (req.method === "POST" && path.startsWith("/api/")) {
      const r = await post(path, await body(req));
      if (r !== undefined) {
        schedule();
        return json(r);
      }
    }
    return fail(404, "NOT_FOUND", `no route ${req.method} ${path}`);
  }

  function stream(): Response {
    let send: ((chunk: string) => void) | undefined;
    let ctl: ReadableStreamDefaultController<Uint8Array> | undefined;
    const enc = new TextEncoder();
    const out = new ReadableStream<Uint8Array>({
      start(controller) {
        ctl = controller;
        send = (chunk) => {
          try {
            controller.enqueue(enc.encode(chunk));
          } catch {
            if (send) streams.delete(send);
          }
        };
        streams.add(send);
        controllers.add(controller);
        send(`event: state\ndata: ${JSON.stringify(state())}\n\n`);
      },
      cancel() {
        if (send) streams.delete(send);
        if (ctl) controllers.delete(ctl);
      },
    });
    return new Response(out, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-store", ...SECURITY_HEADERS },
    });
  }

  return {
    get address() {
      return myAddress();
    },
    state,
    saveResumeData(t: Torrent, bytes: Uint8Array) {
      const id = t.infoHash.v1;
      if (id && tracked.has(id)) writeFileSync(join(torrentsDir, `${id}.resume`), bytes, { mode: 0o600 });
    },
    async handler(req: Request): Promise<Response> {
      let url: URL;
      try {
        url = new URL(req.url);
      } catch {
        return fail(400, "INVALID_ARGUMENT", "bad URL");
      }
      const host = (req.headers.get("host") ?? url.host).toLowerCase().replace(/:\d+$/, "");
      if (!hosts.has(host)) return fail(403, "FORBIDDEN_HOST", "this server answers to 127.0.0.1 and localhost only");
      if (req.method === "POST") {
        const origin = req.headers.get("origin");
        let same = origin === null;
        try {
          same ||= new URL(origin!).host === (req.headers.get("host") ?? url.host);
        } catch {
          same = false;
        }
        if (!same) return fail(403, "FORBIDDEN_ORIGIN", "cross-origin requests are refused");
      }
      try {
        return await route(req, url);
      } catch (e) {
        if (e instanceof TorrentError) return fail(statusOf(e), e.code, e.message);
        return fail(500, "INTERNAL", (e as Error).message);
      }
    },
    async close() {
      if (closed) return;
      persist();
      closed = true;
      clearInterval(ticker);
      clearTimeout(snapshotTimer);
      await events.return();
      for (const send of streams) send("event: bye\ndata: null\n\n");
      streams.clear();
      // End the open streams, so that the server can shut down.
      for (const c of controllers) {
        try {
          c.close();
        } catch {
          // already closed by the client
        }
      }
      controllers.clear();
      if (!session.closed) await ch.detach();
    },
  };
}
