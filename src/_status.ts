// The status record (btx.h BTX_ST_* and BTX_STX_*) → TorrentStatus, shared
// by Torrent.status() and Session.statusAll(). Internal.
import { utf8 } from "./_native.ts";
import { stateName } from "./events.ts";
import type { Torrent, TorrentStatus } from "./torrent.ts";
import { diskErrorOf } from "./_disk_error.ts";
import type { TorrentState } from "./events.ts";

/** Field indices of the extended status record (btx.h BTX_ST_*, then BTX_STX_*). */
export const ST = {
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
  // BTX_STATUS_NUM_FIELDS = 37; the extended fields follow.
  NEXT_ANNOUNCE: 37,
  TOTAL_DOWNLOAD_ALL: 38,
  TOTAL_UPLOAD_ALL: 39,
  DOWNLOAD_RATE_ALL: 40,
  UPLOAD_RATE_ALL: 41,
  TOTAL_FAILED_BYTES: 42,
  TOTAL_REDUNDANT_BYTES: 43,
  LAST_SEEN_COMPLETE: 44,
  NUM_UPLOADS: 45,
  UPLOADS_LIMIT: 46,
  CONNECTIONS_LIMIT: 47,
  CONNECT_CANDIDATES: 48,
  SEED_RANK: 49,
  MOVING_STORAGE: 50,
  ANNOUNCING_TO_TRACKERS: 51,
  ANNOUNCING_TO_LSD: 52,
  ANNOUNCING_TO_DHT: 53,
  HAS_INCOMING: 54,
  NEED_SAVE_RESUME: 55,
  STORAGE_MODE: 56,
  SINCE_UPLOAD: 57,
  SINCE_DOWNLOAD: 58,
  FINISHED_SECONDS: 59,
  BLOCK_SIZE: 60,
  PROGRESS_PPM: 61,
  UP_BANDWIDTH_QUEUE: 62,
  DOWN_BANDWIDTH_QUEUE: 63,
  TRACKER_LEN: 64,
  TORRENT: 65,
  STR_OFF: 66,
  COUNT: 67,
} as const;

// libtorrent torrent_flags bits read here (torrent_flags.hpp).
const UPLOAD_MODE = 1 << 1, PAUSED = 1 << 4, AUTO_MANAGED = 1 << 5, SEQUENTIAL = 1 << 9;

type Decode = (buf: Uint8Array, off: number, len: number) => string;

/**
 * A one-entry cache of decoded text: status() of the same torrent (or of
 * torrents sharing a save path) decodes the same bytes again and again;
 * comparing them is cheaper than decoding.
 */
class TextCache {
  #bytes = new Uint8Array(512);
  #len = -1;
  #text = "";
  decode = (buf: Uint8Array, off: number, len: number): string => {
    if (len === 0) return "";
    const b = this.#bytes;
    if (len === this.#len) {
      let i = 0;
      while (i < len && buf[off + i] === b[i]) i++;
      if (i === len) return this.#text;
    }
    const text = utf8(buf, off, len);
    if (len <= b.length) {
      b.set(buf.subarray(off, off + len));
      this.#len = len;
      this.#text = text;
    }
    return text;
  };
}
const nameCache = new TextCache(), pathCache = new TextCache(), trackerCache = new TextCache();

/**
 * Builds a TorrentStatus from the record at `n[base…]` whose strings start
 * at `s[soff]`. `savePath` decodes the save path (a cache in bulk reads).
 */
