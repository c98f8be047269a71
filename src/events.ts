/**
 * Typed events. Every libtorrent alert arrives as an event whose `type` is
 * the alert's name without `_alert`; the ones listed in {@link EventFields}
 * carry typed fields, every one carries `message` (libtorrent's text), and
 * events about a torrent carry `torrent`, the object `session.add()`
 * returned.
 *
 * @module
 */
import type { Torrent } from "./torrent.ts";
import { TorrentError } from "./errors.ts";

/** A torrent's state, as libtorrent's torrent_status::state_t. */
export type TorrentState =
  | "checking_files"
  | "downloading_metadata"
  | "downloading"
  | "finished"
  | "seeding"
  | "checking_resume_data"
  | "unknown";

const STATES: readonly TorrentState[] = [
  "unknown",
  "checking_files",
  "downloading_metadata",
  "downloading",
  "finished",
  "seeding",
  "unknown",
  "checking_resume_data",
];

/** libtorrent's numeric state → its name. */
export function stateName(n: number): TorrentState {
  return STATES[n] ?? "unknown";
}

/** Every libtorrent 2.0 alert name (each arrives as an event of that type). */
export const ALERT_TYPES = [
  "torrent",
  "peer",
  "tracker",
  "torrent_added",
  "torrent_removed",
  "read_piece",
  "file_completed",
  "file_renamed",
  "file_rename_failed",
  "performance",
  "state_changed",
  "tracker_error",
  "tracker_warning",
  "scrape_reply",
  "scrape_failed",
  "tracker_reply",
  "dht_reply",
  "tracker_announce",
  "hash_failed",
  "peer_ban",
  "peer_unsnubbed",
  "peer_snubbed",
  "peer_error",
  "peer_connect",
  "peer_disconnected",
  "invalid_request",
  "torrent_finished",
  "piece_finished",
  "request_dropped",
  "block_timeout",
  "block_finished",
  "block_downloading",
  "unwanted_block",
  "storage_moved",
  "storage_moved_failed",
  "torrent_deleted",
  "torrent_delete_failed",
  "save_resume_data",
  "save_resume_data_failed",
  "torrent_paused",
  "torrent_resumed",
  "torrent_checked",
  "url_seed",
  "file_error",
  "metadata_failed",
  "metadata_received",
  "udp_error",
  "external_ip",
  "listen_failed",
  "listen_succeeded",
  "portmap_error",
  "portmap",
  "portmap_log",
  "fastresume_rejected",
  "peer_blocked",
  "dht_announce",
  "dht_get_peers",
  "stats",
  "cache_flushed",
  "anonymous_mode",
  "lsd_peer",
  "trackerid",
  "dht_bootstrap",
  "torrent_error",
  "torrent_need_cert",
  "incoming_connection",
  "add_torrent",
  "state_update",
  "mmap_cache",
  "session_stats",
  "torrent_update",
  "dht_error",
  "dht_immutable_item",
  "dht_mutable_item",
  "dht_put",
  "i2p",
  "dht_outgoing_get_peers",
  "log",
  "torrent_log",
  "peer_log",
  "lsd_error",
  "dht_stats",
  "incoming_request",
  "dht_log",
  "dht_pkt",
  "dht_get_peers_reply",
  "dht_direct_response",
  "picker_log",
  "session_error",
  "dht_live_nodes",
  "session_stats_header",
  "dht_sample_infohashes",
  "block_uploaded",
  "alerts_dropped",
  "socks5",
  "file_prio",
  "oversized_file",
  "torrent_conflict",
] as const;

/** Events TorrentXT adds itself (not libtorrent alerts). */
export const SYNTHETIC_TYPES = ["events_dropped"] as const;

/** Every event type. */
export type EventType = typeof ALERT_TYPES[number] | typeof SYNTHETIC_TYPES[number];

/** Fields of an event about a torrent. */
export type About = { torrent: Torrent };
/** Fields of an event about no torrent. */
export type NotAbout = { torrent?: undefined };

