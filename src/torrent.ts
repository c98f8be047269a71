/**
 * A torrent in a session: control and inspection.
 *
 * @module
 */
import type { SessionCore } from "./_core.ts";
import { bytes, hex, out32, takeBlob, utf8 } from "./_native.ts";
import { TorrentError } from "./errors.ts";
import {
  type EventFilter,
  type EventStream,
  type EventStreamOptions,
  queueBound,
  type TorrentEvent,
  type TorrentState,
} from "./events.ts";
import { decodeStatus, ST } from "./_status.ts";
import { RecordBuffers } from "./_records.ts";
import { decodeFiles, decodePeers, type FileEntry, type PeerInfo, PieceSet } from "./inspect.ts";
import { z } from "zod";
import { parse } from "./_validate.ts";
import { bdecode, type BDecoded, bencode } from "./bencode.ts";
import { resolve } from "node:path";
import { writeResumeFile } from "./resume_file.ts";
import { diskErrorOf, onStorageEvent, setDiskError } from "./_disk_error.ts";
import {
  decodeTrackers,
  FLAG_BITS,
  flagMasks,
  flagsOf,
  IndexSchema,
  LimitSchema,
  type MovePolicy,
  type Priority,
  PrioritySchema,
  type ReannounceOptions,
  type SettableFlags,
  SettableFlagsSchema,
  TierSchema,
  type TorrentFlags,
  type TrackerEntry,
  TrackerEntrySchema,
  type TrackerInfo,
  TrackerUrl,
  WebSeedUrl,
} from "./control.ts";

/** A torrent's info-hashes, lowercase hex: v1 (SHA-1, 40 chars), v2 (SHA-256, 64 chars). */
export interface InfoHash {
  /** SHA-1 info-hash (BitTorrent v1), 40 hex characters. */
  v1?: string;
  /** SHA-256 info-hash (BitTorrent v2), 64 hex characters. */
  v2?: string;
}

/**
 * A snapshot of a torrent's state. Rates are payload bytes per second;
 * sizes and totals are bytes; times are Unix seconds.
 */
export interface TorrentStatus {
  /** The torrent's name (from metadata, the magnet's `dn`, or the add options). */
  name: string;
  /** Directory the files are in. */
  savePath: string;
  /** What the torrent is doing. */
  state: TorrentState;
  /** 0..1 of the wanted bytes. */
  progress: number;
  /** Payload download rate, bytes/s. */
  downloadRate: number;
  /** Payload upload rate, bytes/s. */
  uploadRate: number;
  /** Connected peers, seeds included. */
  numPeers: number;
  /** Connected seeds. */
  numSeeds: number;
  /** Seconds until the wanted bytes are in at the current rate; 0 when finished, null when unknown. */
  eta: number | null;
  /** Bytes of verified pieces we have. */
  totalDone: number;
  /** Bytes we want (file priorities applied). */
  totalWanted: number;
  /** Of the wanted bytes, those we have. */
  totalWantedDone: number;
  /** Bytes in the torrent; 0 until the metadata is known. */
  totalSize: number;
  /** Payload bytes downloaded in this session. */
  totalDownload: number;
  /** Payload bytes uploaded in this session. */
  totalUpload: number;
  /** Bytes downloaded, all time (carried in resume data). */
  allTimeDownload: number;
  /** Bytes uploaded, all time (carried in resume data). */
  allTimeUpload: number;
  /** Stopped by `pause()` or added paused. */
  paused: boolean;
  /** Started and stopped by libtorrent's queue. */
  autoManaged: boolean;
  /** Pieces are fetched in order. */
  sequential: boolean;
  /**
   * Uploads only, requests nothing: set by `setFlags({ uploadMode })`, and
   * by libtorrent itself when a write to disk failed with a full disk,
   * a read-only file system or a permission error (a `file_error` event
   * says which). `clearError()` leaves it once the cause is fixed.
   */
  uploadMode: boolean;
  /** The info dictionary is known. */
  hasMetadata: boolean;
  /** Every piece is had and the torrent uploads. */
  isSeeding: boolean;
  /** All wanted pieces are had. */
  isFinished: boolean;
  /** Pieces had, of `pieceCount`. */
  numPieces: number;
  /** Pieces in the torrent (0 until the metadata is known). */
  pieceCount: number;
  /** Bytes per piece (0 until the metadata is known). */
  pieceSize: number;
  /** Position in the download queue; -1 when not queued. */
  queuePosition: number;
  /** Peer connections, half-open ones included. */
  numConnections: number;
  /** Peers known, connected or not. */
  listPeers: number;
  /** Seeds known, connected or not. */
  listSeeds: number;
  /** Seeds per the last tracker scrape; -1 when unknown. */
  numComplete: number;
  /** Leechers per the last tracker scrape; -1 when unknown. */
  numIncomplete: number;
  /** Full copies in the connected swarm; -1 when seeding. */
  distributedCopies: number;
  /** When the torrent was first added, Unix seconds. */
  addedTime: number;
  /** When the torrent completed, Unix seconds; 0 until then. */
  completedTime: number;
  /** Seconds not paused, all time. */
  activeSeconds: number;
  /** Seconds seeding, all time. */
  seedingSeconds: number;
  /** The torrent's error, or null. */
  error: { code: number; message: string; file: number } | null;
  /** Seconds until the next tracker announce. */
  nextAnnounce: number;
  /** Bytes received in this session, protocol overhead included. */
  totalReceived: number;
  /** Bytes sent in this session, protocol overhead included. */
  totalSent: number;
  /** Bytes/s received, protocol overhead included. */
  receiveRate: number;
  /** Bytes/s sent, protocol overhead included. */
  sendRate: number;
  /** Bytes of pieces that failed the hash check (downloaded again). */
  totalFailedBytes: number;
  /** Bytes downloaded that were not needed (already had). */
  totalRedundantBytes: number;
  /** When a full copy was last seen among the peers, Unix seconds; 0 never. */
  lastSeenComplete: number;
  /** Peers we unchoke. */
  numUploads: number;
  /** Most peers we unchoke at once; -1 unlimited. */
  uploadsLimit: number;
  /** Most connections; -1 unlimited. */
  connectionsLimit: number;
  /** Known peers we could connect to. */
  connectCandidates: number;
  /** libtorrent's seeding priority (higher seeds first). */
  seedRank: number;
  /** A storage move is in progress. */
  movingStorage: boolean;
  /** Announcing to trackers. */
  announcingToTrackers: boolean;
  /** Announcing on local peer discovery. */
  announcingToLsd: boolean;
  /** Announcing on the DHT. */
  announcingToDht: boolean;
  /** A peer connected to us for this torrent at least once. */
  hasIncoming: boolean;
  /** The resume data changed since it was last saved. */
  needSaveResume: boolean;
  /** How files are allocated: `"sparse"` (default) or `"allocate"`. */
  storageMode: "allocate" | "sparse";
  /** Seconds since payload was last sent; null never. */
  secondsSinceUpload: number | null;
  /** Seconds since payload was last received; null never. */
  secondsSinceDownload: number | null;
  /** Seconds finished (all wanted pieces had), all time. */
  finishedSeconds: number;
  /** Bytes per request block (0 until the metadata is known). */
  blockSize: number;
  /** Progress in millionths (0..1000000). */
  progressPpm: number;
  /** Peers waiting for upload bandwidth. */
  upBandwidthQueue: number;
  /** Peers waiting for download bandwidth. */
  downBandwidthQueue: number;
  /** URL of the tracker last announced to successfully ("" none). */
  currentTracker: string;
}