export function decodeStatus(
  n: Float64Array,
  base: number,
  s: Uint8Array,
  soff: number,
  savePath: Decode = pathCache.decode,
): TorrentStatus {
  const nameLen = n[base + ST.NAME_LEN], pathLen = n[base + ST.SAVE_PATH_LEN], errLen = n[base + ST.ERROR_LEN];
  const flags = n[base + ST.FLAGS];
  const rate = n[base + ST.DOWNLOAD_RATE];
  const finished = n[base + ST.IS_FINISHED] !== 0;
  const remaining = n[base + ST.TOTAL_WANTED] - n[base + ST.TOTAL_WANTED_DONE];
  const errCode = n[base + ST.ERROR_CODE];
  const sinceUp = n[base + ST.SINCE_UPLOAD], sinceDown = n[base + ST.SINCE_DOWNLOAD];
  const trackerOff = soff + nameLen + pathLen + errLen;
  return {
    name: nameCache.decode(s, soff, nameLen),
    savePath: savePath(s, soff + nameLen, pathLen),
    state: stateName(n[base + ST.STATE]),
    progress: n[base + ST.PROGRESS],
    downloadRate: rate,
    uploadRate: n[base + ST.UPLOAD_RATE],
    numPeers: n[base + ST.NUM_PEERS],
    numSeeds: n[base + ST.NUM_SEEDS],
    eta: finished ? 0 : rate > 0 && n[base + ST.HAS_METADATA] ? Math.ceil(remaining / rate) : null,
    totalDone: n[base + ST.TOTAL_DONE],
    totalWanted: n[base + ST.TOTAL_WANTED],
    totalWantedDone: n[base + ST.TOTAL_WANTED_DONE],
    totalSize: n[base + ST.TOTAL_SIZE],
    totalDownload: n[base + ST.TOTAL_DOWNLOAD],
    totalUpload: n[base + ST.TOTAL_UPLOAD],
    allTimeDownload: n[base + ST.ALL_TIME_DOWNLOAD],
    allTimeUpload: n[base + ST.ALL_TIME_UPLOAD],
    paused: (flags & PAUSED) !== 0,
    autoManaged: (flags & AUTO_MANAGED) !== 0,
    sequential: (flags & SEQUENTIAL) !== 0,
    uploadMode: (flags & UPLOAD_MODE) !== 0,
    hasMetadata: n[base + ST.HAS_METADATA] !== 0,
    isSeeding: n[base + ST.IS_SEEDING] !== 0,
    isFinished: finished,
    numPieces: n[base + ST.NUM_PIECES],
    pieceCount: n[base + ST.PIECE_COUNT],
    pieceSize: n[base + ST.PIECE_SIZE],
    queuePosition: n[base + ST.QUEUE_POSITION],
    numConnections: n[base + ST.NUM_CONNECTIONS],
    listPeers: n[base + ST.LIST_PEERS],
    listSeeds: n[base + ST.LIST_SEEDS],
    numComplete: n[base + ST.NUM_COMPLETE],
    numIncomplete: n[base + ST.NUM_INCOMPLETE],
    distributedCopies: n[base + ST.DISTRIBUTED_COPIES],
    addedTime: n[base + ST.ADDED_TIME],
    completedTime: n[base + ST.COMPLETED_TIME],
    activeSeconds: n[base + ST.ACTIVE_SECONDS],
    seedingSeconds: n[base + ST.SEEDING_SECONDS],
    error: errCode !== 0 || errLen > 0
      ? { code: errCode, message: utf8(s, soff + nameLen + pathLen, errLen), file: n[base + ST.ERROR_FILE] }
      : null,
    nextAnnounce: n[base + ST.NEXT_ANNOUNCE],
    totalReceived: n[base + ST.TOTAL_DOWNLOAD_ALL],
    totalSent: n[base + ST.TOTAL_UPLOAD_ALL],
    receiveRate: n[base + ST.DOWNLOAD_RATE_ALL],
    sendRate: n[base + ST.UPLOAD_RATE_ALL],
    totalFailedBytes: n[base + ST.TOTAL_FAILED_BYTES],
    totalRedundantBytes: n[base + ST.TOTAL_REDUNDANT_BYTES],
    lastSeenComplete: n[base + ST.LAST_SEEN_COMPLETE],
    numUploads: n[base + ST.NUM_UPLOADS],
    uploadsLimit: n[base + ST.UPLOADS_LIMIT],
    connectionsLimit: n[base + ST.CONNECTIONS_LIMIT],
    connectCandidates: n[base + ST.CONNECT_CANDIDATES],
    seedRank: n[base + ST.SEED_RANK],
    movingStorage: n[base + ST.MOVING_STORAGE] !== 0,
    announcingToTrackers: n[base + ST.ANNOUNCING_TO_TRACKERS] !== 0,
    announcingToLsd: n[base + ST.ANNOUNCING_TO_LSD] !== 0,
    announcingToDht: n[base + ST.ANNOUNCING_TO_DHT] !== 0,
    hasIncoming: n[base + ST.HAS_INCOMING] !== 0,
    needSaveResume: n[base + ST.NEED_SAVE_RESUME] !== 0,
    storageMode: n[base + ST.STORAGE_MODE] === 0 ? "allocate" : "sparse",
    secondsSinceUpload: sinceUp < 0 ? null : sinceUp,
    secondsSinceDownload: sinceDown < 0 ? null : sinceDown,
    finishedSeconds: n[base + ST.FINISHED_SECONDS],
    blockSize: n[base + ST.BLOCK_SIZE],
    progressPpm: n[base + ST.PROGRESS_PPM],
    upBandwidthQueue: n[base + ST.UP_BANDWIDTH_QUEUE],
    downBandwidthQueue: n[base + ST.DOWN_BANDWIDTH_QUEUE],
    currentTracker: trackerCache.decode(s, trackerOff, n[base + ST.TRACKER_LEN]),
  };
}

