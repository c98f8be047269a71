/**
 * Torrent control: the types, option schemas and record decoders behind
 * the control methods of {@link Torrent} and {@link Session} (flags,
 * priorities, limits, queue, trackers, web seeds, resume data).
 *
 * @module
 */
import { z } from "zod";
import type { BDecoded } from "./bencode.ts";
import type { TorrentError } from "./errors.ts";
import type { Torrent } from "./torrent.ts";

/** libtorrent torrent_flags bits (libtorrent/torrent_flags.hpp). @internal */
export const FLAG_BITS = {
  seedMode: 1 << 0,
  uploadMode: 1 << 1,
  shareMode: 1 << 2,
  applyIpFilter: 1 << 3,
  paused: 1 << 4,
  autoManaged: 1 << 5,
  superSeeding: 1 << 8,
  sequential: 1 << 9,
  stopWhenReady: 1 << 10,
  disableDht: 1 << 19,
  disableLsd: 1 << 20,
  disablePex: 1 << 21,
} as const;

/** A torrent's mode flags, as `torrent.flags()` reports them. */
export interface TorrentFlags {
  /** Files are assumed complete; pieces are verified lazily when first uploaded. */
  seedMode: boolean;
  /** Uploads only: no piece is requested (libtorrent also enters it on disk errors). */
  uploadMode: boolean;
  /** Downloads only what it can upload again (share ratio improvement). */
  shareMode: boolean;
  /** The session's IP filter applies to this torrent (default true). */
  applyIpFilter: boolean;
  /** Stopped (see `pause()` / `resume()`). */
  paused: boolean;
  /** Started and stopped by libtorrent's queue. */
  autoManaged: boolean;
  /** BEP 16 super seeding (initial seeding); only has an effect when seeding. */
  superSeeding: boolean;
  /** Pieces are fetched in order. */
  sequential: boolean;
  /** Pauses (and leaves the queue) the next time it would start transferring. */
  stopWhenReady: boolean;
  /** No DHT announces or lookups for this torrent. */
  disableDht: boolean;
  /** No local service discovery for this torrent. */
  disableLsd: boolean;
  /** No peer exchange for this torrent. */
  disablePex: boolean;
}

/**
 * Flags `torrent.setFlags()` changes: each one given is set (true) or
 * cleared (false); the others stay. `seedMode` can only be cleared; pausing
 * is `pause()` / `resume()`.
 */
export type SettableFlags = Partial<Omit<TorrentFlags, "paused" | "seedMode">> & {
  seedMode?: false;
};

/**
 * Flags chosen when adding a torrent (`session.add()`): each one given is
 * set (true) or cleared (false) on top of the defaults. Default: not
 * auto-managed, the rest as libtorrent (`applyIpFilter` on, others off).
 */
export type AddFlags = Partial<Omit<TorrentFlags, "paused">>;

const ADD_FLAG_NAMES = [
  "seedMode",
  "uploadMode",
  "shareMode",
  "applyIpFilter",
  "autoManaged",
  "superSeeding",
  "sequential",
  "stopWhenReady",
  "disableDht",
  "disableLsd",
  "disablePex",
] as const satisfies readonly (keyof AddFlags)[];

/** zod shape of {@link AddFlags}. @internal */
export const AddFlagsShape = Object.fromEntries(ADD_FLAG_NAMES.map((k) => [k, z.boolean().optional()])) as Record<
  typeof ADD_FLAG_NAMES[number],
  z.ZodOptional<z.ZodBoolean>
>;

/** zod schema of {@link SettableFlags}. @internal */
export const SettableFlagsSchema = z.object({
  ...AddFlagsShape,
  seedMode: z.literal(false, { error: "seedMode can only be cleared after adding (false)" }).optional(),
}).strict();

/** (set, clear) bit masks for the flags named in `o`. @internal */
export function flagMasks(
  o: Partial<Record<keyof typeof FLAG_BITS, boolean | undefined>>,
): { set: number; clear: number } {
  let set = 0, clear = 0;
  for (const [k, v] of Object.entries(o)) {
    const bit = FLAG_BITS[k as keyof typeof FLAG_BITS];
    if (bit === undefined || v === undefined) continue;
    if (v) set |= bit;
    else clear |= bit;
  }
  return { set, clear };
}

/** Decodes libtorrent flag bits. @internal */
export function flagsOf(bits: number): TorrentFlags {
  const out = {} as Record<keyof TorrentFlags, boolean>;
  for (const [k, bit] of Object.entries(FLAG_BITS)) out[k as keyof TorrentFlags] = (bits & bit) !== 0;
  return out;
}