/**
 * The info-hashes in `buf` at `off` (20 bytes v1, then 32 bytes v2, as
 * btx_torrent_info_hash writes them); `flags` bit 0: v1, bit 1: v2. @internal
 */
export function infoHashOf(buf: Uint8Array, off: number, flags: number): InfoHash {
  return {
    v1: flags & 1 ? hex(buf, off, 20) : undefined,
    v2: flags & 2 ? hex(buf, off + 20, 32) : undefined,
  };
}

/** libtorrent torrent_flags bits (torrent_flags.hpp). @internal */
export const FLAG = FLAG_BITS;

const statusNums = new Float64Array(ST.COUNT);
const statusStrs = new Uint8Array(16384);
const infoHashBuf = new Uint8Array(52);

const PeerSchema = z.object({
  host: z.union([z.ipv4(), z.ipv6()], { error: "host must be a numeric IPv4 or IPv6 address" }),
  port: z.number().int().min(1).max(65535),
});
const RemoveSchema = z.object({ deleteFiles: z.boolean().optional() }).strict();

// ---- inspection
/** Options of {@link Torrent.files}. */
export interface FilesOptions {
  /** Count downloaded blocks of unfinished pieces too (default: whole verified pieces only). */
  precise?: boolean;
  /** Include pad files, marked `pad: true` (default: left out). */
  includePad?: boolean;
}
const FilesSchema = z.object({ precise: z.boolean().optional(), includePad: z.boolean().optional() }).strict();
const BUFFER_TOO_SMALL = 8;
const inspectBufs = new RecordBuffers(64 * 15, 4096);
let bitfieldBuf = new Uint8Array(1024);
let availBuf = new Int32Array(4096);

// ---- storage errors
/** Operations whose failure means data the torrent claims to have is gone (a file deleted or truncated). */
const READ_OPS = new Set(["file_read", "file_open"]);

// ---- torrent control
let idOf: (t: Torrent) => number;
/** The native handle of `t` (no liveness check). @internal */
export function torrentId(t: Torrent): number {
  return idOf(t);
}
const BTX_E_BUFFER_TOO_SMALL = 8;
const LIMIT = { UPLOAD: 0, DOWNLOAD: 1, CONNECTIONS: 2, UPLOADS: 3 } as const;
const QUEUE = { SET: 0, UP: 1, DOWN: 2, TOP: 3, BOTTOM: 4 } as const;
const MOVE_POLICY: Record<MovePolicy, number> = { replace: 0, keep: 1, fail: 2 };
const limitBuf = new Int32Array(4);
const queueBuf = new Int32Array(1);
let prioBuf = new Uint8Array(256);
const ReannounceSchema = z.object({
  seconds: z.number().int().min(0).max(0x7fffffff).optional(),
  trackerIndex: z.number().int().min(-1).max(0x7fffffff).optional(),
  ignoreMinInterval: z.boolean().optional(),
}).strict();
const ScrapeSchema = z.object({ trackerIndex: z.number().int().min(-1).max(0x7fffffff).optional() }).strict();
const MoveSchema = z.object({ policy: z.enum(["replace", "keep", "fail"]).optional() }).strict();
const DeadlineSchema = z.object({ alertWhenAvailable: z.boolean().optional() }).strict();

