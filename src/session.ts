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
  diskIo: z.enum(["mmap", "posix"]).optional(),
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
    dht_restrict_routing_ips: false,
    dht_restrict_search_ips: false,
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
      const { magnet, torrent, torrentFile, infoHash, resume, savePath, paused, name, ...modes } = o;
      const m = flagMasks(modes);
      let set = m.set, unset = m.clear | (modes.autoManaged ? 0 : FLAG.autoManaged);
      if (paused) set |= FLAG.paused;
      else unset |= FLAG.paused;
      const ih = typeof infoHash === "string"
        ? (infoHash.length === 40 ? { v1: infoHash } : { v2: infoHash })
        : infoHash;
      const params = bencode({
        magnet,
        torrent,
        torrent_file: torrentFile === undefined ? undefined : resolve(torrentFile),
        info_hash_v1: ih?.v1 === undefined ? undefined : unhex(ih.v1),
        info_hash_v2: ih?.v2 === undefined ? undefined : unhex(ih.v2),
        resume,
        save_path: savePath === undefined ? undefined : resolve(savePath),
        name,
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

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
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
}

// ---- torrent control
const RESUME = { FLUSH: 1, INFO_DICT: 2, ONLY_IF_MODIFIED: 4 } as const;
const PAUSE_TIMEOUT_MS = 10_000;
