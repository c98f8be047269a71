// A small real HTTP BitTorrent tracker for tests (BEP 3 announce with
// compact peers, BEP 23; BEP 48 scrape), on node:http so it runs unchanged
// under Deno and Bun. Bound to 127.0.0.1 only. It records every announce
// and scrape, and lets a test await the announce it expects (no sleeps).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { bencode, type BValue } from "../src/bencode.ts";

/** One announce as the tracker received it. */
export interface Announce {
  /** Info-hash as sent (20 bytes; a v2 hash is truncated), lowercase hex. */
  infoHash: string;
  /** Peer id, lowercase hex. */
  peerId: string;
  /** The peer's address (the connection's remote address). */
  ip: string;
  /** The peer's listen port. */
  port: number;
  /** "started" | "completed" | "stopped" | "paused" | "" (a regular announce). */
  event: string;
  left: number;
  uploaded: number;
  downloaded: number;
  /** Index in `tracker.announces`. */
  seq: number;
}

/** One scrape request: the info-hashes asked about (hex). */
export interface Scrape {
  infoHashes: string[];
}

interface Peer {
  ip: string;
  port: number;
  left: number;
}

/** Decodes a raw query string, keeping percent-escaped bytes as bytes. */
function parseQuery(raw: string): Map<string, Uint8Array[]> {
  const out = new Map<string, Uint8Array[]>();
  for (const part of raw.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const val = eq < 0 ? "" : part.slice(eq + 1);
    const bytes: number[] = [];
    for (let i = 0; i < val.length; i++) {
      const c = val[i];
      if (c === "%" && /^[0-9a-fA-F]{2}$/.test(val.slice(i + 1, i + 3))) {
        bytes.push(parseInt(val.slice(i + 1, i + 3), 16));
        i += 2;
      } else if (c === "+") bytes.push(0x20);
      else bytes.push(c.charCodeAt(0) & 0xff);
    }
    const list = out.get(key) ?? [];
    list.push(Uint8Array.from(bytes));
    out.set(key, list);
  }
  return out;
}

const hexOf = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const text = (b: Uint8Array | undefined): string => (b ? new TextDecoder().decode(b) : "");

export interface TrackerOptions {
  /** Seconds between regular announces the tracker asks for. Default 1800. */
  interval?: number;
  /** The "min interval" it sends. Default 30. */
  minInterval?: number;
  /** Whether announce replies carry complete/incomplete counts. Default false (only scrapes do). */
  countsInAnnounce?: boolean;
}

/** The tracker. `await using tracker = await TestTracker.start()`. */
export class TestTracker implements AsyncDisposable {
  readonly announces: Announce[] = [];
  readonly scrapes: Scrape[] = [];
  /** info-hash hex → "ip:port" → peer. */
  readonly swarms = new Map<string, Map<string, Peer>>();
  /** info-hash hex → count of "completed" events. */
  readonly completed = new Map<string, number>();
  #server: Server;
  #port = 0;
  #opts: Required<TrackerOptions>;
  #waiters = new Set<{ pred: (a: Announce) => boolean; resolve: (a: Announce) => void }>();

  private constructor(server: Server, opts: TrackerOptions) {
    this.#server = server;
    this.#opts = { interval: 1800, minInterval: 30, countsInAnnounce: false, ...opts };
  }