/**
 * A torrent in a session. Get one from `session.add()`; the same object
 * appears as `torrent` in that session's events.
 *
 * @example Watch a torrent until it is done
 * ```ts
 * import { Session } from "./mod.ts";
 * await using session = await Session.open({ profile: "isolated" });
 * const t = await session.add({ magnet: "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", savePath: "/tmp/dl" });
 * console.log(t.infoHash.v1, t.status().state);
 * await t.remove();
 * ```
 */
export class Torrent {
  readonly #core: SessionCore;
  readonly #id: number;
  #removed = false;
  #infoHash: InfoHash = {};
  // addMany() reads every new torrent's info-hashes in one call into one
  // buffer shared by them (52 bytes each, then a flags byte each); torrent
  // #hashAt of it decodes its own on first use.
  #hashBuf: Uint8Array | undefined;
  #hashAt = 0;
  #rechecking = false;

  /** @internal Made by Session.add() / addMany() (which passes the bulk-read info-hashes). */
  constructor(core: SessionCore, id: number, hashBuf?: Uint8Array, hashAt = 0) {
    this.#core = core;
    this.#id = id;
    if (hashBuf !== undefined) {
      this.#hashBuf = hashBuf;
      this.#hashAt = hashAt;
    } else this.#readInfoHash();
  }

  /** True after `remove()` (or after its session closed). */
  get removed(): boolean {
    return this.#removed || this.#core.closed;
  }

  /** The info-hashes (hex). A v2 hash may appear once metadata arrives. */
  get infoHash(): InfoHash {
    const b = this.#hashBuf;
    if (b !== undefined) {
      // Bulk layout: 52 bytes per torrent, then one flags byte per torrent.
      const count = b.length / 53;
      this.#infoHash = infoHashOf(b, this.#hashAt * 52, b[52 * count + this.#hashAt]);
      this.#hashBuf = undefined;
    }
    if (!this.removed && !(this.#infoHash.v1 && this.#infoHash.v2)) this.#readInfoHash();
    return { ...this.#infoHash };
  }

  #readInfoHash(): void {
    const rc = this.#core.native.sym.btx_torrent_info_hash(this.#id, infoHashBuf, out32);
    if (rc !== 0) return;
    const flags = out32[0];
    this.#infoHash = infoHashOf(infoHashBuf, 0, flags);
  }

  #live(): number {
    this.#core.ensureOpen();
    if (this.#removed) throw new TorrentError("TORRENT_REMOVED", "the torrent was removed from its session");
    return this.#id;
  }

  /** The current status. Throws TORRENT_REMOVED / SESSION_CLOSED when gone. */
  status(): TorrentStatus {
    const id = this.#live();
    this.#core.check(
      this.#core.native.sym.btx_torrent_status_ex(id, statusNums, statusStrs, statusStrs.length),
      "status",
    );
    const st = decodeStatus(statusNums, 0, statusStrs, 0);
    st.error ??= diskErrorOf(this);
    return st;
  }

  /** Stops the torrent: disconnects its peers; no payload moves until `resume()`. */
  pause(): void {
    this.#core.check(this.#core.native.sym.btx_torrent_pause(this.#live()), "pause");
  }

  /** Starts a paused torrent. */
  resume(): void {
    this.#core.check(this.#core.native.sym.btx_torrent_resume(this.#live()), "resume");
  }

  /**
   * Connects to a peer at a numeric address.
   * @param host IPv4 or IPv6 address (no names: nothing is resolved)
   * @param port 1..65535
   */
  connectPeer(host: string, port: number): void {
    const id = this.#live();
    const p = parse(PeerSchema, { host, port }, "connectPeer");
    const h = bytes(p.host);
    this.#core.check(this.#core.native.sym.btx_torrent_connect_peer(id, h, h.length, p.port), "connectPeer");
  }

  /**
   * Removes the torrent from its session; resolves when libtorrent is done
   * (and, with `deleteFiles`, when its files are deleted).
   * @throws TorrentError ENGINE when deleting the files failed
   */
  async remove(options: { deleteFiles?: boolean } = {}): Promise<void> {
    const id = this.#live();
    const o = parse(RemoveSchema, options, "remove");
    const done = this.#core.waitFor(
      (ev) => ev.torrent === this && ev.type === (o.deleteFiles ? "torrent_deleted" : "torrent_removed"),
      (ev) =>
        ev.type === "torrent_delete_failed" && ev.torrent === this
          ? new TorrentError("ENGINE", `deleting the files failed: ${ev.error}`)
          : undefined,
      this,
    );
    this.#core.check(this.#core.native.sym.btx_torrent_remove(id, o.deleteFiles ? 1 : 0), "remove");
    this.#removed = true;
    await done;
    this.#core.torrents.delete(id);
  }

