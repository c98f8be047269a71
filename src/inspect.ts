/**
 * Inspection records: a torrent's peers, files and pieces (see
 * `Torrent.peers()`, `files()`, `pieces()`, `pieceAvailability()`).
 *
 * @module
 */
import { utf8 } from "./_native.ts";
import type { RecordBuffers } from "./_records.ts";

/** What a connection is doing, from libtorrent's peer_info flags. */
export interface PeerFlags {
  /** We want pieces the peer has. */
  interesting: boolean;
  /** We choke the peer (it may not download from us). */
  choked: boolean;
  /** The peer wants pieces we have. */
  remoteInterested: boolean;
  /** The peer chokes us (we may not download from it). */
  remoteChoked: boolean;
  /** The peer supports the extension protocol (BEP 10). */
  supportsExtensions: boolean;
  /** We opened the connection. */
  outgoing: boolean;
  /** The peer opened the connection. */
  incoming: boolean;
  /** The BitTorrent handshake is not finished yet. */
  handshake: boolean;
  /** The TCP or uTP connection is still being opened. */
  connecting: boolean;
  /** The peer sent a piece that failed the hash check; it is watched. */
  onParole: boolean;
  /** The peer has every piece. */
  seed: boolean;
  /** The peer is unchoked optimistically. */
  optimisticUnchoke: boolean;
  /** The peer has not sent data we asked for in a while. */
  snubbed: boolean;
  /** The peer only uploads (it has all it wants). */
  uploadOnly: boolean;
  /** We are in end-game mode with this peer. */
  endgame: boolean;
  /** The connection was made by NAT hole punching. */
  holepunched: boolean;
  /** Over uTP (else TCP). */
  utp: boolean;
  /** Over SSL (SSL torrents). */
  ssl: boolean;
  /** The handshake was encrypted (BEP 8 / MSE): the stream is RC4 or plaintext after it. */
  encrypted: boolean;
  /** The whole stream is RC4-encrypted. */
  rc4: boolean;
  /** The handshake was encrypted, the payload is plaintext. */
  plaintextEncrypted: boolean;
}

/** Where we learnt of a peer. Several may be true. */
export interface PeerSource {
  /** From a tracker. */
  tracker: boolean;
  /** From the DHT. */
  dht: boolean;
  /** From peer exchange (BEP 11). */
  pex: boolean;
  /** From local service discovery. */
  lsd: boolean;
  /** From resume data. */
  resumeData: boolean;
  /** It connected to us. */
  incoming: boolean;
}

/** One connection of a torrent. Rates are payload bytes per second; totals are payload bytes of this connection. */
export interface PeerInfo {
  /** `"ip:port"` (`"[v6]:port"` for IPv6). */
  address: string;
  /** The peer's client, from its peer id or extension handshake (may be empty). */
  client: string;
  /** What the connection is doing. */
  flags: PeerFlags;
  /** Where we learnt of the peer. */
  source: PeerSource;
  /** `"bittorrent"`, or a web seed (`"web_seed"`, BEP 19; `"http_seed"`, BEP 17). */
  connectionType: "bittorrent" | "web_seed" | "http_seed";
  /** Payload bytes/s received from it. */
  downloadRate: number;
  /** Payload bytes/s sent to it. */
  uploadRate: number;
  /** Payload bytes received from it on this connection. */
  totalDownload: number;
  /** Payload bytes sent to it on this connection. */
  totalUpload: number;
  /** 0..1: the share of the torrent the peer has. */
  progress: number;
  /** Pieces the peer has. */
  numPieces: number;
  /** Round-trip time estimate, ms. */
  rtt: number;
  /** Our requests outstanding at the peer. */
  downloadQueue: number;
  /** The peer's requests outstanding at us. */
  uploadQueue: number;
  /** Pieces from it that failed the hash check. */
  hashFailures: number;
}

/**
 * One file of a torrent. Pad files (alignment filler of v2 and hybrid
 * torrents) are left out unless asked for, and marked `pad` then.
 */
export interface FileEntry {
  /** libtorrent's file index (pad files count), as other file calls take it. */
  index: number;
  /** Path inside the torrent, "/"-separated, starting with the torrent's directory for multi-file torrents. */
  path: string;
  /** Bytes. */
  size: number;
  /** Byte offset of the file within the torrent's data. */
  offset: number;
  /** Bytes of the file we have (see `files()` for the two ways of counting). */
  progress: number;
  /** Download priority, 0 (skip) .. 7 (top); 4 is the default. */
  priority: number;
  /** An alignment pad file. */
  pad: boolean;
  /** The hidden attribute (BEP 47). */
  hidden: boolean;
  /** The executable attribute (BEP 47). */
  executable: boolean;
  /** A symbolic link (BEP 47). */
  symlink: boolean;
}

/**
 * The pieces we have (hash-checked), as a bitfield: bit `i` of the bytes is
 * piece `i`, most significant bit of each byte first (the BitTorrent wire
 * order); the unused low bits of the last byte are 0.
 */
export class PieceSet {
  /** Pieces in the torrent. */
  readonly count: number;
  /** The bitfield, ceil(count / 8) bytes, MSB first. */
  readonly bitfield: Uint8Array;

  /** @internal */
  constructor(count: number, bitfield: Uint8Array) {
    this.count = count;
    this.bitfield = bitfield;
  }