/** The typed fields of each event type beyond `type` and `message`. */
export interface EventFields {
  /** The torrent moved from `prevState` to `state`. */
  state_changed: About & { state: TorrentState; prevState: TorrentState };
  /** A piece was downloaded and passed its hash check. */
  piece_finished: About & { piece: number };
  /** A downloaded piece failed its hash check; it is fetched again. */
  hash_failed: About & { piece: number };
  /** Every piece of file index `file` is had. */
  file_completed: About & { file: number };
  /** Every wanted piece is had (the torrent may go on seeding). */
  torrent_finished: About;
  /** The torrent stopped (after `pause()`). */
  torrent_paused: About;
  /** The torrent started again (after `resume()`). */
  torrent_resumed: About;
  /** The torrent's files were checked against its hashes. */
  torrent_checked: About;
  /** The torrent joined the session. */
  torrent_added: About;
  /** The result of adding the torrent. */
  add_torrent: About;
  /** The metadata (info dictionary) arrived from a peer. */
  metadata_received: About;
  /** Metadata from a peer did not match the info-hash. */
  metadata_failed: About & { error: string };
  /** The torrent left the session. */
  torrent_removed: About;
  /** The torrent's files were deleted (`remove({ deleteFiles: true })`). */
  torrent_deleted: About;
  /** Deleting the torrent's files failed. */
  torrent_delete_failed: About & { error: string };
  /** The torrent stopped on an error (`file` names the file, if any). */
  torrent_error: About & { errorCode: number; error: string; file: string };
  /** A file operation failed (`operation` names it). */
  file_error: About & { errorCode: number; error: string; file: string; operation: string };
  /** An announce was sent to the tracker at `url` (`event`: 0 none, 1 completed, 2 started, 3 stopped, 4 paused). */
  tracker_announce: About & { event: number; url: string };
  /** The tracker at `url` answered with `numPeers` peers. */
  tracker_reply: About & { numPeers: number; url: string };
  /** An announce to `url` failed, `timesInRow` times in a row. */
  tracker_error: About & { timesInRow: number; url: string; error: string; failureReason: string };
  /** The tracker at `url` sent a warning. */
  tracker_warning: About & { url: string; warning: string };
  /** A scrape of `url` succeeded: `complete` seeds, `incomplete` leechers. */
  scrape_reply: About & { incomplete: number; complete: number; url: string };
  /** A scrape of `url` failed. */
  scrape_failed: About & { url: string; error: string };
  /** Resume data asked for with `torrent.saveResumeData()`. */
  save_resume_data: About & { resumeData: Uint8Array };
  /** Saving resume data failed (`notModified` 1: skipped as unchanged, when only changed ones were asked for). */
  save_resume_data_failed: About & { error: string; notModified: number };
  /** The torrent's files moved from `oldPath` to `path`. */
  storage_moved: About & { path: string; oldPath: string };
  /** Moving the torrent's files failed. */
  storage_moved_failed: About & { error: string; file: string };
  /** File index `file` was renamed from `oldName` to `newName`. */
  file_renamed: About & { file: number; newName: string; oldName: string };
  /** libtorrent hit a performance limit (`warning`: libtorrent's performance_warning_t). */
  performance: About & { warning: number };
  /** A connection to the peer at `peer` ("ip:port") was opened. */
  peer_connect: About & { peer: string };
  /** The peer at `peer` disconnected (`error` says why). */
  peer_disconnected: About & { peer: string; error: string };
  /** The session listens on `address`:`port`. */
  listen_succeeded: NotAbout & { port: number; socketType: number; address: string };
  /** The session could not listen on `address`:`port`. */
  listen_failed: NotAbout & { port: number; address: string; error: string };
  /** libtorrent's alert queue overflowed: `dropped` names the types lost. */
  alerts_dropped: NotAbout & { types: number; dropped: string };
  // ---- torrent control
  /** Renaming file index `file` failed. */
  file_rename_failed: About & { file: number; error: string };
  /** Piece `piece` (`size` bytes) is had, after `setPieceDeadline(…, { alertWhenAvailable: true })`; `error` when reading it failed. */
  read_piece: About & { piece: number; size: number; error: string };
  /** The web seed at `url` failed or sent a message (`error`). */
  url_seed: About & { url: string; error: string };
  /** A slow consumer's queue overflowed: `count` events were not delivered to it. */
  events_dropped: NotAbout & { count: number };