  /**
   * Resume data for this torrent: the bytes to pass as `resume` to
   * `session.add()` later so no verified piece is downloaded again.
   */
  async saveResumeData(): Promise<Uint8Array> {
    const id = this.#live();
    const done = this.#core.waitFor<TorrentEvent & { type: "save_resume_data" }>(
      (ev) => ev.type === "save_resume_data" && ev.torrent === this,
      (ev) =>
        ev.type === "save_resume_data_failed" && ev.torrent === this
          ? new TorrentError("ENGINE", `saving resume data failed: ${ev.error}`)
          : undefined,
      this,
    );
    this.#core.check(this.#core.native.sym.btx_torrent_save_resume(id), "saveResumeData");
    const ev = await done;
    return ev.resumeData;
  }

  /**
   * Saves resume data (as `saveResumeData()`) and writes it to `path`
   * atomically with {@link writeResumeFile}: a crash or `kill -9` at any
   * moment leaves either the previous file or the new one, never a torn one.
   * @returns the resume data written
   * @throws TorrentError IO_ERROR (the previous file stays), ENGINE, TORRENT_REMOVED, SESSION_CLOSED, INVALID_ARGUMENT
   */
  async saveResumeFile(path: string): Promise<Uint8Array> {
    const p = parse(z.string().min(1), path, "saveResumeFile");
    const data = await this.saveResumeData();
    writeResumeFile(p, data);
    return data;
  }

  /** Events about this torrent (see `session.events()`, also for `options`). @throws TorrentError INVALID_ARGUMENT */
  events(filter?: EventFilter, options?: EventStreamOptions): EventStream {
    const max = queueBound(options);
    const mine = (ev: TorrentEvent) => (ev as { torrent?: Torrent }).torrent === this;
    if (!filter) return this.#core.hub.subscribe(mine, max);
    if (typeof filter === "function") return this.#core.hub.subscribe((ev) => mine(ev) && filter(ev), max);
    return this.#core.hub.subscribe({ ...filter, torrent: this }, max);
  }

  // ---- inspection

  /**
   * The torrent's connections now, one record per peer (half-open ones
   * included, with `flags.connecting`).
   * @throws TorrentError TORRENT_REMOVED, SESSION_CLOSED
   */
  peers(): PeerInfo[] {
    const id = this.#live();
    const sym = this.#core.native.sym;
    this.#core.check(inspectBufs.fill((n, nc, s, sc, out) => sym.btx_torrent_peers(id, n, nc, s, sc, out)), "peers");
    return decodePeers(inspectBufs);
  }

  /**
   * The torrent's files with their progress. By default progress counts
   * whole hash-checked pieces only (libtorrent's `piece_granularity`: cheap,
   * and it agrees with `pieces()`); `precise: true` also counts downloaded
   * blocks of unfinished pieces (libtorrent's default mode, costlier). Pad
   * files are left out unless `includePad` (then they carry `pad: true`).
   * @throws TorrentError NO_METADATA (metadata not known yet), INVALID_ARGUMENT, TORRENT_REMOVED, SESSION_CLOSED
   */
  files(options: FilesOptions = {}): FileEntry[] {
    const id = this.#live();
    const o = parse(FilesSchema, options, "files");
    const flags = (o.precise ? 1 : 0) | (o.includePad ? 2 : 0);
    const sym = this.#core.native.sym;
    this.#core.check(
      inspectBufs.fill((n, nc, s, sc, out) => sym.btx_torrent_files(id, flags, n, nc, s, sc, out)),
      "files",
    );
    return decodeFiles(inspectBufs);
  }

  /**
   * The pieces we have (hash-checked) as a {@link PieceSet}: a bitfield,
   * most significant bit first, with `has(i)`.
   * @throws TorrentError NO_METADATA, TORRENT_REMOVED, SESSION_CLOSED
   */
  pieces(): PieceSet {
    const id = this.#live();
    const sym = this.#core.native.sym;
    let rc = sym.btx_torrent_pieces(id, bitfieldBuf, bitfieldBuf.length, out32);
    if (rc === BUFFER_TOO_SMALL) {
      bitfieldBuf = new Uint8Array(out32[1] * 2);
      rc = sym.btx_torrent_pieces(id, bitfieldBuf, bitfieldBuf.length, out32);
    }
    this.#core.check(rc, "pieces");
    return new PieceSet(out32[0], bitfieldBuf.slice(0, out32[1]));
  }

  /**
   * How many connected peers have each piece: element `i` is piece `i`.
   * Empty when we are a seed (libtorrent keeps no piece picker then).
   * @throws TorrentError NO_METADATA, TORRENT_REMOVED, SESSION_CLOSED
   */
  pieceAvailability(): Int32Array {
    const id = this.#live();
    const sym = this.#core.native.sym;
    let rc = sym.btx_torrent_piece_availability(id, availBuf, availBuf.length, out32);
    if (rc === BUFFER_TOO_SMALL) {
      availBuf = new Int32Array(out32[0] * 2);
      rc = sym.btx_torrent_piece_availability(id, availBuf, availBuf.length, out32);
    }
    this.#core.check(rc, "pieceAvailability");
    return availBuf.slice(0, out32[0]);
  }

  // ---- torrent control

  static {
    idOf = (t) => t.#id;
    // libtorrent stops a torrent (error + pause) when reading its data back
    // for a hash check fails, but when the read was for a peer's request it
    // only posts file_error and goes on, still claiming pieces whose file
    // was deleted or truncated underneath. TorrentXT treats both alike:
    // error state and paused, until clearError() (and a recheck). Read
    // failures of jobs issued before a forceRecheck() are old news.
    onStorageEvent((t, ev) => {
      if (ev.type === "torrent_checked") t.#rechecking = false;
      if (ev.type !== "file_error" || t.removed || !READ_OPS.has(ev.operation) || t.#rechecking) return;
      if (diskErrorOf(t)) return;
      setDiskError(t, { code: ev.errorCode, message: `${ev.operation}: ${ev.error}`, file: -1 });
      t.#core.native.sym.btx_torrent_pause(t.#id);
    });
  }

  /** Calls a control function of the shim; throws its error as a TorrentError. */
  #call(what: string, fn: (id: number) => number): void {
    const id = this.#live();
    this.#core.check(fn(id), what);
  }

  /**
   * Drops every peer and checks the files on disk against the piece hashes
   * again; pieces that fail are downloaded again. Event `torrent_checked`
   * when done.
   * @throws TorrentError NO_METADATA, TORRENT_REMOVED, SESSION_CLOSED
   */
  forceRecheck(): void {
    this.#call("forceRecheck", (id) => this.#core.native.sym.btx_torrent_force_recheck(id));
    this.#rechecking = true;
  }

  /**
   * Announces to the trackers now (or in `seconds`). Events
   * `tracker_announce`, then `tracker_reply` or `tracker_error`.
   * @throws TorrentError INVALID_ARGUMENT (trackerIndex out of range, …), TORRENT_REMOVED, SESSION_CLOSED
   */
  forceReannounce(options: ReannounceOptions = {}): void {
    const o = parse(ReannounceSchema, options, "forceReannounce");
    this.#call(
      "forceReannounce",
      (id) =>
        this.#core.native.sym.btx_torrent_force_reannounce(
          id,
          o.seconds ?? 0,
          o.trackerIndex ?? -1,
          o.ignoreMinInterval ? 1 : 0,
        ),
    );
  }

  /**
   * Asks the trackers (or the one at `trackerIndex`) for swarm counts.
   * Events `scrape_reply` (then `status().numComplete` / `numIncomplete`
   * hold the counts) or `scrape_failed`.
   * @throws TorrentError INVALID_ARGUMENT, TORRENT_REMOVED, SESSION_CLOSED
   */
  scrape(options: { trackerIndex?: number } = {}): void {
    const o = parse(ScrapeSchema, options, "scrape");
    this.#call("scrape", (id) => this.#core.native.sym.btx_torrent_scrape(id, o.trackerIndex ?? -1));
  }

  /**
   * Clears the torrent's error (`status().error`) so it can run again, and
   * leaves upload mode, which libtorrent enters on its own when a write to
   * disk fails (disk full, read-only, no permission: `status().uploadMode`)
   * — call it once the cause is fixed, then `resume()` if it was paused.
   * When a file was deleted or truncated underneath (a failed read of data
   * the torrent had: `file_error` with operation `file_read` / `file_open`,
   * after which TorrentXT pauses the torrent and `status().error` is set),
   * call `forceRecheck()` too, so the lost pieces are fetched again.
   */
  clearError(): void {
    this.#call("clearError", (id) => this.#core.native.sym.btx_torrent_clear_error(id));
    setDiskError(this, null);
    this.#call("clearError", (id) => this.#core.native.sym.btx_torrent_set_flags(id, 0, FLAG.uploadMode));
  }

  /**
   * Moves the torrent's files to directory `path`; works mid-download.
   * Resolves with the new save path when libtorrent is done.
   * @param path directory (created when missing)
   * @throws TorrentError INVALID_ARGUMENT; ENGINE when the move failed (the files stay where they were)
   */
  async moveStorage(path: string, options: { policy?: MovePolicy } = {}): Promise<string> {
    const p = parse(z.string().min(1), path, "moveStorage");
    const o = parse(MoveSchema, options, "moveStorage");
    const id = this.#live();
    const b = bytes(resolve(p));
    this.#core.check(
      this.#core.native.sym.btx_torrent_move_storage(id, b, b.length, MOVE_POLICY[o.policy ?? "replace"]),
      "moveStorage",
    );
    // Events are dispatched on a later turn of the event loop: waiting after the call misses nothing.
    const ev = await this.#core.waitFor<TorrentEvent & { type: "storage_moved" }>(
      (ev) => ev.type === "storage_moved" && ev.torrent === this,
      (ev) =>
        ev.type === "storage_moved_failed" && ev.torrent === this
          ? new TorrentError("ENGINE", `moving the files failed: ${ev.error}${ev.file ? ` (${ev.file})` : ""}`)
          : undefined,
      this,
    );
    return ev.path;
  }

  /**
   * Renames file `index` to `newName` (a path relative to the save path,
   * or absolute). Resolves with the new name when done.
   * @param index file index (pad files included), 0..files-1
   * @throws TorrentError INVALID_ARGUMENT, NO_METADATA; ENGINE when the rename failed
   */
  async renameFile(index: number, newName: string): Promise<string> {
    const i = parse(IndexSchema, index, "renameFile: index");
    const n = parse(z.string().min(1), newName, "renameFile: newName");
    const id = this.#live();
    const b = bytes(n);
    this.#core.check(this.#core.native.sym.btx_torrent_rename_file(id, i, b, b.length), "renameFile");
    const ev = await this.#core.waitFor<TorrentEvent & { type: "file_renamed" }>(
      (ev) => ev.type === "file_renamed" && ev.torrent === this && ev.file === i,
      (ev) =>
        ev.type === "file_rename_failed" && ev.torrent === this && ev.file === i
          ? new TorrentError("ENGINE", `renaming file ${i} failed: ${ev.error}`)
          : undefined,
      this,
    );
    return ev.newName;
  }

  /** The torrent's mode flags. */
  flags(): TorrentFlags {
    this.#call("flags", (id) => this.#core.native.sym.btx_torrent_flags(id, out32));
    return flagsOf(out32[0]);
  }

  /**
   * Sets (true) or clears (false) each flag given; the others stay.
   * @throws TorrentError INVALID_ARGUMENT (an unknown flag, or seedMode: true), TORRENT_REMOVED, SESSION_CLOSED
   */
  setFlags(flags: SettableFlags): void {
    const o = parse(SettableFlagsSchema, flags, "setFlags");
    const { set, clear } = flagMasks(o);
    this.#call("setFlags", (id) => this.#core.native.sym.btx_torrent_set_flags(id, set, set | clear));
  }

  /**
   * File `index`'s priority (0 = skip … 4 = default … 7 = top).
   * @throws TorrentError INVALID_ARGUMENT (index out of range), NO_METADATA
   */
  filePriority(index: number): Priority {
    const i = parse(IndexSchema, index, "filePriority");
    this.#call("filePriority", (id) => this.#core.native.sym.btx_torrent_file_priority(id, i, out32));
    return out32[0] as Priority;
  }

  /**
   * Sets file `index`'s priority; 0 means the file is not downloaded.
   * Resolves once libtorrent applied it (a round trip to its disk thread;
   * `filePriority()` reads the applied value) or a later call superseded it.
   * @throws TorrentError INVALID_ARGUMENT (index or priority out of range), NO_METADATA; ENGINE on a disk error
   */
  async setFilePriority(index: number, priority: Priority): Promise<void> {
    const i = parse(IndexSchema, index, "setFilePriority: index");
    const p = parse(PrioritySchema, priority, "setFilePriority: priority");
    const want = this.#prioPending > 0 && this.#prioWanted ? [...this.#prioWanted] : undefined;
    this.#call("setFilePriority", (id) => this.#core.native.sym.btx_torrent_set_file_priority(id, i, p));
    const base = want ?? this.#appliedPriorities();
    base[i] = p;
    await this.#prioritiesApplied(base);
  }

  /**
   * Every file's priority, by file index (pad files included).
   * @throws TorrentError NO_METADATA
   */
  filePriorities(): Priority[] {
    return this.#appliedPriorities() as Priority[];
  }

  /**
   * Sets every file's priority: one entry per file, in file-index order.
   * Resolves once libtorrent applied them (see `setFilePriority()`).
   * @throws TorrentError INVALID_ARGUMENT (wrong length, priority out of range), NO_METADATA; ENGINE on a disk error
   */
  async setFilePriorities(priorities: readonly Priority[]): Promise<void> {
    const p = parse(z.array(PrioritySchema), priorities, "setFilePriorities");
    const b = Uint8Array.from(p);
    this.#call("setFilePriorities", (id) => this.#core.native.sym.btx_torrent_set_file_priorities(id, b, b.length));
    await this.#prioritiesApplied([...p]);
  }

  // File priority changes complete on libtorrent's disk thread (event
  // file_prio). `#prioWanted` is what the calls so far add up to; every
  // pending call resolves when the applied priorities equal it.
  #prioWanted: number[] | undefined;
  #prioPending = 0;

  #appliedPriorities(): number[] {
    const id = this.#live();
    const sym = this.#core.native.sym;
    let rc = sym.btx_torrent_file_priorities(id, prioBuf, prioBuf.length, out32);
    if (rc === BTX_E_BUFFER_TOO_SMALL) {
      prioBuf = new Uint8Array(out32[0]);
      rc = sym.btx_torrent_file_priorities(id, prioBuf, prioBuf.length, out32);
    }
    this.#core.check(rc, "filePriorities");
    return Array.from(prioBuf.subarray(0, out32[0]));
  }

  async #prioritiesApplied(want: number[]): Promise<void> {
    this.#prioWanted = want;
    const done = () => {
      if (this.removed) return true;
      const now = this.#appliedPriorities();
      const w = this.#prioWanted!;
      return now.length === w.length && now.every((x, k) => x === w[k]);
    };
    if (done()) return;
    this.#prioPending++;
    try {
      await this.#core.waitFor(
        (ev) => ev.torrent === this && ev.type === "file_prio" && done(),
        (ev) =>
          ev.torrent !== this
            ? undefined
            : ev.type === "file_error"
            ? new TorrentError("ENGINE", `setting file priorities failed: ${ev.error}`)
            : ev.type === "torrent_removed"
            ? new TorrentError("TORRENT_REMOVED", "the torrent was removed")
            : undefined,
        this,
      );
    } finally {
      this.#prioPending--;
    }
  }

  /**
   * Piece `index`'s priority (0..7).
   * @throws TorrentError INVALID_ARGUMENT (index out of range), NO_METADATA
   */
  piecePriority(index: number): Priority {
    const i = parse(IndexSchema, index, "piecePriority");
    this.#call("piecePriority", (id) => this.#core.native.sym.btx_torrent_piece_priority(id, i, out32));
    return out32[0] as Priority;
  }

  /**
   * Sets piece `index`'s priority; 0 means the piece is not downloaded.
   * @throws TorrentError INVALID_ARGUMENT (index or priority out of range), NO_METADATA
   */
  setPiecePriority(index: number, priority: Priority): void {
    const i = parse(IndexSchema, index, "setPiecePriority: index");
    const p = parse(PrioritySchema, priority, "setPiecePriority: priority");
    this.#call("setPiecePriority", (id) => this.#core.native.sym.btx_torrent_set_piece_priority(id, i, p));
  }

  #limit(which: number): number {
    this.#call("limits", (id) => this.#core.native.sym.btx_torrent_limits(id, limitBuf));
    return limitBuf[which];
  }

  #setLimit(which: number, value: number, what: string): void {
    const v = parse(LimitSchema, value, what);
    this.#call(what, (id) => this.#core.native.sym.btx_torrent_set_limit(id, which, v));
  }

  /**
   * This torrent's upload rate cap, bytes/s; 0 = unlimited (the session's
   * caps still apply). Loopback and LAN peers are exempt unless the
   * session's `ignore_limits_on_local_network` setting is off.
   * @throws TorrentError INVALID_ARGUMENT when set to a negative or non-integer value
   */
  get uploadLimit(): number {
    return this.#limit(LIMIT.UPLOAD);
  }
  set uploadLimit(bytesPerSecond: number) {
    this.#setLimit(LIMIT.UPLOAD, bytesPerSecond, "uploadLimit");
  }

  /**
   * This torrent's download rate cap, bytes/s; 0 = unlimited. Same rules
   * as `uploadLimit`.
   * @throws TorrentError INVALID_ARGUMENT when set to a negative or non-integer value
   */
  get downloadLimit(): number {
    return this.#limit(LIMIT.DOWNLOAD);
  }
  set downloadLimit(bytesPerSecond: number) {
    this.#setLimit(LIMIT.DOWNLOAD, bytesPerSecond, "downloadLimit");
  }

  /**
   * Most peer connections this torrent opens; 0 = unlimited (libtorrent
   * raises 1 to 2).
   * @throws TorrentError INVALID_ARGUMENT when set out of range
   */
  get maxConnections(): number {
    return this.#limit(LIMIT.CONNECTIONS);
  }
  set maxConnections(count: number) {
    this.#setLimit(LIMIT.CONNECTIONS, count, "maxConnections");
  }

  /**
   * Most peers this torrent uploads to at once (unchoke slots); 0 = unlimited.
   * @throws TorrentError INVALID_ARGUMENT when set out of range
   */
  get maxUploads(): number {
    return this.#limit(LIMIT.UPLOADS);
  }
  set maxUploads(count: number) {
    this.#setLimit(LIMIT.UPLOADS, count, "maxUploads");
  }

  /**
   * Wants piece `piece` within `ms` milliseconds: it is requested first
   * (from several peers as the deadline nears). With `alertWhenAvailable`,
   * event `read_piece` (`piece`, `size`) follows once it is had.
   * @throws TorrentError INVALID_ARGUMENT (piece out of range, ms < 0), NO_METADATA
   */
  setPieceDeadline(piece: number, ms: number, options: { alertWhenAvailable?: boolean } = {}): void {
    const i = parse(IndexSchema, piece, "setPieceDeadline: piece");
    const d = parse(LimitSchema, ms, "setPieceDeadline: ms");
    const o = parse(DeadlineSchema, options, "setPieceDeadline");
    this.#call(
      "setPieceDeadline",
      (id) => this.#core.native.sym.btx_torrent_set_piece_deadline(id, i, d, o.alertWhenAvailable ? 1 : 0),
    );
  }

  /**
   * Drops piece `piece`'s deadline.
   * @throws TorrentError INVALID_ARGUMENT (piece out of range), NO_METADATA
   */
  resetPieceDeadline(piece: number): void {
    const i = parse(IndexSchema, piece, "resetPieceDeadline");
    this.#call("resetPieceDeadline", (id) => this.#core.native.sym.btx_torrent_reset_piece_deadline(id, i));
  }

  /** Drops every piece deadline of this torrent. */
  clearPieceDeadlines(): void {
    this.#call("clearPieceDeadlines", (id) => this.#core.native.sym.btx_torrent_clear_piece_deadlines(id));
  }

  /**
   * Position in the session's queue, 0 first; -1 when not queued (finished
   * or seeding). libtorrent's queue starts auto-managed torrents in this
   * order.
   */
  get queuePosition(): number {
    this.#call("queuePosition", (id) => this.#core.native.sym.btx_torrent_queue_position(id, queueBuf));
    return queueBuf[0];
  }

  /**
   * Moves the torrent to queue position `position` (0 = first; past the
   * end = last).
   * @throws TorrentError INVALID_ARGUMENT (negative), TORRENT_REMOVED, SESSION_CLOSED
   */
  setQueuePosition(position: number): void {
    const p = parse(IndexSchema, position, "setQueuePosition");
    this.#call("setQueuePosition", (id) => this.#core.native.sym.btx_torrent_queue(id, QUEUE.SET, p));
  }

  /** One place up the queue (towards 0). */
  queueUp(): void {
    this.#call("queueUp", (id) => this.#core.native.sym.btx_torrent_queue(id, QUEUE.UP, 0));
  }

  /** One place down the queue. */
  queueDown(): void {
    this.#call("queueDown", (id) => this.#core.native.sym.btx_torrent_queue(id, QUEUE.DOWN, 0));
  }

  /** To the head of the queue. */
  queueTop(): void {
    this.#call("queueTop", (id) => this.#core.native.sym.btx_torrent_queue(id, QUEUE.TOP, 0));
  }

  /** To the end of the queue. */
  queueBottom(): void {
    this.#call("queueBottom", (id) => this.#core.native.sym.btx_torrent_queue(id, QUEUE.BOTTOM, 0));
  }

  /** The torrent's trackers with their announce and scrape state. */
  trackers(): TrackerInfo[] {
    return decodeTrackers(
      this.#blob("trackers", (id, o) => this.#core.native.sym.btx_torrent_trackers(id, o, o.subarray(1))),
    );
  }

  /**
   * Adds a tracker (kept as is when the URL is already listed); it is
   * announced to at the next announce (see `forceReannounce()`).
   * @param url http://, https:// or udp:// announce URL
   * @throws TorrentError INVALID_ARGUMENT, TORRENT_REMOVED, SESSION_CLOSED
   */
  addTracker(url: string, options: { tier?: number } = {}): void {
    const u = parse(TrackerUrl, url, "addTracker");
    const o = parse(z.object({ tier: TierSchema.optional() }).strict(), options, "addTracker");
    const b = bytes(u);
    this.#call("addTracker", (id) => this.#core.native.sym.btx_torrent_add_tracker(id, b, b.length, o.tier ?? 0));
  }

  /**
   * Replaces the whole tracker list (an empty list removes every tracker).
   * @throws TorrentError INVALID_ARGUMENT, TORRENT_REMOVED, SESSION_CLOSED
   */
  replaceTrackers(trackers: readonly TrackerEntry[]): void {
    const list = parse(z.array(TrackerEntrySchema), trackers, "replaceTrackers");
    const b = bencode({ trackers: list.map((t) => ({ url: t.url, tier: t.tier ?? 0 })) });
    this.#call("replaceTrackers", (id) => this.#core.native.sym.btx_torrent_replace_trackers(id, b, b.length));
  }

  /** The torrent's web seeds (BEP 19 URLs). */
  webSeeds(): string[] {
    const list = this.#blob("webSeeds", (id, o) => this.#core.native.sym.btx_torrent_web_seeds(id, o, o.subarray(1)));
    return (list as Uint8Array[]).map((u) => utf8(u, 0, u.length));
  }

  /**
   * Adds a web seed: an HTTP server holding the torrent's files (BEP 19).
   * @throws TorrentError INVALID_ARGUMENT, TORRENT_REMOVED, SESSION_CLOSED
   */
  addWebSeed(url: string): void {
    const b = bytes(parse(WebSeedUrl, url, "addWebSeed"));
    this.#call("addWebSeed", (id) => this.#core.native.sym.btx_torrent_add_web_seed(id, b, b.length));
  }

  /**
   * Removes a web seed (no-op when not listed); its connection is closed.
   * @throws TorrentError INVALID_ARGUMENT, TORRENT_REMOVED, SESSION_CLOSED
   */
  removeWebSeed(url: string): void {
    const b = bytes(parse(WebSeedUrl, url, "removeWebSeed"));
    this.#call("removeWebSeed", (id) => this.#core.native.sym.btx_torrent_remove_web_seed(id, b, b.length));
  }

  /** True when something worth saving changed since resume data was last saved (or since added). */
  needSaveResumeData(): boolean {
    this.#call("needSaveResumeData", (id) => this.#core.native.sym.btx_torrent_need_save_resume(id, out32));
    return out32[0] === 1;
  }

  /**
   * Writes every piece received so far to disk and closes the torrent's
   * files; resolves when done. libtorrent may post `torrent_finished`
   * before its last writes reach the files: flush before reading them.
   * @throws TorrentError NO_METADATA, TORRENT_REMOVED, SESSION_CLOSED
   */
  async flushCache(): Promise<void> {
    const id = this.#live();
    // Events are dispatched on a later turn of the event loop, so waiting
    // after the (synchronous) call misses nothing.
    this.#core.check(this.#core.native.sym.btx_torrent_flush_cache(id), "flushCache");
    await this.#core.waitFor((ev) => ev.type === "cache_flushed" && ev.torrent === this, undefined, this);
  }

  /** Runs a blob-returning shim call and decodes the blob. */
  #blob(what: string, fn: (id: number, out: Uint32Array) => number): BDecoded {
    const out = new Uint32Array(2);
    this.#call(what, (id) => fn(id, out));
    return bdecode(takeBlob(this.#core.native.sym, out[0], out[1]));
  }
}