/** String bytes of the record at `n[base…]`. */
export function statusStringBytes(n: Float64Array, base: number): number {
  return n[base + ST.NAME_LEN] + n[base + ST.SAVE_PATH_LEN] + n[base + ST.ERROR_LEN] + n[base + ST.TRACKER_LEN];
}

/** The buffers of one bulk poll, shared by its records. @internal */
export class Snapshot {
  readonly nums: Float64Array;
  readonly strs: Uint8Array;
  constructor(nums: Float64Array, strs: Uint8Array) {
    this.nums = nums;
    this.strs = strs;
  }
}

const BUFFER_TOO_SMALL = 8;
const POOL_SIZE = 3;

/** A pooled pair of buffers and what the shim last wrote into them. */
interface PoolEntry {
  nums: Float64Array;
  strs: Uint8Array;
  /** The shim's tag of their content (btx_session_status_poll io[0]); 0 unknown. */
  tag: number;
  ref: WeakRef<Snapshot> | undefined;
}

/**
 * Buffers for bulk polls. A poll's records keep its Snapshot; a buffer is
 * written again only once that Snapshot is unreachable (WeakRef), so a
 * record never changes under its reader. Reusing memory matters twice:
 * writing megabytes into fresh pages costs more (page faults) than the
 * engine's own work, and the shim writes into a reused buffer only the
 * records that changed since it last wrote that buffer (its tag). When
 * every pooled buffer is still referenced, a poll gets fresh, unpooled
 * buffers. @internal
 */
export class SnapshotPool {
  #entries: PoolEntry[] = [];
  #numsHint = ST.COUNT * 64;
  #strsHint = 16384;