  // ---- ip filter and dht
  /**
   * A connection to or from `peer` ("ip:port") was refused. `reason`:
   * "ip_filter", "port_filter", "i2p_mixed", "privileged_ports",
   * "utp_disabled", "tcp_disabled", "invalid_local_interface" or
   * "ssrf_mitigation". `torrent` is absent for an incoming connection not yet
   * tied to a torrent.
   */
  peer_blocked: { torrent?: Torrent; peer: string; reason: string };
  /** The DHT finished bootstrapping (its first lookup of its own id). */
  dht_bootstrap: NotAbout;
  /** A DHT node answered a `dht.getPeers()` lookup of `infoHash` (hex) with `peers` ("ip:port"). */
  dht_get_peers_reply: NotAbout & { numPeers: number; infoHash: string; peers: string[] };
  /** Another DHT node announced to this one that `ip`:`port` has peers of `infoHash` (hex). */
  dht_announce: NotAbout & { port: number; ip: string; infoHash: string };
  /** Another DHT node asked this one for peers of `infoHash` (hex). */
  dht_get_peers: NotAbout & { infoHash: string };
  /** The DHT returned `numPeers` peers for the torrent. */
  dht_reply: About & { numPeers: number };
  /** A DHT operation failed. */
  dht_error: NotAbout & { errorCode: number; error: string; operation: string };
  /** Answer to `dht.stats()`: the routing table (`nodeId` hex, `localEndpoint` "ip:port"). */
  dht_stats: NotAbout & {
    nodes: number;
    replacements: number;
    buckets: number;
    activeLookups: number;
    nodeId: string;
    localEndpoint: string;
  };
  /** Answer to `dht.ping()` from `endpoint`: its `nodeId` (hex), or `timedOut` 1 and no id. */
  dht_direct_response: NotAbout & { timedOut: number; endpoint: string; nodeId: string };
  /** Answer to `dht.getImmutable()`: `value` is the bencoded item, empty when not found. */
  dht_immutable_item: NotAbout & { target: string; value: Uint8Array };
  /**
   * A version of a mutable item (answer to `dht.getMutable()`): `value`
   * bencoded (empty when not found), `publicKey` and `signature` hex. The
   * last one of a lookup has `authoritative` 1.
   */
  dht_mutable_item: NotAbout & {
    seq: number;
    authoritative: number;
    publicKey: string;
    signature: string;
    salt: Uint8Array;
    value: Uint8Array;
  };
  /**
   * A put finished: stored on `numSuccess` nodes under `target` (hex). For a
   * mutable item also `publicKey`, `signature` (hex), `salt`, `seq`, the
   * `requestId` of `dht.putMutable()` and `error`: "" or the code of a put
   * the shim refused ("DHT_STALE_SEQUENCE", "DHT_CAS_MISMATCH"; nothing new
   * was signed then).
   */
  dht_put: NotAbout & {
    numSuccess: number;
    seq: number;
    requestId: number;
    target: string;
    publicKey: string;
    signature: string;
    salt: Uint8Array;
    error: "" | "DHT_STALE_SEQUENCE" | "DHT_CAS_MISMATCH";
  };
}

/** One event of type `K`. */
export type EventOf<K extends EventType> =
  & { readonly type: K; readonly message: string }
  & (K extends keyof EventFields ? EventFields[K] : { torrent?: Torrent });

/** The discriminated union of all events. */
export type TorrentEvent = { [K in EventType]: EventOf<K> }[EventType];

/** Selects events: by type and/or torrent, or any predicate. */
export type EventFilter =
  | { types?: readonly EventType[]; torrent?: Torrent }
  | ((ev: TorrentEvent) => boolean);

/** Default per-consumer queue bound: beyond it, events are counted, not kept. */
export const MAX_QUEUED_EVENTS = 100_000;

/** Options of `session.events()` / `torrent.events()`. */
export interface EventStreamOptions {
  /**
   * Most events this stream queues while its consumer is busy (default
   * 100,000; 1 .. 2^31). Beyond it events are counted, not kept, and one
   * `events_dropped` event (with `count`) takes their place in the stream.
   */
  maxQueued?: number;
}

/** Validates EventStreamOptions; returns the bound. @internal */
export function queueBound(options: EventStreamOptions | undefined): number {
  if (options === undefined) return MAX_QUEUED_EVENTS;
  if (options === null || typeof options !== "object") {
    throw new TorrentError("INVALID_ARGUMENT", "events: options must be an object");
  }
  for (const k of Object.keys(options)) {
    if (k !== "maxQueued") throw new TorrentError("INVALID_ARGUMENT", `events: unknown option '${k}'`);
  }
  const m = options.maxQueued;
  if (m === undefined) return MAX_QUEUED_EVENTS;
  if (!Number.isInteger(m) || m < 1 || m > 2 ** 31) {
    throw new TorrentError("INVALID_ARGUMENT", "events: maxQueued must be an integer from 1 to 2^31");
  }
  return m;
}