  static start(opts: TrackerOptions = {}): Promise<TestTracker> {
    const server = createServer((req, res) => tracker.#handle(req, res));
    const tracker = new TestTracker(server, opts);
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        tracker.#port = (server.address() as AddressInfo).port;
        resolve(tracker);
      });
    });
  }

  /** The announce URL. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}/announce`;
  }

  /** Announces received from the peer listening on `port`. */
  from(port: number): Announce[] {
    return this.announces.filter((a) => a.port === port);
  }

  /**
   * Resolves with the first announce (recorded at index >= `since`) that
   * satisfies `pred`: one already received, or the next to arrive.
   */
  waitAnnounce(pred: (a: Announce) => boolean, since = 0): Promise<Announce> {
    for (let i = since; i < this.announces.length; i++) {
      if (pred(this.announces[i])) return Promise.resolve(this.announces[i]);
    }
    return new Promise((resolve) => {
      const w = {
        pred: (a: Announce) => a.seq >= since && pred(a),
        resolve,
      };
      this.#waiters.add(w);
    });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const query = parseQuery(q < 0 ? "" : url.slice(q + 1));
    let bytes: Uint8Array;
    if (path === "/announce") bytes = bencode(this.#announce(req, query));
    else if (path === "/scrape") bytes = this.#scrape(query);
    else {
      res.writeHead(404, { "Connection": "close" });
      res.end();
      return;
    }
    res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": bytes.length, "Connection": "close" });
    res.end(bytes);
  }

  #announce(req: IncomingMessage, q: Map<string, Uint8Array[]>): BValue {
    const ih = q.get("info_hash")?.[0];
    const port = Number(text(q.get("port")?.[0]));
    if (!ih || ih.length !== 20 || !(port > 0 && port < 65536)) return { "failure reason": "bad announce" };
    let ip = req.socket.remoteAddress ?? "127.0.0.1";
    if (ip.startsWith("::ffff:")) ip = ip.slice(7);
    const a: Announce = {
      infoHash: hexOf(ih),
      peerId: hexOf(q.get("peer_id")?.[0] ?? new Uint8Array()),
      ip,
      port,
      event: text(q.get("event")?.[0]),
      left: Number(text(q.get("left")?.[0]) || 0),
      uploaded: Number(text(q.get("uploaded")?.[0]) || 0),
      downloaded: Number(text(q.get("downloaded")?.[0]) || 0),
      seq: this.announces.length,
    };
    this.announces.push(a);
    const swarm = this.swarms.get(a.infoHash) ?? new Map<string, Peer>();
    this.swarms.set(a.infoHash, swarm);
    const key = `${ip}:${port}`;
    if (a.event === "stopped") swarm.delete(key);
    else swarm.set(key, { ip, port, left: a.left });
    if (a.event === "completed") this.completed.set(a.infoHash, (this.completed.get(a.infoHash) ?? 0) + 1);

    const peers: number[] = [];
    for (const [k, p] of swarm) {
      if (k === key || !/^\d+\.\d+\.\d+\.\d+$/.test(p.ip)) continue;
      peers.push(...p.ip.split(".").map(Number), p.port >> 8, p.port & 0xff);
    }
    const reply: Record<string, BValue> = {
      interval: this.#opts.interval,
      "min interval": this.#opts.minInterval,
      peers: Uint8Array.from(peers),
    };
    if (this.#opts.countsInAnnounce) {
      const c = this.#counts(a.infoHash);
      reply.complete = c.complete;
      reply.incomplete = c.incomplete;
    }
    // Resolve waiters after the reply is built (they may inspect state).
    for (const w of [...this.#waiters]) {
      if (w.pred(a)) {
        this.#waiters.delete(w);
        w.resolve(a);
      }
    }
    return reply;
  }

  #counts(ih: string): { complete: number; incomplete: number; downloaded: number } {
    const swarm = this.swarms.get(ih);
    let complete = 0, incomplete = 0;
    for (const p of swarm?.values() ?? []) {
      if (p.left === 0) complete++;
      else incomplete++;
    }
    return { complete, incomplete, downloaded: this.completed.get(ih) ?? 0 };
  }

  #scrape(q: Map<string, Uint8Array[]>): Uint8Array {
    const hashes = (q.get("info_hash") ?? []).filter((h) => h.length === 20);
    this.scrapes.push({ infoHashes: hashes.map(hexOf) });
    // { "files": { <raw 20-byte hash>: { complete, downloaded, incomplete } } }:
    // the keys are raw bytes, so this dictionary is encoded by hand.
    const unique = new Map<string, Uint8Array>();
    for (const h of hashes) unique.set(hexOf(h), h);
    const sorted = [...unique.entries()].sort((a, b) => compareBytes(a[1], b[1]));
    const enc = new TextEncoder();
    const parts: Uint8Array[] = [enc.encode("d5:filesd")];
    for (const [hex, raw] of sorted) parts.push(enc.encode("20:"), raw, bencode(this.#counts(hex)));
    parts.push(enc.encode("ee"));
    return concat(parts);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #closed: Promise<void> | undefined;

  /** Stops the server (idempotent). */
  close(): Promise<void> {
    this.#closed ??= new Promise((resolve) => {
      const s = this.#server as Server & { closeAllConnections?: () => void };
      s.close(() => resolve());
      s.closeAllConnections?.();
    });
    return this.#closed;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
