/**
 * The session: one libtorrent engine with its own network and disk threads.
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { SessionCore } from "./_core.ts";
import { check, codeOf, getNative, lastError, type Native, out32, readText, takeBlob } from "./_native.ts";
import { SnapshotPool, ST, StatusRecord } from "./_status.ts";
import { bdecode, type BDecoded } from "./bencode.ts";
import { encodeSettings as encodeStrict, SessionSettings } from "./settings.ts";
import { type SessionStats, StatsReader } from "./stats.ts";
import { parse } from "./_validate.ts";
import { bencode, bencodeInto, type BValue } from "./bencode.ts";
import { TorrentError } from "./errors.ts";
import { type EventFilter, type EventStream, type EventStreamOptions, queueBound } from "./events.ts";
import { FLAG, type InfoHash, Torrent, torrentId as tid } from "./torrent.ts";
import {
  type AddFlags,
  AddFlagsShape,
  type CloseOptions,
  CloseSchema,
  flagMasks,
  type SaveAllOptions,
  type SavedResumeData,
} from "./control.ts";
import { IpFilter } from "./ipfilter.ts";
import { Dht } from "./dht.ts";
import { type Attached, attachPlugin, type Plugin, type PluginInstance } from "./plugin.ts";

/** A libtorrent setting value: string, integer or boolean, by the setting's type. */
export type SettingValue = string | number | boolean;

/** Options of {@link Session.open}. */
export interface SessionOptions {
  /**
   * `"isolated"`: listen on 127.0.0.1 only, DHT without public bootstrap
   * nodes, LSD / UPnP / NAT-PMP off, and an IP filter that refuses every
   * address outside 127.0.0.0/8 and ::1 — nothing leaves the machine. For
   * private swarms and tests. `"default"`: libtorrent's defaults.
   */
  profile?: "isolated" | "default";
  /**
   * Where to listen: `"host:port"` (port 0 picks a free one), or a
   * libtorrent `listen_interfaces` list. Isolated sessions accept only
   * loopback addresses. Default: `127.0.0.1:0` when isolated.
   */
  listen?: string;
  /** DHT bootstrap nodes, `"host:port"` each (isolated: loopback only). */
  dhtBootstrap?: string[];
  /** libtorrent settings by name (settings_pack), applied last. */
  settings?: Record<string, SettingValue>;
  /**
   * A settings profile for what the session is for, applied before
   * `settings` (which override it). `"default"`: libtorrent's defaults.
   * `"throughput"`: for LAN transfers and seedboxes — libtorrent's
   * `high_performance_seed()` pack (large send buffers and disk queues,
   * deep request queues, more connections and active torrents, short
   * timeouts; see {@link THROUGHPUT_SETTINGS}). Costs memory (several MiB
   * per fast peer), not correctness.
   */
  tuning?: "default" | "throughput";
  /** Disk I/O backend: `"mmap"` (libtorrent's default) or `"posix"` (no SIGBUS if a file shrinks underneath). */
  diskIo?: "mmap" | "posix";
  /**
   * A state saved by `session.saveState()`: its settings and DHT state are
   * restored first; the profile and `settings` above apply on top.
   */
  state?: Uint8Array;
}

/**
 * Options of {@link Session.add}: exactly one of `magnet`, `torrent`,
 * `torrentFile`, `infoHash`, `resume`; mode flags (`sequential`,
 * `autoManaged`, …) are set (true) or cleared (false) when given.
 */
export interface AddOptions extends AddFlags {
  /** A magnet URI (BEP 9): the metadata is fetched from peers. */
  magnet?: string;
  /** The bytes of a .torrent file. */
  torrent?: Uint8Array;
  /** The path of a .torrent file (read by the engine; at most 10 MB). */
  torrentFile?: string;
  /**
   * An info-hash alone: 40 hex characters (v1, SHA-1), 64 (v2, SHA-256),
   * or both as `{ v1, v2 }`. The metadata is fetched from peers (found by
   * DHT, trackers you add, or `connectPeer()`).
   */
  infoHash?: string | InfoHash;
  /** Resume data from `torrent.saveResumeData()` or `session.saveAllResumeData()`. */
  resume?: Uint8Array;
  /** Directory the torrent's files go in (required unless in the resume data). */
  savePath?: string;
  /** Add without starting. Default false. */
  paused?: boolean;
  /** Display name while the metadata is unknown. */
  name?: string;
}

const SettingsSchema = z.record(z.string().min(1), z.union([z.string(), z.number().int(), z.boolean()]));

const LOOPBACK_ENDPOINT = /^(127(?:\.\d{1,3}){3}|\[::1\]):\d{1,5}$/;

const SessionOptionsSchema = z.object({
  profile: z.enum(["isolated", "default"]).optional(),
  listen: z.string().min(1).optional(),
  dhtBootstrap: z.array(z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:,]+):\d{1,5}$/, "must be host:port")).optional(),
  settings: SettingsSchema.optional(),
  tuning: z.enum(["default", "throughput"]).optional(),
  diskIo: z.enum(["mmap", "posix"]).optional(),
  state: z.instanceof(Uint8Array).optional(),
}).strict();

const HEX40 = /^[0-9a-fA-F]{40}$/, HEX64 = /^[0-9a-fA-F]{64}$/;
const InfoHashSchema = z.union([
  z.string().regex(/^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/, "must be 40 (v1) or 64 (v2) hex characters"),
  z.object({
    v1: z.string().regex(HEX40, "must be 40 hex characters").optional(),
    v2: z.string().regex(HEX64, "must be 64 hex characters").optional(),
  }).strict().refine((o) => o.v1 !== undefined || o.v2 !== undefined, "give v1, v2 or both"),
]);

