// The status record (btx.h BTX_ST_* and BTX_STX_*) → TorrentStatus, shared
// by Torrent.status() and Session.statusAll(). Internal.
import { utf8 } from "./_native.ts";
import { stateName } from "./events.ts";
import type { TorrentStatus } from "./torrent.ts";

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
  COUNT: 66,
} as const;

// libtorrent torrent_flags bits read here (torrent_flags.hpp).
const PAUSED = 1 << 4, AUTO_MANAGED = 1 << 5, SEQUENTIAL = 1 << 9;

type Decode = (buf: Uint8Array, off: number, len: number) => string;

/**
 * Builds a TorrentStatus from the record at `n[base…]` whose strings start
 * at `s[soff]`. `savePath` decodes the save path (a cache in bulk reads).
 */
export function decodeStatus(
  n: Float64Array,
  base: number,
  s: Uint8Array,
  soff: number,
  savePath: Decode = utf8,
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
    name: nameLen === 0 ? "" : utf8(s, soff, nameLen),
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
    currentTracker: utf8(s, trackerOff, n[base + ST.TRACKER_LEN]),
  };
}

/** String bytes of the record at `n[base…]`. */
export function statusStringBytes(n: Float64Array, base: number): number {
  return n[base + ST.NAME_LEN] + n[base + ST.SAVE_PATH_LEN] + n[base + ST.ERROR_LEN] + n[base + ST.TRACKER_LEN];
}