  /** Whether we have piece `index` (false outside 0..count-1). */
  has(index: number): boolean {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) return false;
    return (this.bitfield[index >> 3] & (0x80 >> (index & 7))) !== 0;
  }

  /** How many pieces we have. */
  get numHave(): number {
    let n = 0;
    for (let i = 0; i < this.bitfield.length; i++) {
      let b = this.bitfield[i];
      while (b) {
        b &= b - 1;
        n++;
      }
    }
    return n;
  }

  /** One boolean per piece. */
  toArray(): boolean[] {
    const out = new Array<boolean>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = (this.bitfield[i >> 3] & (0x80 >> (i & 7))) !== 0;
    return out;
  }
}

// btx.h BTX_PEER_*
const P = {
  FLAGS: 0,
  SOURCE: 1,
  CONNECTION_TYPE: 2,
  DOWNLOAD_RATE: 3,
  UPLOAD_RATE: 4,
  TOTAL_DOWNLOAD: 5,
  TOTAL_UPLOAD: 6,
  PROGRESS: 7,
  NUM_PIECES: 8,
  RTT: 9,
  DOWNLOAD_QUEUE: 10,
  UPLOAD_QUEUE: 11,
  NUM_HASHFAILS: 12,
  ADDRESS_LEN: 13,
  CLIENT_LEN: 14,
  COUNT: 15,
} as const;

// btx.h BTX_FILE_*
const F = { INDEX: 0, SIZE: 1, OFFSET: 2, PROGRESS: 3, PRIORITY: 4, FLAGS: 5, PATH_LEN: 6, COUNT: 7 } as const;

/** Record sizes, for the tests that compare them with btx.h. @internal */
export const RECORD_FIELDS = { peer: P.COUNT, file: F.COUNT } as const;

const CONNECTION_TYPES = ["bittorrent", "web_seed", "http_seed"] as const;

/** Decodes `buf`'s peer records (after a successful btx_torrent_peers). @internal */
export function decodePeers(buf: RecordBuffers): PeerInfo[] {
  const n = buf.nums, s = buf.strs, count = buf.out[0];
  const peers: PeerInfo[] = new Array(count);
  let soff = 0;
  for (let i = 0; i < count; i++) {
    const b = i * P.COUNT;
    const f = n[b + P.FLAGS], src = n[b + P.SOURCE];
    const aLen = n[b + P.ADDRESS_LEN], cLen = n[b + P.CLIENT_LEN];
    const rc4 = (f & (1 << 19)) !== 0, plain = (f & (1 << 20)) !== 0;
    peers[i] = {
      address: utf8(s, soff, aLen),
      client: utf8(s, soff + aLen, cLen),
      flags: {
        interesting: (f & (1 << 0)) !== 0,
        choked: (f & (1 << 1)) !== 0,
        remoteInterested: (f & (1 << 2)) !== 0,
        remoteChoked: (f & (1 << 3)) !== 0,
        supportsExtensions: (f & (1 << 4)) !== 0,
        outgoing: (f & (1 << 5)) !== 0,
        incoming: (f & (1 << 5)) === 0,
        handshake: (f & (1 << 6)) !== 0,
        connecting: (f & (1 << 7)) !== 0,
        onParole: (f & (1 << 9)) !== 0,
        seed: (f & (1 << 10)) !== 0,
        optimisticUnchoke: (f & (1 << 11)) !== 0,
        snubbed: (f & (1 << 12)) !== 0,
        uploadOnly: (f & (1 << 13)) !== 0,
        endgame: (f & (1 << 14)) !== 0,
        holepunched: (f & (1 << 15)) !== 0,
        utp: (f & (1 << 17)) !== 0,
        ssl: (f & (1 << 18)) !== 0,
        encrypted: rc4 || plain,
        rc4,
        plaintextEncrypted: plain,
      },
      source: {
        tracker: (src & 1) !== 0,
        dht: (src & 2) !== 0,
        pex: (src & 4) !== 0,
        lsd: (src & 8) !== 0,
        resumeData: (src & 16) !== 0,
        incoming: (src & 32) !== 0,
      },
      connectionType: CONNECTION_TYPES[n[b + P.CONNECTION_TYPE]] ?? "bittorrent",
      downloadRate: n[b + P.DOWNLOAD_RATE],
      uploadRate: n[b + P.UPLOAD_RATE],
      totalDownload: n[b + P.TOTAL_DOWNLOAD],
      totalUpload: n[b + P.TOTAL_UPLOAD],
      progress: n[b + P.PROGRESS],
      numPieces: n[b + P.NUM_PIECES],
      rtt: n[b + P.RTT],
      downloadQueue: n[b + P.DOWNLOAD_QUEUE],
      uploadQueue: n[b + P.UPLOAD_QUEUE],
      hashFailures: n[b + P.NUM_HASHFAILS],
    };
    soff += aLen + cLen;
  }
  return peers;
}

/** Decodes `buf`'s file records (after a successful btx_torrent_files). @internal */
export function decodeFiles(buf: RecordBuffers): FileEntry[] {
  const n = buf.nums, s = buf.strs, count = buf.out[0];
  const files: FileEntry[] = new Array(count);
  let soff = 0;
  for (let i = 0; i < count; i++) {
    const b = i * F.COUNT;
    const len = n[b + F.PATH_LEN], fl = n[b + F.FLAGS];
    files[i] = {
      index: n[b + F.INDEX],
      path: utf8(s, soff, len),
      size: n[b + F.SIZE],
      offset: n[b + F.OFFSET],
      progress: n[b + F.PROGRESS],
      priority: n[b + F.PRIORITY],
      pad: (fl & 1) !== 0,
      hidden: (fl & 2) !== 0,
      executable: (fl & 4) !== 0,
      symlink: (fl & 8) !== 0,
    };
    soff += len;
  }
  return files;
}