const AddSchema = z.object({
  magnet: z.string().optional(),
  torrent: z.instanceof(Uint8Array).optional(),
  torrentFile: z.string().min(1).optional(),
  infoHash: InfoHashSchema.optional(),
  resume: z.instanceof(Uint8Array).optional(),
  savePath: z.string().min(1).optional(),
  paused: z.boolean().optional(),
  name: z.string().optional(),
  ...AddFlagsShape,
}).strict().refine(
  (o) => [o.magnet, o.torrent, o.torrentFile, o.infoHash, o.resume].filter((x) => x !== undefined).length === 1,
  { message: "give exactly one of magnet, torrent, torrentFile, infoHash, resume" },
).refine((o) => o.resume !== undefined || o.savePath !== undefined, { message: "savePath is required" });

function unhex(h: string): Uint8Array {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * The shim's add dictionary (btx_torrent_add) for validated add options.
 * `paths` caches resolved save paths (addMany resolves the same one often).
 */
function addDict(o: z.output<typeof AddSchema>, paths?: Map<string, string>): Record<string, BValue | undefined> {
  // Explicit control by default: not auto-managed, started unless paused.
  const { magnet, torrent, torrentFile, infoHash, resume, savePath, paused, name, ...modes } = o;
  const m = flagMasks(modes);
  let set = m.set, unset = m.clear | (modes.autoManaged ? 0 : FLAG.autoManaged);
  if (paused) set |= FLAG.paused;
  else unset |= FLAG.paused;
  const ih = typeof infoHash === "string" ? (infoHash.length === 40 ? { v1: infoHash } : { v2: infoHash }) : infoHash;
  return {
    magnet,
    torrent,
    torrent_file: torrentFile === undefined ? undefined : resolvePath(torrentFile, paths),
    info_hash_v1: ih?.v1 === undefined ? undefined : unhex(ih.v1),
    info_hash_v2: ih?.v2 === undefined ? undefined : unhex(ih.v2),
    resume,
    save_path: savePath === undefined ? undefined : resolvePath(savePath, paths),
    name,
    flags_set: set,
    flags_unset: unset,
  };
}

// ---- inspection, session control, settings, bulk status
const ADD_CHUNK = 256;
/** add()'s parameter buffer, reused (JavaScript is single-threaded, the call is sync). */
const addScratch = { buf: new Uint8Array(1024) };
const ADD_KEYS = new Set(["magnet", "torrent", "resume", "savePath", "paused", "name"]);

function resolvePath(p: string, cache?: Map<string, string>): string {
  // Only absolute paths are cached: a relative one depends on the working
  // directory at the time of the call.
  if (cache === undefined || !isAbsolute(p)) return resolve(p);
  let r = cache.get(p);
  if (r === undefined) {
    if (cache.size >= 64) cache.clear();
    r = resolve(p);
    cache.set(p, r);
  }
  return r;
}

/**
 * True when `o` is a plain add-options object that AddSchema accepts as it
 * is (the common shapes), so addMany can skip zod for it; anything else goes
 * through zod, which gives the error.
 */
function quickAddCheck(o: unknown): o is z.output<typeof AddSchema> {
  if (o === null || typeof o !== "object" || Object.getPrototypeOf(o) !== Object.prototype) return false;
  let sources = 0, savePath = false, resume = false;
  for (const k of Object.keys(o)) {
    if (!ADD_KEYS.has(k)) return false;
    const v = (o as Record<string, unknown>)[k];
    if (v === undefined) continue;
    switch (k) {
      case "magnet":
        if (typeof v !== "string") return false;
        sources++;
        break;
      case "torrent":
      case "resume":
        if (!(v instanceof Uint8Array)) return false;
        sources++;
        if (k === "resume") resume = true;
        break;
      case "savePath":
        if (typeof v !== "string" || v === "") return false;
        savePath = true;
        break;
      case "paused":
        if (typeof v !== "boolean") return false;
        break;
      case "name":
        if (typeof v !== "string") return false;
        break;
    }
  }
  return sources === 1 && (savePath || resume);
}

/** An add-options object quickAddCheck() accepted. */
type QuickAdd = Pick<AddOptions, "magnet" | "torrent" | "resume" | "savePath" | "paused" | "name">;

const KEY = (k: string) => Uint8Array.from(`${k.length}:${k}`, (c) => c.charCodeAt(0));
const K_FLAGS_SET = KEY("flags_set"), K_FLAGS_UNSET = KEY("flags_unset"), K_MAGNET = KEY("magnet");
const K_NAME = KEY("name"), K_RESUME = KEY("resume"), K_SAVE_PATH = KEY("save_path"), K_TORRENT = KEY("torrent");
const utf8Encoder = new TextEncoder();

/**
 * Writes addMany()'s bencoded lists of add dictionaries into one reused
 * buffer: the common entries straight from the caller's options (no
 * intermediate dictionary per torrent), the others through bencode.
 */
class AddListWriter {
  buf: Uint8Array = addListScratch.buf;
  #off = 0;
  #tmp = { buf: new Uint8Array(256) };

  start(): void {
    this.#off = 0;
    this.#byte(0x6c); // l
  }
  end(): number {
    this.#byte(0x65);
    addListScratch.buf = this.buf;
    return this.#off;
  }
  #room(n: number): void {
    if (this.#off + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.#off + n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.buf.subarray(0, this.#off));
    this.buf = bigger;
  }
  #byte(c: number): void {
    this.#room(1);
    this.buf[this.#off++] = c;
  }
  #raw(b: Uint8Array): void {
    this.#room(b.length);
    this.buf.set(b, this.#off);
    this.#off += b.length;
  }
  #digits(n: number): void {
    const s = String(n);
    this.#room(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.#off++] = s.charCodeAt(i);
  }
  #int(n: number): void {
    this.#byte(0x69);
    this.#digits(n);
    this.#byte(0x65);
  }
  #str(s: string): void {
    const n = s.length;
    for (let i = 0; i < n; i++) {
      if (s.charCodeAt(i) > 0x7f) return this.#bytes(utf8Encoder.encode(s));
    }
    this.#digits(n);
    this.#byte(0x3a);
    this.#room(n);
    for (let i = 0; i < n; i++) this.buf[this.#off++] = s.charCodeAt(i);
  }
  #bytes(b: Uint8Array): void {
    this.#digits(b.length);
    this.#byte(0x3a);
    this.#raw(b);
  }
  /** An entry quickAddCheck() accepted: addDict()'s dictionary, keys in bencode order. */
  quick(o: QuickAdd, paths: Map<string, string>): void {
    this.#byte(0x64); // d
    this.#raw(K_FLAGS_SET);
    this.#int(o.paused ? FLAG.paused : 0);
    this.#raw(K_FLAGS_UNSET);
    this.#int(FLAG.autoManaged | (o.paused ? 0 : FLAG.paused));
    if (o.magnet !== undefined) {
      this.#raw(K_MAGNET);
      this.#str(o.magnet);
    }
    if (o.name !== undefined) {
      this.#raw(K_NAME);
      this.#str(o.name);
    }
    if (o.resume !== undefined) {
      this.#raw(K_RESUME);
      this.#bytes(o.resume);
    }
    if (o.savePath !== undefined) {
      this.#raw(K_SAVE_PATH);
      this.#str(resolvePath(o.savePath, paths));
    }
    if (o.torrent !== undefined) {
      this.#raw(K_TORRENT);
      this.#bytes(o.torrent);
    }
    this.#byte(0x65);
  }
  /** Any other entry, through bencode. */
  dict(d: Record<string, BValue | undefined>): void {
    const len = bencodeInto(d, this.#tmp);
    this.#raw(this.#tmp.buf.subarray(0, len));
  }
}
/** addMany()'s list buffer, kept between calls. */
const addListScratch: { buf: Uint8Array } = { buf: new Uint8Array(64 * 1024) };