function toPredicate(filter?: EventFilter): ((ev: TorrentEvent) => boolean) | undefined {
  if (!filter) return undefined;
  if (typeof filter === "function") return filter;
  const types = filter.types ? new Set<string>(filter.types) : undefined;
  const torrent = filter.torrent;
  if (!types && !torrent) return undefined;
  return (ev) =>
    (!types || types.has(ev.type)) &&
    (!torrent || (ev as { torrent?: Torrent }).torrent === torrent);
}

/**
 * An async iterator over events. Subscribed from the moment it was created;
 * leaving a `for await` (or calling `return()`) unsubscribes it. It ends
 * when the session closes, after the events already queued.
 */
export class EventStream implements AsyncIterableIterator<TorrentEvent> {
  #queue: TorrentEvent[] = [];
  #head = 0;
  #marker: { type: "events_dropped"; message: string; count: number } | undefined;
  /** Pending next() calls, oldest first (concurrent next() calls get successive events). */
  #waiters: ((r: IteratorResult<TorrentEvent>) => void)[] = [];
  #done = false;
  readonly #pred: ((ev: TorrentEvent) => boolean) | undefined;
  readonly #hub: EventHub;
  readonly #max: number;

  /** @internal */
  constructor(hub: EventHub, filter?: EventFilter, maxQueued = MAX_QUEUED_EVENTS) {
    this.#hub = hub;
    this.#pred = toPredicate(filter);
    this.#max = maxQueued;
  }

  /** @internal Offers an event; returns nothing. */
  push(ev: TorrentEvent): void {
    if (this.#done || (this.#pred && !this.#pred(ev))) return;
    if (this.#waiters.length > 0) {
      const w = this.#waiters.shift()!;
      this.#hub.hold(-1);
      w({ value: ev, done: false });
      return;
    }
    if (this.#queue.length - this.#head >= this.#max) {
      // Full: count the event in a marker queued where the gap is, so the
      // consumer sees events_dropped between the events before and after it.
      // The marker takes one slot beyond the bound; later drops add to it
      // until the consumer reaches it.
      if (this.#marker === undefined) {
        this.#marker = { type: "events_dropped", message: "", count: 0 };
        this.#queue.push(this.#marker as unknown as TorrentEvent);
      }
      this.#marker.count++;
      return;
    }
    this.#queue.push(ev);
  }

  /** @internal Ends the stream after what is queued. */
  end(): void {
    this.#done = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      this.#hub.hold(-1);
      w({ value: undefined, done: true });
    }
  }

  /** The next event; resolves when one arrives. */
  next(): Promise<IteratorResult<TorrentEvent>> {
    if (this.#head < this.#queue.length) {
      const value = this.#queue[this.#head++];
      if (value === (this.#marker as unknown)) {
        const m = this.#marker!;
        m.message = `${m.count} events dropped: consumer too slow`;
        this.#marker = undefined;
      }
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    this.#hub.hold(1);
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
    });
  }

  /** Unsubscribes; later `next()` calls report done. */
  return(): Promise<IteratorResult<TorrentEvent>> {
    this.#hub.unsubscribe(this);
    this.#queue = [];
    this.#head = 0;
    this.#marker = undefined;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** The stream itself: it is its own iterator. */
  [Symbol.asyncIterator](): EventStream {
    return this;
  }
}

/** Fans events out to the subscribed streams. @internal */
export class EventHub {
  #streams = new Set<EventStream>();
  #closed = false;
  /** Told +1/-1 as consumers start and stop awaiting an event (keeps Bun's process alive meanwhile). */
  onHold: ((delta: 1 | -1) => void) | undefined;

  /** @internal */
  hold(delta: 1 | -1): void {
    this.onHold?.(delta);
  }

  get size(): number {
    return this.#streams.size;
  }

  subscribe(filter?: EventFilter, maxQueued?: number): EventStream {
    const s = new EventStream(this, filter, maxQueued);
    if (this.#closed) s.end();
    else this.#streams.add(s);
    return s;
  }

  unsubscribe(s: EventStream): void {
    this.#streams.delete(s);
  }

  publish(ev: TorrentEvent): void {
    for (const s of this.#streams) s.push(ev);
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#streams) s.end();
    this.#streams.clear();
  }
}
