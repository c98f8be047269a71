/**
 * Session statistics: libtorrent's performance counters (session_stats),
 * with the usual figures picked out (see `session.stats()`).
 *
 * @module
 */
import { type Native, readText } from "./_native.ts";
import { bdecode } from "./bencode.ts";

/**
 * A snapshot of a session's counters. Byte totals count from the moment
 * the session opened. Rates are averages over `intervalSeconds`: the time
 * since the previous `stats()` of the same session (since the session
 * opened, for the first call) — poll once a second for a "current" rate.
 */
export interface SessionStats {
  /** When the snapshot was taken, seconds since the session opened. */
  time: number;
  /** Seconds the rates are averaged over. */
  intervalSeconds: number;
  /** Payload bytes/s received (net.recv_payload_bytes over the interval). */
  downloadRate: number;
  /** Payload bytes/s sent (net.sent_payload_bytes over the interval). */
  uploadRate: number;
  /** Payload bytes received (net.recv_payload_bytes). */
  totalDownload: number;
  /** Payload bytes sent (net.sent_payload_bytes). */
  totalUpload: number;
  /** All bytes received, protocol included (net.recv_bytes). */
  totalReceived: number;
  /** All bytes sent, protocol included (net.sent_bytes). */
  totalSent: number;
  /** Nodes in the DHT routing table (dht.dht_nodes). */
  dhtNodes: number;
  /** Connected peers, all torrents (peer.num_peers_connected). */
  numPeers: number;
  /** Connections being opened (peer.num_peers_half_open). */
  numPeersHalfOpen: number;
  /** Torrents by what they do (ses.num_*_torrents). */
  torrents: {
    /** Checking their files. */
    checking: number;
    /** Downloading. */
    downloading: number;
    /** Seeding. */
    seeding: number;
    /** Paused or stopped. */
    stopped: number;
    /** In upload-only mode. */
    uploadOnly: number;
    /** Stopped on an error. */
    error: number;
  };
  /** Pieces that passed the hash check (ses.num_piece_passed). */
  piecesPassed: number;
  /** Pieces that failed the hash check (ses.num_piece_failed). */
  piecesFailed: number;
  /** 16 KiB blocks written to disk (disk.num_blocks_written). */
  diskBlocksWritten: number;
  /** 16 KiB blocks read from disk (disk.num_blocks_read). */
  diskBlocksRead: number;
  /** Every libtorrent counter and gauge by name (see libtorrent's session statistics). */
  counters: Record<string, number>;
}

interface Metric {
  name: string;
  index: number;
}

let metrics: Metric[] | undefined;
const dec = new TextDecoder();

/** libtorrent's metric names and their value indices (read once per process). @internal */
export function statsMetrics(native: Native): Metric[] {
  if (metrics) return metrics;
  const sym = native.sym;
  const text = readText(sym, (b, c, o) => sym.btx_stats_metrics(b, c, o));
  const list = bdecode(new TextEncoder().encode(text)) as [Uint8Array, number, number][];
  metrics = list.map(([name, index]) => ({ name: dec.decode(name), index }));
  return metrics;
}

/** Turns raw snapshots into SessionStats, keeping the previous one for rates. @internal */
export class StatsReader {
  #prevTime = 0;
  #prevDown = 0;
  #prevUp = 0;
  #rates: [number, number, number] = [0, 0, 0];
  #seq = 0;

  /** `raw`: btx_session_stats output (seq, time µs, counters…). */
  decode(native: Native, raw: Float64Array): SessionStats {
    const counters: Record<string, number> = {};
    for (const m of statsMetrics(native)) counters[m.name] = raw[2 + m.index];
    const c = (name: string) => counters[name] ?? 0;
    const seq = raw[0], timeUs = raw[1];
    const down = c("net.recv_payload_bytes"), up = c("net.sent_payload_bytes");
    if (seq !== this.#seq) {
      const dt = (timeUs - this.#prevTime) / 1e6;
      this.#rates = dt > 0 ? [(down - this.#prevDown) / dt, (up - this.#prevUp) / dt, dt] : this.#rates;
      this.#prevTime = timeUs;
      this.#prevDown = down;
      this.#prevUp = up;
      this.#seq = seq;
    }
    return {
      time: timeUs / 1e6,
      intervalSeconds: this.#rates[2],
      downloadRate: this.#rates[0],
      uploadRate: this.#rates[1],
      totalDownload: down,
      totalUpload: up,
      totalReceived: c("net.recv_bytes"),
      totalSent: c("net.sent_bytes"),
      dhtNodes: c("dht.dht_nodes"),
      numPeers: c("peer.num_peers_connected"),
      numPeersHalfOpen: c("peer.num_peers_half_open"),
      torrents: {
        checking: c("ses.num_checking_torrents"),
        downloading: c("ses.num_downloading_torrents"),
        seeding: c("ses.num_seeding_torrents"),
        stopped: c("ses.num_stopped_torrents"),
        uploadOnly: c("ses.num_upload_only_torrents"),
        error: c("ses.num_error_torrents"),
      },
      piecesPassed: c("ses.num_piece_passed"),
      piecesFailed: c("ses.num_piece_failed"),
      diskBlocksWritten: c("disk.num_blocks_written"),
      diskBlocksRead: c("disk.num_blocks_read"),
      counters,
    };
  }
}