const HexHashSchema = z.string().regex(
  /^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/,
  "must be 40 (v1) or 64 (v2) hex characters",
);
const SaveStateSchema = z.object({ settings: z.boolean().optional(), dht: z.boolean().optional() }).strict();

const BTX_SESSION_POSIX_DISK_IO = 1;
/** libtorrent 2.0's default alert_queue_size. */
const DEFAULT_ALERT_QUEUE = 2000;
const BTX_SESSION_LOOPBACK_ONLY = 2;

/**
 * The `"throughput"` tuning: libtorrent 2.0's `high_performance_seed()`
 * settings pack, as it differs from the defaults (read from the engine:
 * `python3 -c "import libtorrent as lt; print(lt.high_performance_seed())"`),
 * except `alert_queue_size`, which the session sizes itself. Larger send
 * buffers and watermarks keep a fast peer's socket full; deeper request
 * queues and a 7 MiB disk queue keep the disk threads busy; every unchoke
 * slot open; short peer timeouts drop dead LAN peers fast; mixed-mode
 * (TCP vs uTP) throttling off; large socket buffers (uTP needs them).
 */
export const THROUGHPUT_SETTINGS: Readonly<Record<string, SettingValue>> = Object.freeze({
  active_dht_limit: 600,
  active_limit: 20000,
  active_seeds: 2000,
  active_tracker_limit: 2000,
  aio_threads: 8,
  allowed_fast_set_size: 0,
  checking_mem_usage: 2048,
  connection_speed: 500,
  connections_limit: 8000,
  file_pool_size: 500,
  inactivity_timeout: 20,
  listen_queue_size: 3000,
  max_failcount: 1,
  max_out_request_queue: 1500,
  max_peer_recv_buffer_size: 5 * 1024 * 1024,
  max_queued_disk_bytes: 7 * 1024 * 1024,
  max_rejects: 10,
  mixed_mode_algorithm: 0,
  peer_timeout: 20,
  request_timeout: 10,
  send_buffer_low_watermark: 1024 * 1024,
  send_buffer_watermark: 3 * 1024 * 1024,
  send_buffer_watermark_factor: 150,
  send_not_sent_low_watermark: 512 * 1024,
  suggest_mode: 1,
  unchoke_slots_limit: -1,
  // Not in high_performance_seed(): 4 MiB UDP/TCP socket buffers (the kernel
  // caps them at net.core.rmem_max / wmem_max). The kernel's default UDP
  // receive buffer (~208 KiB) overflows under a fast uTP sender, the drops
  // read as congestion, and uTP over loopback crawls at ~5–10 MB/s; with
  // these, bench/transfer.ts --transport utp measures 7–26× that.
  recv_socket_buffer_size: 4 * 1024 * 1024,
  send_socket_buffer_size: 4 * 1024 * 1024,
});

