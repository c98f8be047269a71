/**
 * A torrent in a session: control and inspection.
 *
 * @module
 */
import type { SessionCore } from "./_core.ts";
import { bytes, hex, out32 } from "./_native.ts";
import { TorrentError } from "./errors.ts";
import type { EventFilter, EventStream, TorrentEvent, TorrentState } from "./events.ts";
import { decodeStatus, ST } from "./_status.ts";
import { RecordBuffers } from "./_records.ts";
import { decodeFiles, decodePeers, type FileEntry, type PeerInfo, PieceSet } from "./inspect.ts";
import { z } from "zod";
import { parse } from "./_validate.ts";

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

/** libtorrent torrent_flags bits (torrent_flags.hpp). @internal */
export const FLAG = {
  seedMode: 1 << 0,
  uploadMode: 1 << 1,
  shareMode: 1 << 2,
  applyIpFilter: 1 << 3,
  paused: 1 << 4,
  autoManaged: 1 << 5,
  superSeeding: 1 << 8,
  sequential: 1 << 9,
} as const;

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

  /** @internal Made by Session.add(). */
  constructor(core: SessionCore, id: number) {
    this.#core = core;
    this.#id = id;
    this.#readInfoHash();
  }

  /** True after `remove()` (or after its session closed). */
  get removed(): boolean {
    return this.#removed || this.#core.closed;
  }

  /** The info-hashes (hex). A v2 hash may appear once metadata arrives. */
  get infoHash(): InfoHash {
    if (!this.removed && !(this.#infoHash.v1 && this.#infoHash.v2)) this.#readInfoHash();
    return { ...this.#infoHash };
  }

  #readInfoHash(): void {
    const rc = this.#core.native.sym.btx_torrent_info_hash(this.#id, infoHashBuf, out32);
    if (rc !== 0) return;
    const flags = out32[0];
    this.#infoHash = {
      v1: flags & 1 ? hex(infoHashBuf.subarray(0, 20)) : undefined,
      v2: flags & 2 ? hex(infoHashBuf.subarray(20, 52)) : undefined,
    };
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
    return decodeStatus(statusNums, 0, statusStrs, 0);
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
    );
    this.#core.check(this.#core.native.sym.btx_torrent_save_resume(id), "saveResumeData");
    const ev = await done;
    return ev.resumeData;
  }

  /** Events about this torrent (see `session.events()`). */
  events(filter?: EventFilter): EventStream {
    const mine = (ev: TorrentEvent) => (ev as { torrent?: Torrent }).torrent === this;
    if (!filter) return this.#core.hub.subscribe(mine);
    if (typeof filter === "function") return this.#core.hub.subscribe((ev) => mine(ev) && filter(ev));
    return this.#core.hub.subscribe({ ...filter, torrent: this });
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
}
