/**
 * The session: one libtorrent engine with its own network and disk threads.
 *
 * @module
 */
import { resolve } from "node:path";
import { z } from "zod";
import { SessionCore } from "./_core.ts";
import { check, getNative, out32 } from "./_native.ts";
import { parse } from "./_validate.ts";
import { bencode, type BValue } from "./bencode.ts";
import { TorrentError } from "./errors.ts";
import type { EventFilter, EventStream } from "./events.ts";
import { FLAG, Torrent } from "./torrent.ts";
import { IpFilter } from "./ipfilter.ts";
import { Dht } from "./dht.ts";

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
  /** Disk I/O backend: `"mmap"` (libtorrent's default) or `"posix"` (no SIGBUS if a file shrinks underneath). */
  diskIo?: "mmap" | "posix";
}

/** Options of {@link Session.add}: exactly one of `magnet`, `torrent`, `resume`. */
export interface AddOptions {
  /** A magnet URI (BEP 9): the metadata is fetched from peers. */
  magnet?: string;
  /** The bytes of a .torrent file. */
  torrent?: Uint8Array;
  /** Resume data from `torrent.saveResumeData()`. */
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
  diskIo: z.enum(["mmap", "posix"]).optional(),
}).strict();

const AddSchema = z.object({
  magnet: z.string().optional(),
  torrent: z.instanceof(Uint8Array).optional(),
  resume: z.instanceof(Uint8Array).optional(),
  savePath: z.string().min(1).optional(),
  paused: z.boolean().optional(),
  name: z.string().optional(),
}).strict().refine((o) => [o.magnet, o.torrent, o.resume].filter((x) => x !== undefined).length === 1, {
  message: "give exactly one of magnet, torrent, resume",
}).refine((o) => o.resume !== undefined || o.savePath !== undefined, { message: "savePath is required" });

const BTX_SESSION_POSIX_DISK_IO = 1;
const BTX_SESSION_LOOPBACK_ONLY = 2;

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

function encodeSettings(settings: Record<string, SettingValue>): Uint8Array {
  const dict: Record<string, BValue> = {};
  for (const [k, v] of Object.entries(settings)) dict[k] = typeof v === "boolean" ? (v ? 1 : 0) : v;
  return bencode(dict);
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
  #closing: Promise<void> | undefined;

  private constructor(core: SessionCore) {
    this.#core = core;
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
    Object.assign(settings, o.settings);
    if (isolated) {
      for (const k of ["enable_lsd", "enable_upnp", "enable_natpmp"]) {
        if (settings[k] === true || settings[k] === 1) {
          throw new TorrentError(
            "INVALID_ARGUMENT",
            `Session.open: ${k} would leave the machine; not allowed when isolated`,
          );
        }
      }
    }
    const buf = encodeSettings(settings);
    check(native.sym, native.sym.btx_session_open(buf, buf.length, flags, out32), 0, "Session.open");
    const core = new SessionCore(native, out32[0]);
    core.start();
    return new Session(core);
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
      const o = parse(AddSchema, options, "add");
      // Explicit control by default: not auto-managed, started unless paused.
      let set = 0, unset = FLAG.autoManaged;
      if (o.paused) set |= FLAG.paused;
      else unset |= FLAG.paused;
      const params = bencode({
        magnet: o.magnet,
        torrent: o.torrent,
        resume: o.resume,
        save_path: o.savePath === undefined ? undefined : resolve(o.savePath),
        name: o.name,
        flags_set: set,
        flags_unset: unset,
      });
      this.#core.check(this.#core.native.sym.btx_torrent_add(this.#core.handle, params, params.length, out32), "add");
      const id = out32[0];
      const t = new Torrent(this.#core, id);
      this.#core.torrents.set(id, t);
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
   * on; several may run at once; leaving `for await` unsubscribes.
   */
  events(filter?: EventFilter): EventStream {
    return this.#core.hub.subscribe(filter);
  }

  /**
   * Applies libtorrent settings by name.
   * @throws TorrentError UNKNOWN_SETTING, SETTING_TYPE
   */
  applySettings(settings: Record<string, SettingValue>): void {
    this.#core.ensureOpen();
    const buf = encodeSettings(parse(SettingsSchema, settings, "applySettings"));
    this.#core.check(
      this.#core.native.sym.btx_session_apply_settings(this.#core.handle, buf, buf.length),
      "applySettings",
    );
  }

  /**
   * Closes the session: delivers pending events, ends every event stream,
   * pauses and destroys the engine (joining its threads). Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#core.close();
    return this.#closing;
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
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
