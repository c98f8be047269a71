/**
 * A torrent in a session: control and inspection.
 *
 * @module
 */
import type { SessionCore } from "./_core.ts";
import { bytes, hex, out32, utf8 } from "./_native.ts";
import { TorrentError } from "./errors.ts";
import { type EventFilter, type EventStream, stateName, type TorrentEvent, type TorrentState } from "./events.ts";
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
}

// Field indices of the native status record (btx.h, BTX_ST_*).
const ST = {
  STATE: 0,
  PROGRESS: 1,
  DOWNLOAD_RATE: 2,
  UPLOAD_RATE: 3,
  NUM_PEERS: 4,
  NUM_SEEDS: 5,
  TOTAL_DONE: 6,
  TOTAL_WANTED: 7,
  TOTAL_WANTED_DONE: 8,
  TOTAL_SIZE: 9,
  TOTAL_DOWNLOAD: 10,
  TOTAL_UPLOAD: 11,
  ALL_TIME_DOWNLOAD: 12,
  ALL_TIME_UPLOAD: 13,
  FLAGS: 14,
  HAS_METADATA: 15,
  IS_SEEDING: 16,
  IS_FINISHED: 17,
  NUM_PIECES: 18,
  PIECE_COUNT: 19,
  PIECE_SIZE: 20,
  QUEUE_POSITION: 21,
  NUM_CONNECTIONS: 22,
  LIST_PEERS: 23,
  LIST_SEEDS: 24,
  NUM_COMPLETE: 25,
  NUM_INCOMPLETE: 26,
  DISTRIBUTED_COPIES: 27,
  ADDED_TIME: 28,
  COMPLETED_TIME: 29,
  ACTIVE_SECONDS: 30,
  SEEDING_SECONDS: 31,
  ERROR_CODE: 32,
  ERROR_FILE: 33,
  NAME_LEN: 34,
  SAVE_PATH_LEN: 35,
  ERROR_LEN: 36,
  COUNT: 37,
} as const;

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
    const n = statusNums;
    this.#core.check(this.#core.native.sym.btx_torrent_status(id, n, statusStrs, statusStrs.length), "status");
    const nameLen = n[ST.NAME_LEN], pathLen = n[ST.SAVE_PATH_LEN], errLen = n[ST.ERROR_LEN];
    const flags = n[ST.FLAGS];
    const remaining = n[ST.TOTAL_WANTED] - n[ST.TOTAL_WANTED_DONE];
    const rate = n[ST.DOWNLOAD_RATE];
    return {
      name: utf8(statusStrs, 0, nameLen),
      savePath: utf8(statusStrs, nameLen, pathLen),
      state: stateName(n[ST.STATE]),
      progress: n[ST.PROGRESS],
      downloadRate: rate,
      uploadRate: n[ST.UPLOAD_RATE],
      numPeers: n[ST.NUM_PEERS],
      numSeeds: n[ST.NUM_SEEDS],
      eta: n[ST.IS_FINISHED] ? 0 : rate > 0 && n[ST.HAS_METADATA] ? Math.ceil(remaining / rate) : null,
      totalDone: n[ST.TOTAL_DONE],
      totalWanted: n[ST.TOTAL_WANTED],
      totalWantedDone: n[ST.TOTAL_WANTED_DONE],
      totalSize: n[ST.TOTAL_SIZE],
      totalDownload: n[ST.TOTAL_DOWNLOAD],
      totalUpload: n[ST.TOTAL_UPLOAD],
      allTimeDownload: n[ST.ALL_TIME_DOWNLOAD],
      allTimeUpload: n[ST.ALL_TIME_UPLOAD],
      paused: (flags & FLAG.paused) !== 0,
      autoManaged: (flags & FLAG.autoManaged) !== 0,
      sequential: (flags & FLAG.sequential) !== 0,
      hasMetadata: n[ST.HAS_METADATA] !== 0,
      isSeeding: n[ST.IS_SEEDING] !== 0,
      isFinished: n[ST.IS_FINISHED] !== 0,
      numPieces: n[ST.NUM_PIECES],
      pieceCount: n[ST.PIECE_COUNT],
      pieceSize: n[ST.PIECE_SIZE],
      queuePosition: n[ST.QUEUE_POSITION],
      numConnections: n[ST.NUM_CONNECTIONS],
      listPeers: n[ST.LIST_PEERS],
      listSeeds: n[ST.LIST_SEEDS],
      numComplete: n[ST.NUM_COMPLETE],
      numIncomplete: n[ST.NUM_INCOMPLETE],
      distributedCopies: n[ST.DISTRIBUTED_COPIES],
      addedTime: n[ST.ADDED_TIME],
      completedTime: n[ST.COMPLETED_TIME],
      activeSeconds: n[ST.ACTIVE_SECONDS],
      seedingSeconds: n[ST.SEEDING_SECONDS],
      error: n[ST.ERROR_CODE] !== 0 || errLen > 0
        ? { code: n[ST.ERROR_CODE], message: utf8(statusStrs, nameLen + pathLen, errLen), file: n[ST.ERROR_FILE] }
        : null,
    };
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
}