/** How a tracker (or one of its endpoints) is doing. */
export type TrackerStatus =
  /** Not announced to yet. */
  | "not_contacted"
  /** The last announce succeeded. */
  | "working"
  /** An announce is in flight. */
  | "updating"
  /** The last announce(s) failed (see `fails`, `lastError`). */
  | "not_working";

/** One tracker's state for one local endpoint and one info-hash version. */
export interface TrackerEndpoint {
  /** The local listen socket announcing, "ip:port". */
  local: string;
  /** Which info-hash this state is about. */
  version: "v1" | "v2";
  /** Derived from the fields below. */
  status: TrackerStatus;
  /** The tracker's warning or failure text, "" when none. */
  message: string;
  /** The last error, or null. */
  lastError: string | null;
  /** Failed announces in a row. */
  fails: number;
  /** An announce is in flight. */
  updating: boolean;
  /** Seconds until the next announce (0 when due); null when none is scheduled. */
  nextAnnounceIn: number | null;
  /** Seconds until the tracker allows another announce; null when not limited. */
  minAnnounceIn: number | null;
  /** Seeds per this tracker's last scrape or announce; -1 unknown. */
  scrapeComplete: number;
  /** Leechers per this tracker's last scrape or announce; -1 unknown. */
  scrapeIncomplete: number;
  /** Completed downloads per this tracker; -1 unknown. */
  scrapeDownloaded: number;
}

/** A tracker of a torrent, from `torrent.trackers()`. */
export interface TrackerInfo {
  /** The announce URL. */
  url: string;
  /** Tier (0 first): trackers of a tier are tried in order, tiers in order. */
  tier: number;
  /** Where the tracker came from. */
  sources: ("torrent" | "client" | "magnet" | "tex")[];
  /** A reply from it was valid. */
  verified: boolean;
  /** The best status over its endpoints ("working" if any works). */
  status: TrackerStatus;
  /** Fewest failures in a row over its endpoints (0 when none announced). */
  fails: number;
  /** The first error reported by an endpoint, or null. */
  lastError: string | null;
  /** The first tracker message reported by an endpoint, "" when none. */
  message: string;
  /** Soonest next announce over its endpoints, seconds; null when none is scheduled. */
  nextAnnounceIn: number | null;
  /** Largest seed count reported; -1 unknown. */
  scrapeComplete: number;
  /** Largest leecher count reported; -1 unknown. */
  scrapeIncomplete: number;
  /** Largest completed-download count reported; -1 unknown. */
  scrapeDownloaded: number;
  /** Per local endpoint and info-hash version. */
  endpoints: TrackerEndpoint[];
}

const dec = new TextDecoder();
const str = (b: BDecoded | undefined): string => (b instanceof Uint8Array ? dec.decode(b) : "");
const num = (b: BDecoded | undefined, missing = -1): number => (typeof b === "number" ? b : missing);

const STATUS_RANK: Record<TrackerStatus, number> = { working: 3, updating: 2, not_working: 1, not_contacted: 0 };

/** Decodes btx_torrent_trackers()'s blob. @internal */
export function decodeTrackers(blob: BDecoded): TrackerInfo[] {
  const out: TrackerInfo[] = [];
  for (const raw of blob as Record<string, BDecoded>[]) {
    const endpoints: TrackerEndpoint[] = [];
    for (const ep of (raw.endpoints ?? []) as Record<string, BDecoded>[]) {
      for (const version of ["v1", "v2"] as const) {
        const a = ep[version] as Record<string, BDecoded> | undefined;
        if (!a) continue;
        const fails = num(a.fails, 0), updating = num(a.updating, 0) === 1;
        const error = str(a.error);
        endpoints.push({
          local: str(ep.local),
          version,
          status: updating
            ? "updating"
            : fails > 0
            ? "not_working"
            : num(a.start_sent, 0)
            ? "working"
            : "not_contacted",
          message: str(a.message),
          lastError: error || null,
          fails,
          updating,
          nextAnnounceIn: a.next_announce === undefined ? null : Math.max(0, num(a.next_announce)),
          minAnnounceIn: a.min_announce === undefined ? null : Math.max(0, num(a.min_announce)),
          scrapeComplete: num(a.scrape_complete),
          scrapeIncomplete: num(a.scrape_incomplete),
          scrapeDownloaded: num(a.scrape_downloaded),
        });
      }
    }
    const source = num(raw.source, 0);
    const sources: TrackerInfo["sources"] = [];
    if (source & 1) sources.push("torrent");
    if (source & 2) sources.push("client");
    if (source & 4) sources.push("magnet");
    if (source & 8) sources.push("tex");
    let status: TrackerStatus = "not_contacted";
    for (const e of endpoints) if (STATUS_RANK[e.status] > STATUS_RANK[status]) status = e.status;
    const next = endpoints.map((e) => e.nextAnnounceIn).filter((x): x is number => x !== null);
    out.push({
      url: str(raw.url),
      tier: num(raw.tier, 0),
      sources,
      verified: num(raw.verified, 0) === 1,
      status,
      fails: endpoints.length ? Math.min(...endpoints.map((e) => e.fails)) : 0,
      lastError: endpoints.find((e) => e.lastError)?.lastError ?? null,
      message: endpoints.find((e) => e.message)?.message ?? "",
      nextAnnounceIn: next.length ? Math.min(...next) : null,
      scrapeComplete: Math.max(-1, ...endpoints.map((e) => e.scrapeComplete)),
      scrapeIncomplete: Math.max(-1, ...endpoints.map((e) => e.scrapeIncomplete)),
      scrapeDownloaded: Math.max(-1, ...endpoints.map((e) => e.scrapeDownloaded)),
      endpoints,
    });
  }
  return out;
}