/** The settings of the isolated profile (before user settings). */
export function isolatedSettings(listen = "127.0.0.1:0", dhtBootstrap: string[] = []): Record<string, SettingValue> {
  return {
    listen_interfaces: listen,
    enable_lsd: false,
    enable_upnp: false,
    enable_natpmp: false,
    enable_dht: true,
    dht_bootstrap_nodes: dhtBootstrap.join(","),
    // Every peer of a loopback swarm shares 127.0.0.1.
    allow_multiple_connections_per_ip: true,
    // A loopback DHT: every node has the same IP. Let the routing table and
    // lookups keep several nodes per IP, and lift the DoS blocker, which
    // counts packets per IP (more than 5/s over 10 s from "one" host bans
    // it for dht_block_timeout): a handful of loopback nodes exceed that as
    // soon as they look anything up.
    dht_restrict_routing_ips: false,
    dht_restrict_search_ips: false,
    dht_block_ratelimit: 1_000_000,
    // The DHT drops incoming requests beyond 8000 response bytes/s (the
    // default): a few 1000-byte BEP 44 items in a second exceed that, and a
    // dropped request stalls the asker's lookup until its RPC timeout (~15 s).
    dht_upload_rate_limit: 100_000_000,
  };
}

/**
 * Throws INVALID_ARGUMENT for settings that would take an isolated session
 * off the machine: a non-loopback listen address or DHT bootstrap node, or
 * LSD / UPnP / NAT-PMP on. Checked on the merged settings at open and on
 * every applySettings(), so `settings` cannot undo the profile.
 */
function checkIsolated(settings: Record<string, SettingValue>, where: string): void {
  for (const k of ["enable_lsd", "enable_upnp", "enable_natpmp"]) {
    const v = settings[k];
    if (v !== undefined && v !== false && v !== 0) {
      throw new TorrentError("INVALID_ARGUMENT", `${where}: ${k} would leave the machine; not allowed when isolated`);
    }
  }
  const lists: [string, string][] = [
    ["listen_interfaces", "listens on loopback only"],
    ["dht_bootstrap_nodes", "bootstraps from loopback nodes only"],
  ];
  for (const [k, rule] of lists) {
    const v = settings[k];
    if (typeof v !== "string") continue; // absent, or a type error the engine reports
    for (const ep of v.split(",")) {
      if (ep.trim() === "" && k === "dht_bootstrap_nodes") continue;
      if (!LOOPBACK_ENDPOINT.test(ep.trim())) {
        throw new TorrentError("INVALID_ARGUMENT", `${where}: an isolated session ${rule}, not "${ep}" (${k})`);
      }
    }
  }
  const out = settings.outgoing_interfaces;
  if (out !== undefined && (typeof out !== "string" || !/^\s*(127(\.\d{1,3}){3}|::1|lo)?\s*$/.test(out))) {
    throw new TorrentError(
      "INVALID_ARGUMENT",
      `${where}: an isolated session binds outgoing connections to a loopback address or "lo" only, not "${out}" (outgoing_interfaces)`,
    );
  }
  for (const k of ["proxy_hostname", "i2p_hostname"]) {
    const v = settings[k];
    if (typeof v === "string" && v !== "" && !/^(127(\.\d{1,3}){3}|::1|localhost)$/.test(v)) {
      throw new TorrentError("INVALID_ARGUMENT", `${where}: an isolated session uses no remote ${k} ("${v}")`);
    }
  }
}

// Strict types (a boolean only for a boolean setting, …): settings.ts.
function encodeSettings(settings: Record<string, SettingValue>, native: Native, where: string): Uint8Array {
  return encodeStrict(native, settings, where);
}

/**
 * A libtorrent session. Open one with {@link Session.open}; close it with
 * `close()` or `await using`.
 *
 * @example Download by magnet from a local seeder
 * ```ts
 * import { Session } from "./mod.ts";
 * await using session = await Session.open({ profile: "isolated" });
 * const t = await session.add({ magnet: "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", savePath: "./out" });
 * t.connectPeer("127.0.0.1", 6881);
 * for await (const ev of session.events({ types: ["torrent_finished"], torrent: t })) break;
 * ```
 */
export class Session implements AsyncDisposable {
  readonly #core: SessionCore;
  readonly #isolated: boolean;
  #closing: Promise<void> | undefined;
  readonly #plugins = new Set<Attached<PluginInstance>>();
  /** Resolved save paths of add() (a few distinct ones, resolved once). */
  readonly #addPaths = new Map<string, string>();

  private constructor(core: SessionCore, isolated: boolean, alertQueueSize: number | undefined) {
    this.#core = core;
    this.#isolated = isolated;
    this.#alertQueue = alertQueueSize ?? DEFAULT_ALERT_QUEUE;
    this.#alertQueueFixed = alertQueueSize !== undefined;
  }