  /**
   * Runs `call` (btx_session_status_poll) into free buffers, growing them
   * while the shim says they are too small; returns its status and the
   * snapshot. `io` is the call's 8-word in/out array.
   */
  poll(
    call: (nums: Float64Array, numsCap: number, strs: Uint8Array, strsCap: number, io: Uint32Array) => number,
    io: Uint32Array,
  ): { rc: number; snap: Snapshot } {
    let e: PoolEntry | undefined;
    for (const x of this.#entries) {
      if (x.ref === undefined || x.ref.deref() === undefined) {
        e = x;
        break;
      }
    }
    if (!e && this.#entries.length < POOL_SIZE) {
      e = { nums: new Float64Array(this.#numsHint), strs: new Uint8Array(this.#strsHint), tag: 0, ref: undefined };
      this.#entries.push(e);
    }
    let nums = e?.nums ?? new Float64Array(this.#numsHint), strs = e?.strs ?? new Uint8Array(this.#strsHint);
    io[0] = e?.tag ?? 0;
    let rc = call(nums, nums.length, strs, strs.length, io);
    for (let attempt = 0; rc === BUFFER_TOO_SMALL && attempt < 8; attempt++) {
      // Headroom so that a few more torrents do not cost a second engine call.
      if (io[2] > nums.length) nums = new Float64Array(Math.ceil(io[2] * 1.1) + ST.COUNT * 16);
      if (io[3] > strs.length) {
        const grown = new Uint8Array(Math.ceil(io[3] * 1.1) + 4096);
        strs = grown;
      }
      io[0] = 0; // new buffers: everything is written
      rc = call(nums, nums.length, strs, strs.length, io);
    }
    const grew = nums.length > this.#numsHint || strs.length > this.#strsHint;
    this.#numsHint = Math.max(this.#numsHint, nums.length);
    this.#strsHint = Math.max(this.#strsHint, strs.length);
    const snap = new Snapshot(nums, strs);
    if (e) {
      e.nums = nums;
      e.strs = strs;
      e.tag = rc === 0 ? io[4] : 0;
      e.ref = new WeakRef(snap);
      if (grew && rc === 0) this.#warm(e);
    }
    return { rc, snap };
  }

  /**
   * After the buffers grew (many torrents added): the whole pool at the new
   * size at once, each a copy of what was just written (same tag), so the
   * polls that follow write only what changed into warm memory instead of
   * faulting in fresh pages one poll at a time, whenever a garbage
   * collector keeps an earlier snapshot a little longer.
   */
  #warm(src: PoolEntry): void {
    while (this.#entries.length < POOL_SIZE) {
      this.#entries.push({ nums: new Float64Array(0), strs: new Uint8Array(0), tag: 0, ref: undefined });
    }
    for (const x of this.#entries) {
      if (x === src || (x.ref !== undefined && x.ref.deref() !== undefined)) continue;
      if (x.nums.length !== src.nums.length) x.nums = new Float64Array(src.nums.length);
      if (x.strs.length !== src.strs.length) x.strs = new Uint8Array(src.strs.length);
      x.nums.set(src.nums);
      x.strs.set(src.strs);
      x.tag = src.tag;
      x.ref = undefined;
    }
  }
}

/**
 * One torrent's status in a {@link Session.statusAll} result: the fields of
 * {@link TorrentStatus}, read on access from the poll's snapshot (buffers
 * written by one native call, kept by the poll's records), plus `torrent`.
 * Values never change after the poll. Being getters, the fields are not own
 * properties: use `toObject()` (or JSON.stringify, which calls `toJSON()`)
 * for a plain object.
 */
export class StatusRecord implements TorrentStatus {
  /** The torrent this status is about. */
  readonly torrent: Torrent;
  readonly #snap: Snapshot;
  readonly #b: number;

  /** @internal */
  constructor(torrent: Torrent, snap: Snapshot, base: number) {
    this.torrent = torrent;
    this.#snap = snap;
    this.#b = base;
  }

  get #so(): number {
    return this.#snap.nums[this.#b + ST.STR_OFF];
  }

  get #n(): Float64Array {
    return this.#snap.nums;
  }