/** A tracker to announce to, for `addTracker()` / `replaceTrackers()`. */
export interface TrackerEntry {
  /** Announce URL: http://, https:// or udp://. */
  url: string;
  /** Tier, 0..255 (default 0). */
  tier?: number;
}

/** Announce URLs libtorrent speaks. @internal */
export const TrackerUrl = z.url({ protocol: /^(https?|udp)$/, error: "must be an http(s):// or udp:// URL" });
/** Web seed URLs (BEP 19). @internal */
export const WebSeedUrl = z.url({ protocol: /^https?$/, error: "must be an http(s):// URL" });
/** @internal */
export const TierSchema = z.number().int().min(0).max(255);
/** @internal */
export const TrackerEntrySchema = z.object({ url: TrackerUrl, tier: TierSchema.optional() }).strict();

/** A file or piece priority: 0 = skip, 1 = low … 4 = default … 7 = top. */
export type Priority = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** @internal */
export const PrioritySchema = z.number().int().min(0).max(7);
/** A file or piece index (checked against the torrent in the shim). @internal */
export const IndexSchema = z.number().int().min(0).max(0x7fffffff);
/** Bytes/s or a count; 0 = unlimited. @internal */
export const LimitSchema = z.number().int().min(0).max(0x7fffffff);

/** What `moveStorage()` does with files of the same name already at the destination. */
export type MovePolicy =
  /** Overwrite them (default). */
  | "replace"
  /** Keep them and use them as the torrent's (they are not checked). */
  | "keep"
  /** Fail the move, moving nothing. */
  | "fail";

/** Options of `torrent.forceReannounce()`. */
export interface ReannounceOptions {
  /** Announce in this many seconds (default 0: now). */
  seconds?: number;
  /** Only this tracker (index into `trackers()`); default all. */
  trackerIndex?: number;
  /** Announce even when the tracker's "min interval" has not passed. Default false. */
  ignoreMinInterval?: boolean;
}

/** Options of `session.saveAllResumeData()`. */
export interface SaveAllOptions {
  /** Save every torrent, not only those whose state changed since their last save. Default false. */
  all?: boolean;
}

/** One torrent's outcome in `session.saveAllResumeData()`. */
export type SavedResumeData =
  /** Saved: pass `resumeData` as `resume` to `session.add()` later. */
  | { torrent: Torrent; resumeData: Uint8Array; error?: undefined }
  /** Saving failed (the torrent was removed meanwhile, a disk error, …). */
  | { torrent: Torrent; resumeData?: undefined; error: TorrentError };

/** Options of `session.close()`. */
export interface CloseOptions {
  /**
   * Called with each torrent's resume data before the engine stops, so you
   * can persist it (awaited one at a time). The session is paused first,
   * so nothing changes after the data is taken; every torrent is saved
   * (not only changed ones) unless `onlyIfModified` is set. If a callback
   * throws, or saving a torrent fails, the others are still saved, the
   * session still closes, and `close()` then rejects (with the error, or an
   * AggregateError of them).
   */
  saveResumeData?: (torrent: Torrent, resumeData: Uint8Array) => void | Promise<void>;
  /** With `saveResumeData`: skip torrents unchanged since their last save. Default false. */
  onlyIfModified?: boolean;
}

/** @internal */
export const CloseSchema = z.object({
  saveResumeData: z.custom<CloseOptions["saveResumeData"]>((v) => typeof v === "function", {
    error: "saveResumeData must be a function",
  }).optional(),
  onlyIfModified: z.boolean().optional(),
}).strict();