  // libtorrent drops alerts past alert_queue_size (x2 for high-priority
  // ones, x3 for critical ones such as torrent_removed) when they come
  // faster than they are drained — e.g. thousands of torrents removed in
  // one go. A dropped torrent_removed would leave remove() waiting forever,
  // so unless the user sized the queue, it grows with the torrent count:
  // at least 4 per torrent + 1000 (doubling, never shrinking).
  #alertQueue: number;
  #alertQueueFixed: boolean;
  #roomForAlerts(adding = 0): void {
    if (this.#alertQueueFixed) return;
    const need = 4 * (this.#core.torrents.size + adding) + 1000;
    if (need <= this.#alertQueue) return;
    let size = this.#alertQueue;
    while (size < need) size *= 2;
    this.#alertQueue = size;
    this.applySettings({ alert_queue_size: size });
  }

  /**
   * Opens a session.
   * @throws TorrentError INVALID_ARGUMENT, UNKNOWN_SETTING, SETTING_TYPE, LIBRARY_NOT_FOUND, ABI_MISMATCH
   */
  static async open(options: SessionOptions = {}): Promise<Session> {
    const o = parse(SessionOptionsSchema, options, "Session.open");
    const native = await getNative();
    const isolated = o.profile === "isolated";
    let settings: Record<string, SettingValue> = {};
    let flags = o.diskIo === "posix" ? BTX_SESSION_POSIX_DISK_IO : 0;
    if (isolated) {
      const listen = o.listen ?? "127.0.0.1:0";
      for (const ep of listen.split(",")) {
        if (!LOOPBACK_ENDPOINT.test(ep.trim())) {
          throw new TorrentError(
            "INVALID_ARGUMENT",
            `Session.open: an isolated session listens on loopback only, not "${ep}"`,
          );
        }
      }
      for (const node of o.dhtBootstrap ?? []) {
        if (!LOOPBACK_ENDPOINT.test(node)) {
          throw new TorrentError(
            "INVALID_ARGUMENT",
            `Session.open: an isolated session bootstraps from loopback nodes only, not "${node}"`,
          );
        }
      }
      settings = isolatedSettings(listen, o.dhtBootstrap);
      flags |= BTX_SESSION_LOOPBACK_ONLY;
    } else {
      if (o.listen) settings.listen_interfaces = o.listen;
      if (o.dhtBootstrap) settings.dht_bootstrap_nodes = o.dhtBootstrap.join(",");
    }
    if (o.tuning === "throughput") settings = { ...THROUGHPUT_SETTINGS, ...settings };
    Object.assign(settings, o.settings);
    if (isolated) checkIsolated(settings, "Session.open");
    const buf = encodeSettings(settings, native, "Session.open");
    const rc = o.state
      ? native.sym.btx_session_open_state(buf, buf.length, o.state, o.state.length, flags, out32)
      : native.sym.btx_session_open(buf, buf.length, flags, out32);
    check(native.sym, rc, 0, "Session.open");
    const core = new SessionCore(native, out32[0]);
    core.start();
    const queue = settings.alert_queue_size;
    return new Session(core, isolated, typeof queue === "number" ? queue : undefined);
  }

  /** True once `close()` began. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /** The TCP port the session listens on (0 when not listening). */
  get listenPort(): number {
    this.#core.ensureOpen();
    this.#core.check(this.#core.native.sym.btx_session_listen_port(this.#core.handle, out32), "listenPort");
    return out32[0];
  }

  /**
   * Adds a torrent by magnet, .torrent bytes or resume data.
   * @throws TorrentError INVALID_ARGUMENT, INVALID_MAGNET, INVALID_TORRENT, INVALID_RESUME, DUPLICATE_TORRENT, SESSION_CLOSED
   */
  add(options: AddOptions): Promise<Torrent> {
    try {
      this.#core.ensureOpen();
      const o = quickAddCheck(options) ? options : parse(AddSchema, options, "add");
      const len = bencodeInto(addDict(o, this.#addPaths), addScratch);
      this.#core.check(this.#core.native.sym.btx_torrent_add(this.#core.handle, addScratch.buf, len, out32), "add");
      const id = out32[0];
      const t = new Torrent(this.#core, id);
      this.#core.torrents.set(id, t);
      this.#roomForAlerts();
      return Promise.resolve(t);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The torrents in this session, in the order they were added. */
  torrents(): Torrent[] {
    this.#core.ensureOpen();
    return [...this.#core.torrents.values()].filter((t) => !t.removed);
  }

  /**
   * Events of this session as an async iterator. Subscribed from this call
   * on; several may run at once; leaving `for await` unsubscribes. A stream
   * queues at most `options.maxQueued` events (default 100,000) while its
   * consumer is busy; past that it drops them and yields one
   * `events_dropped` event (with `count`) where they were.
   * @throws TorrentError INVALID_ARGUMENT (bad options)
   */
  events(filter?: EventFilter, options?: EventStreamOptions): EventStream {
    return this.#core.hub.subscribe(filter, queueBound(options));
  }

  /**
   * Applies libtorrent settings by name. An isolated session refuses
   * settings that would take it off the machine (see `profile`).
   * @throws TorrentError UNKNOWN_SETTING, SETTING_TYPE, INVALID_ARGUMENT, SESSION_CLOSED
   */
  applySettings(settings: Record<string, SettingValue>): void {
    this.#core.ensureOpen();
    const s = parse(SettingsSchema, settings, "applySettings");
    if (this.#isolated) checkIsolated(s, "applySettings");
    const buf = encodeSettings(s, this.#core.native, "applySettings");
    this.#core.check(
      this.#core.native.sym.btx_session_apply_settings(this.#core.handle, buf, buf.length),
      "applySettings",
    );
  }

  /**
   * Closes the session: delivers pending events, ends every event stream,
   * pauses and destroys the engine (joining its threads). Idempotent: a
   * second call returns the first call's promise (its options are ignored).
   *
   * With `saveResumeData`, first pauses the whole session (no torrent's own
   * paused flag changes, so the saved state is the running state), saves
   * every torrent's resume data with pending pieces flushed to disk, and
   * awaits your callback for each — so nothing downloaded is lost. Re-add
   * each later with `session.add({ resume })`.
   *
   * @example Persist every torrent on close
   * ```ts
   * import { Session } from "./mod.ts";
   * import { writeFileSync } from "node:fs";
   * const session = await Session.open({ profile: "isolated" });
   * await session.close({
   *   saveResumeData: (t, bytes) => writeFileSync(`/tmp/${t.infoHash.v1 ?? t.infoHash.v2}.resume`, bytes),
   * });
   * ```
   * @throws TorrentError INVALID_ARGUMENT for bad options; the callback's own error (after closing)
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (!this.#closing) {
      try {
        const o = parse(CloseSchema, options, "close");
        this.#closing = this.#closeWith(o);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.#closing;
  }

  /**
   * Attaches a plugin (for example `httpServer()` from
   * `./plugins/http/mod.ts`). The returned handle is the plugin's API; its
   * `detach()` or `await using` detaches it, and `close()` detaches every
   * plugin still attached (last attached first) before anything else.
   * @throws TorrentError INVALID_ARGUMENT (not a plugin), SESSION_CLOSED, or the plugin's own error
   */
  async use<T extends PluginInstance>(plugin: Plugin<T>): Promise<Attached<T>> {
    this.#core.ensureOpen();
    return await attachPlugin(this, plugin, this.#plugins);
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- inspection, session control, settings, bulk status

  #settings: SessionSettings | undefined;
  #statsReader = new StatsReader();
  #statsBuf: Float64Array | undefined;
  #pollPool = new SnapshotPool();
  #pollIo = new Uint32Array(8);
  #pollOrder: (Torrent | undefined)[] = [];
  #pollLayout = -1;

  /**
   * Pauses the whole session: every torrent stops transferring and
   * disconnects its peers, but no torrent's own `paused` flag changes, so
   * `resume()` brings back exactly the torrents that were running.
   * @throws TorrentError SESSION_CLOSED
   */
  pause(): void {
    this.#core.ensureOpen();
    this.#core.check(this.#core.native.sym.btx_session_pause(this.#core.handle), "pause");
  }

  /** Ends a session-wide `pause()`. @throws TorrentError SESSION_CLOSED */
  resume(): void {
    this.#core.ensureOpen();
    this.#core.check(this.#core.native.sym.btx_session_resume(this.#core.handle), "resume");
  }

  /** True while the session is paused by `pause()`. @throws TorrentError SESSION_CLOSED */
  get isPaused(): boolean {
    this.#core.ensureOpen();
    this.#core.check(this.#core.native.sym.btx_session_is_paused(this.#core.handle, out32), "isPaused");
    return out32[0] !== 0;
  }

  /**
   * The torrent with this info-hash, or undefined when the session has
   * none: 40 hex characters (v1, SHA-1) or 64 (v2, SHA-256), any case.
   * @throws TorrentError INVALID_ARGUMENT (not 40 or 64 hex characters), SESSION_CLOSED
   */
  findTorrent(infoHash: string): Torrent | undefined {
    this.#core.ensureOpen();
    const h = parse(HexHashSchema, infoHash, "findTorrent");
    const raw = new Uint8Array(h.length / 2);
    for (let i = 0; i < raw.length; i++) raw[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
    this.#core.check(
      this.#core.native.sym.btx_session_find_torrent(this.#core.handle, raw, raw.length, out32),
      "findTorrent",
    );
    const t = out32[0] === 0 ? undefined : this.#core.torrents.get(out32[0]);
    return t && !t.removed ? t : undefined;
  }

  /**
   * A snapshot of the session's counters (libtorrent's session statistics):
   * transfer totals and rates, peers, DHT nodes, and every counter by name.
   * See {@link SessionStats} for units.
   * @throws TorrentError SESSION_CLOSED
   */
  async stats(): Promise<SessionStats> {
    this.#core.ensureOpen();
    const core = this.#core;
    const done = core.waitFor((ev) => ev.type === "session_stats");
    core.check(core.native.sym.btx_session_post_stats(core.handle), "stats");
    await done;
    core.ensureOpen();
    let buf = this.#statsBuf ?? new Float64Array(512);
    let rc = core.native.sym.btx_session_stats(core.handle, buf, buf.length, out32);
    if (rc === 8 /* BUFFER_TOO_SMALL */) {
      buf = new Float64Array(out32[0]);
      rc = core.native.sym.btx_session_stats(core.handle, buf, buf.length, out32);
    }
    core.check(rc, "stats");
    this.#statsBuf = buf;
    return this.#statsReader.decode(core.native, buf);
  }

  /**
   * The session's state as bytes: its non-default settings and its DHT
   * state (node id, routing table), as libtorrent's write_session_params.
   * Open a session with it again with `Session.open({ state })`.
   * @param options `settings` / `dht`: what to include (default both)
   * @throws TorrentError INVALID_ARGUMENT, SESSION_CLOSED
   */
  saveState(options: { settings?: boolean; dht?: boolean } = {}): Uint8Array {
    this.#core.ensureOpen();
    const o = parse(SaveStateSchema, options, "saveState");
    const flags = (o.settings ?? true ? 1 : 0) | (o.dht ?? true ? 2 : 0);
    if (flags === 0) throw new TorrentError("INVALID_ARGUMENT", "saveState: nothing to save");
    const sym = this.#core.native.sym;
    const out = new Uint32Array(2);
    this.#core.check(
      sym.btx_session_save_state(this.#core.handle, flags, out.subarray(0, 1), out.subarray(1, 2)),
      "saveState",
    );
    return takeBlob(sym, out[0], out[1]);
  }

  /**
   * Every libtorrent setting by name, typed and validated: `list()`,
   * `get(name)`, `set(name, value)` / `set({ … })`, `setEncryption()`.
   */
  get settings(): SessionSettings {
    this.#settings ??= new SessionSettings({
      native: this.#core.native,
      read: (names) => {
        this.#core.ensureOpen();
        const sym = this.#core.native.sym;
        const arg = names ? bencode(names) : new Uint8Array(0);
        const text = readText(sym, (b, c, o) => {
          const rc = sym.btx_session_get_settings(this.#core.handle, arg, arg.length, b, c, o);
          if (rc !== 0 && rc !== 8) this.#core.check(rc, "settings");
          return rc;
        });
        return bdecode(new TextEncoder().encode(text)) as Record<string, BDecoded>;
      },
      apply: (settings) => this.applySettings(settings),
    });
    return this.#settings;
  }

  /**
   * The status of every torrent of the session. Each record has the fields
   * of `torrent.status()`, read on access from this poll's snapshot, plus
   * `torrent` (see {@link StatusRecord}). Torrents being removed are left
   * out.
   *
   * Cheap with many torrents: it follows libtorrent's state updates
   * (`post_torrent_updates`), so the engine reports only the torrents whose
   * status changed since the last poll, and only those records are copied;
   * a poll of 10,000 quiet torrents costs well under a millisecond. Fields
   * that move with the clock alone (active, seeding and finished seconds,
   * next announce, seconds since up/download) are brought forward to the
   * time of the poll. libtorrent flags a torrent as changed on what a UI
   * shows (state, progress, transfer, peers, errors, flags, trackers);
   * `torrent.status()` asks the engine directly for one torrent.
   * @throws TorrentError SESSION_CLOSED
   */
  statusAll(): StatusRecord[] {
    this.#core.ensureOpen();
    const core = this.#core;
    const sym = core.native.sym;
    const io = this.#pollIo;
    const { rc, snap } = this.#pollPool.poll(
      (n, nc, s, sc, o) => sym.btx_session_status_poll(core.handle, n, nc, s, sc, o),
      io,
    );
    core.check(rc, "statusAll");
    const count = io[0], nums = snap.nums;
    // The torrent of each record: the list only changes with the layout.
    let order = this.#pollOrder;
    if (io[6] !== this.#pollLayout || order.length !== count) {
      const torrents = core.torrents;
      order = new Array(count);
      for (let i = 0, base = ST.TORRENT; i < count; i++, base += ST.COUNT) order[i] = torrents.get(nums[base]);
      this.#pollOrder = order;
      this.#pollLayout = io[6];
    }
    const result: StatusRecord[] = new Array(count);
    let k = 0;
    for (let i = 0, base = 0; i < count; i++, base += ST.COUNT) {
      const t = order[i];
      if (t !== undefined && !t.removed) result[k++] = new StatusRecord(t, snap, base);
    }
    result.length = k;
    return result;
  }

  /**
   * Adds many torrents at once, much faster than `add()` in a loop: every
   * entry is validated first (one invalid entry adds nothing), then they go
   * to libtorrent in chunks that it adds (async_add_torrent) while the next
   * chunk is prepared, and one wait at the end collects them. If the engine
   * refuses any (DUPLICATE_TORRENT, a magnet or .torrent it cannot parse),
   * the ones it added are removed again and the first refusal is thrown:
   * all or nothing.
   * @returns the torrents, in the order of `list`
   * @throws TorrentError INVALID_ARGUMENT, INVALID_MAGNET, INVALID_TORRENT, INVALID_RESUME, DUPLICATE_TORRENT, SESSION_CLOSED
   */
  async addMany(list: AddOptions[]): Promise<Torrent[]> {
    this.#core.ensureOpen();
    const core = this.#core, sym = core.native.sym;
    if (!Array.isArray(list)) throw new TorrentError("INVALID_ARGUMENT", "addMany: give an array of add options");
    // Validate every entry first (common shapes without zod, as they are).
    const valid: z.output<typeof AddSchema>[] = new Array(list.length);
    const quick = new Uint8Array(list.length);
    for (let i = 0; i < list.length; i++) {
      const o = list[i];
      if (quickAddCheck(o)) {
        valid[i] = o;
        quick[i] = 1;
      } else valid[i] = parse(AddSchema, o, `addMany: entry ${i}`);
    }
    if (list.length === 0) return [];
    const paths = new Map<string, string>();
    const w = new AddListWriter();
    this.#roomForAlerts(list.length);
    const batch = new Uint32Array(1);
    const ids = new Uint32Array(list.length), codes = new Int32Array(list.length);
    try {
      for (let i = 0; i < valid.length; i += ADD_CHUNK) {
        w.start();
        for (let j = i; j < Math.min(valid.length, i + ADD_CHUNK); j++) {
          if (quick[j]) w.quick(valid[j] as QuickAdd, paths);
          else w.dict(addDict(valid[j], paths));
        }
        const len = w.end();
        core.check(sym.btx_session_add_post(core.handle, w.buf, len, batch), "addMany");
      }
    } finally {
      if (batch[0] !== 0) {
        core.check(sym.btx_session_add_collect(core.handle, batch[0], ids, codes, ids.length), "addMany");
      }
    }
    const added: Torrent[] = new Array(list.length);
    // Every info-hash in one call (not one per Torrent), decoded by each Torrent on first use.
    const n = ids.length;
    const hashBuf = new Uint8Array(53 * n);
    core.check(sym.btx_torrent_info_hashes(ids, n, hashBuf, hashBuf.subarray(52 * n)), "addMany");
    let failed = -1;
    for (let i = 0; i < ids.length; i++) {
      if (codes[i] !== 0) {
        if (failed < 0) failed = i;
        continue;
      }
      const t = new Torrent(core, ids[i], hashBuf, i);
      core.torrents.set(ids[i], t);
      added[i] = t;
    }
    this.#roomForAlerts();
    if (failed < 0) return added;
    const error = new TorrentError(codeOf(codes[failed]), `addMany: ${lastError(sym, core.handle)}`);
    await Promise.all(added.filter((t) => t !== undefined).map((t) => t.remove()));
    throw error;
  }

  // ---- torrent control

  /**
   * Saves resume data of every torrent whose state changed since its last
   * save (or every torrent, with `all`), pending pieces flushed to disk
   * first. Resolves with one entry per torrent asked: `resumeData` (pass it
   * as `resume` to `add()` later) or `error`. Torrents removed meanwhile
   * come back with error TORRENT_REMOVED.
   * @throws TorrentError SESSION_CLOSED, INVALID_ARGUMENT
   */
  async saveAllResumeData(options: SaveAllOptions = {}): Promise<SavedResumeData[]> {
    this.#core.ensureOpen();
    const o = parse(z.object({ all: z.boolean().optional() }).strict(), options, "saveAllResumeData");
    return await this.#saveAll(o.all ?? false);
  }

  async #saveAll(all: boolean): Promise<SavedResumeData[]> {
    const core = this.#core;
    const sym = core.native.sym;
    const flags = RESUME.FLUSH | RESUME.INFO_DICT | (all ? 0 : RESUME.ONLY_IF_MODIFIED);
    const stream = core.hub.subscribe({ types: ["save_resume_data", "save_resume_data_failed", "torrent_removed"] });
    const results = new Map<Torrent, SavedResumeData | null>();
    try {
      for (const t of core.torrents.values()) {
        if (t.removed) continue;
        const rc = sym.btx_torrent_save_resume_flags(tid(t), flags);
        if (rc === 0) results.set(t, null);
        else if (rc !== 1 /* BAD_HANDLE: removed underneath */) core.check(rc, "saveAllResumeData");
      }
      let pending = results.size;
      while (pending > 0) {
        const r = await stream.next();
        if (r.done) {
          for (const [t, v] of results) {
            if (v === null) {
              results.set(t, { torrent: t, error: new TorrentError("SESSION_CLOSED", "the session closed first") });
            }
          }
          break;
        }
        const ev = r.value;
        const t = (ev as { torrent?: Torrent }).torrent;
        if (!t || results.get(t) !== null) continue;
        if (ev.type === "save_resume_data") {
          results.set(t, { torrent: t, resumeData: ev.resumeData });
        } else if (ev.type === "save_resume_data_failed") {
          if (ev.notModified) results.delete(t);
          else {results.set(t, {
              torrent: t,
              error: new TorrentError("ENGINE", `saving resume data failed: ${ev.error}`),
            });}
        } else {
          results.set(t, { torrent: t, error: new TorrentError("TORRENT_REMOVED", "the torrent was removed") });
        }
        pending--;
      }
    } finally {
      await stream.return();
    }
    return [...results.values()].filter((x): x is SavedResumeData => x !== null);
  }

  /**
   * Pauses the engine and waits until every torrent that was running has
   * stopped: libtorrent posts torrent_paused once a torrent's disk jobs are
   * done, so no piece completes after this (and after the resume data).
   */
  async #pauseAll(): Promise<void> {
    const core = this.#core;
    const running = new Set([...core.torrents.values()].filter((t) => !t.removed && !t.flags().paused));
    const stream = core.hub.subscribe({ types: ["torrent_paused", "torrent_removed"] });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      core.check(core.native.sym.btx_session_pause(core.handle), "close");
      // A safety net only (a lost alert must not hang close()); normally the events end the wait.
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, PAUSE_TIMEOUT_MS);
      });
      const stopped = (async () => {
        while (running.size > 0) {
          const r = await stream.next();
          if (r.done) return;
          running.delete((r.value as { torrent?: Torrent }).torrent as Torrent);
        }
      })();
      await Promise.race([stopped, timeout]);
    } finally {
      clearTimeout(timer);
      await stream.return();
    }
  }

  async #closeWith(o: { saveResumeData?: CloseOptions["saveResumeData"]; onlyIfModified?: boolean }): Promise<void> {
    const errors: unknown[] = [];
    for (const p of [...this.#plugins].reverse()) {
      try {
        await p.detach();
      } catch (e) {
        errors.push(e);
      }
    }
    const save = o.saveResumeData;
    if (save && !this.#core.closed) {
      try {
        await this.#pauseAll();
        for (const r of await this.#saveAll(!o.onlyIfModified)) {
          if (r.error) {
            errors.push(r.error);
            continue;
          }
          try {
            await save(r.torrent, r.resumeData);
          } catch (e) {
            errors.push(e);
          }
        }
      } catch (e) {
        errors.push(e);
      }
    }
    await this.#core.close();
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `close: ${errors.length} torrents' resume data not saved`);
  }

  // ---- ip filter and dht
  #ipFilter: IpFilter | undefined;
  #dht: Dht | undefined;

  /**
   * The session's IP filter. On an isolated session the loopback-only rules
   * stay on top of whatever is added: nothing outside 127.0.0.0/8 and ::1
   * can be allowed.
   */
  get ipFilter(): IpFilter {
    return this.#ipFilter ??= new IpFilter(this.#core);
  }

  /** The session's DHT node: nodes, announces, peer lookups, BEP 44 items. */
  get dht(): Dht {
    return this.#dht ??= new Dht(this.#core);
  }
}

// ---- torrent control
const RESUME = { FLUSH: 1, INFO_DICT: 2, ONLY_IF_MODIFIED: 4 } as const;
const PAUSE_TIMEOUT_MS = 10_000;