  get #s(): Uint8Array {
    return this.#snap.strs;
  }

  // String k of the record: 0 name, 1 save path, 2 error, 3 tracker.
  #str(k: number): string {
    const n = this.#n, b = this.#b;
    let off = n[b + ST.STR_OFF];
    if (k > 0) off += n[b + ST.NAME_LEN];
    if (k > 1) off += n[b + ST.SAVE_PATH_LEN];
    if (k > 2) off += n[b + ST.ERROR_LEN];
    const len = n[b + (k === 0 ? ST.NAME_LEN : k === 1 ? ST.SAVE_PATH_LEN : k === 2 ? ST.ERROR_LEN : ST.TRACKER_LEN)];
    return len === 0 ? "" : utf8(this.#s, off, len);
  }

  /** See {@link TorrentStatus}. */
  get name(): string {
    return this.#str(0);
  }
  /** See {@link TorrentStatus}. */
  get savePath(): string {
    return this.#str(1);
  }
  /** See {@link TorrentStatus}. */
  get state(): TorrentState {
    return stateName(this.#n[this.#b + ST.STATE]);
  }
  /** See {@link TorrentStatus}. */
  get progress(): number {
    return this.#n[this.#b + ST.PROGRESS];
  }
  /** See {@link TorrentStatus}. */
  get downloadRate(): number {
    return this.#n[this.#b + ST.DOWNLOAD_RATE];
  }
  /** See {@link TorrentStatus}. */
  get uploadRate(): number {
    return this.#n[this.#b + ST.UPLOAD_RATE];
  }
  /** See {@link TorrentStatus}. */
  get numPeers(): number {
    return this.#n[this.#b + ST.NUM_PEERS];
  }
  /** See {@link TorrentStatus}. */
  get numSeeds(): number {
    return this.#n[this.#b + ST.NUM_SEEDS];
  }
  /** See {@link TorrentStatus}. */
  get eta(): number | null {
    return etaOf(this.#n, this.#b);
  }
  /** See {@link TorrentStatus}. */
  get totalDone(): number {
    return this.#n[this.#b + ST.TOTAL_DONE];
  }
  /** See {@link TorrentStatus}. */
  get totalWanted(): number {
    return this.#n[this.#b + ST.TOTAL_WANTED];
  }
  /** See {@link TorrentStatus}. */
  get totalWantedDone(): number {
    return this.#n[this.#b + ST.TOTAL_WANTED_DONE];
  }
  /** See {@link TorrentStatus}. */
  get totalSize(): number {
    return this.#n[this.#b + ST.TOTAL_SIZE];
  }
  /** See {@link TorrentStatus}. */
  get totalDownload(): number {
    return this.#n[this.#b + ST.TOTAL_DOWNLOAD];
  }
  /** See {@link TorrentStatus}. */
  get totalUpload(): number {
    return this.#n[this.#b + ST.TOTAL_UPLOAD];
  }
  /** See {@link TorrentStatus}. */
  get allTimeDownload(): number {
    return this.#n[this.#b + ST.ALL_TIME_DOWNLOAD];
  }
  /** See {@link TorrentStatus}. */
  get allTimeUpload(): number {
    return this.#n[this.#b + ST.ALL_TIME_UPLOAD];
  }
  /** See {@link TorrentStatus}. */
  get paused(): boolean {
    return (this.#n[this.#b + ST.FLAGS] & PAUSED) !== 0;
  }
  /** See {@link TorrentStatus}. */
  get autoManaged(): boolean {
    return (this.#n[this.#b + ST.FLAGS] & AUTO_MANAGED) !== 0;
  }
  /** See {@link TorrentStatus}. */
  get sequential(): boolean {
    return (this.#n[this.#b + ST.FLAGS] & SEQUENTIAL) !== 0;
  }
  /** See {@link TorrentStatus}. */
  get uploadMode(): boolean {
    return (this.#n[this.#b + ST.FLAGS] & UPLOAD_MODE) !== 0;
  }
  /** See {@link TorrentStatus}. */
  get hasMetadata(): boolean {
    return this.#n[this.#b + ST.HAS_METADATA] !== 0;
  }
  /** See {@link TorrentStatus}. */
  get isSeeding(): boolean {
    return this.#n[this.#b + ST.IS_SEEDING] !== 0;
  }
  /** See {@link TorrentStatus}. */
  get isFinished(): boolean {
    return this.#n[this.#b + ST.IS_FINISHED] !== 0;
  }
  /** See {@link TorrentStatus}. */
  get numPieces(): number {
    return this.#n[this.#b + ST.NUM_PIECES];
  }
  /** See {@link TorrentStatus}. */
  get pieceCount(): number {
    return this.#n[this.#b + ST.PIECE_COUNT];
  }
  /** See {@link TorrentStatus}. */
  get pieceSize(): number {
    return this.#n[this.#b + ST.PIECE_SIZE];
  }
  /** See {@link TorrentStatus}. */
  get queuePosition(): number {
    return this.#n[this.#b + ST.QUEUE_POSITION];
  }
  /** See {@link TorrentStatus}. */
  get numConnections(): number {
    return this.#n[this.#b + ST.NUM_CONNECTIONS];
  }
  /** See {@link TorrentStatus}. */
  get listPeers(): number {
    return this.#n[this.#b + ST.LIST_PEERS];
  }
  /** See {@link TorrentStatus}. */
  get listSeeds(): number {
    return this.#n[this.#b + ST.LIST_SEEDS];
  }
  /** See {@link TorrentStatus}. */
  get numComplete(): number {
    return this.#n[this.#b + ST.NUM_COMPLETE];
  }
  /** See {@link TorrentStatus}. */
  get numIncomplete(): number {
    return this.#n[this.#b + ST.NUM_INCOMPLETE];
  }
  /** See {@link TorrentStatus}. */
  get distributedCopies(): number {
    return this.#n[this.#b + ST.DISTRIBUTED_COPIES];
  }
  /** See {@link TorrentStatus}. */
  get addedTime(): number {
    return this.#n[this.#b + ST.ADDED_TIME];
  }
  /** See {@link TorrentStatus}. */
  get completedTime(): number {
    return this.#n[this.#b + ST.COMPLETED_TIME];
  }
  /** See {@link TorrentStatus}. */
  get activeSeconds(): number {
    return this.#n[this.#b + ST.ACTIVE_SECONDS];
  }
  /** See {@link TorrentStatus}. */
  get seedingSeconds(): number {
    return this.#n[this.#b + ST.SEEDING_SECONDS];
  }
  /** See {@link TorrentStatus}. */
  get error(): TorrentStatus["error"] {
    return errorOf(this.#n, this.#b, this.#s, this.#so) ?? diskErrorOf(this.torrent);
  }
  /** See {@link TorrentStatus}. */
  get nextAnnounce(): number {
    return this.#n[this.#b + ST.NEXT_ANNOUNCE];
  }
  /** See {@link TorrentStatus}. */
  get totalReceived(): number {
    return this.#n[this.#b + ST.TOTAL_DOWNLOAD_ALL];
  }
  /** See {@link TorrentStatus}. */
  get totalSent(): number {
    return this.#n[this.#b + ST.TOTAL_UPLOAD_ALL];
  }
  /** See {@link TorrentStatus}. */
  get receiveRate(): number {
    return this.#n[this.#b + ST.DOWNLOAD_RATE_ALL];
  }
  /** See {@link TorrentStatus}. */
  get sendRate(): number {
    return this.#n[this.#b + ST.UPLOAD_RATE_ALL];
  }
  /** See {@link TorrentStatus}. */
  get totalFailedBytes(): number {
    return this.#n[this.#b + ST.TOTAL_FAILED_BYTES];
  }
  /** See {@link TorrentStatus}. */
  get totalRedundantBytes(): number {
    return this.#n[this.#b + ST.TOTAL_REDUNDANT_BYTES];
  }
  /** See {@link TorrentStatus}. */
  get lastSeenComplete(): number {
    return this.#n[this.#b + ST.LAST_SEEN_COMPLETE];
  }
  /** See {@link TorrentStatus}. */
  get numUploads(): number {
    return this.#n[this.#b + ST.NUM_UPLOADS];
  }
  /** See {@link TorrentStatus}. */
  get uploadsLimit(): number {
    return this.#n[this.#b + ST.UPLOADS_LIMIT];
  }
  /** See {@link TorrentStatus}. */
  get connectionsLimit(): number {
    return this.#n[this.#b + ST.CONNECTIONS_LIMIT];
  }
  /** See {@link TorrentStatus}. */
  get connectCandidates(): number {
    return this.#n[this.#b + ST.CONNECT_CANDIDATES];
  }
  /** See {@link TorrentStatus}. */
  get seedRank(): number {
    return this.#n[this.#b + ST.SEED_RANK];
  }
  /** See {@link TorrentStatus}. */
  get movingStorage(): boolean {
    return this.#n[this.#b + ST.MOVING_STORAGE] !== 0;
  }
  /** See {@link TorrentStatus}. */
  get announcingToTrackers(): boolean {
    return this.#n[this.#b + ST.ANNOUNCING_TO_TRACKERS] !== 0;
  }
  /** See {@link TorrentStatus}. */
  get announcingToLsd(): boolean {
    return this.#n[this.#b + ST.ANNOUNCING_TO_LSD] !== 0;
  }
  /** See {@link TorrentStatus}. */
  get announcingToDht(): boolean {
    return this.#n[this.#b + ST.ANNOUNCING_TO_DHT] !== 0;
  }
  /** See {@link TorrentStatus}. */
  get hasIncoming(): boolean {
    return this.#n[this.#b + ST.HAS_INCOMING] !== 0;
  }
  /** See {@link TorrentStatus}. */
  get needSaveResume(): boolean {
    return this.#n[this.#b + ST.NEED_SAVE_RESUME] !== 0;
  }
  /** See {@link TorrentStatus}. */
  get storageMode(): "allocate" | "sparse" {
    return this.#n[this.#b + ST.STORAGE_MODE] === 0 ? "allocate" : "sparse";
  }
  /** See {@link TorrentStatus}. */
  get secondsSinceUpload(): number | null {
    return orNull(this.#n[this.#b + ST.SINCE_UPLOAD]);
  }
  /** See {@link TorrentStatus}. */
  get secondsSinceDownload(): number | null {
    return orNull(this.#n[this.#b + ST.SINCE_DOWNLOAD]);
  }
  /** See {@link TorrentStatus}. */
  get finishedSeconds(): number {
    return this.#n[this.#b + ST.FINISHED_SECONDS];
  }
  /** See {@link TorrentStatus}. */
  get blockSize(): number {
    return this.#n[this.#b + ST.BLOCK_SIZE];
  }
  /** See {@link TorrentStatus}. */
  get progressPpm(): number {
    return this.#n[this.#b + ST.PROGRESS_PPM];
  }
  /** See {@link TorrentStatus}. */
  get upBandwidthQueue(): number {
    return this.#n[this.#b + ST.UP_BANDWIDTH_QUEUE];
  }
  /** See {@link TorrentStatus}. */
  get downBandwidthQueue(): number {
    return this.#n[this.#b + ST.DOWN_BANDWIDTH_QUEUE];
  }
  /** See {@link TorrentStatus}. */
  get currentTracker(): string {
    return this.#str(3);
  }

  /** A plain-object copy of the status (what `torrent.status()` returns). */
  toObject(): TorrentStatus {
    const st = decodeStatus(this.#n, this.#b, this.#s, this.#so);
    st.error ??= diskErrorOf(this.torrent);
    return st;
  }

  /** For JSON.stringify: the plain status (without `torrent`). */
  toJSON(): TorrentStatus {
    return this.toObject();
  }
}

function etaOf(n: Float64Array, b: number): number | null {
  if (n[b + ST.IS_FINISHED] !== 0) return 0;
  const rate = n[b + ST.DOWNLOAD_RATE];
  return rate > 0 && n[b + ST.HAS_METADATA]
    ? Math.ceil((n[b + ST.TOTAL_WANTED] - n[b + ST.TOTAL_WANTED_DONE]) / rate)
    : null;
}

function errorOf(n: Float64Array, b: number, s: Uint8Array, so: number): TorrentStatus["error"] {
  const code = n[b + ST.ERROR_CODE], len = n[b + ST.ERROR_LEN];
  if (code === 0 && len === 0) return null;
  return { code, message: utf8(s, so + n[b + ST.NAME_LEN] + n[b + ST.SAVE_PATH_LEN], len), file: n[b + ST.ERROR_FILE] };
}

function orNull(x: number): number | null {
  return x < 0 ? null : x;
}
