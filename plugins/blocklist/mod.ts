/**
 * An IP blocklist loader for a session's IP filter. Reads eMule `.dat`,
 * PeerGuardian `.p2p` and `.p2b` (v1–v3), CIDR lists, ranges and single
 * addresses, IPv4 and IPv6, plain or gzip/zip compressed (detected by magic
 * bytes), from files, URLs, bytes or streams — streaming, so a 100 MB list
 * never sits in memory as text. Malformed lines are counted and quoted in
 * the report, never fatal. Optionally re-loads every `refreshMs` and swaps
 * the new ranges in with one call; detaching removes what it added.
 *
 * @example Block a list on a session, look at the report
 * ```ts
 * import { Session } from "../../mod.ts";
 * import { blocklist } from "./mod.ts";
 * await using session = await Session.open({ profile: "isolated" });
 * const list = new TextEncoder().encode("Bad people:127.0.0.9-127.0.0.20\n10.0.0.0/8\n");
 * await using bl = await session.use(blocklist({ sources: [list] }));
 * console.log(bl.report.ranges, session.ipFilter.access("127.0.0.10")); // 2 "block"
 * ```
 *
 * @module
 */
import type { IpRangeRecord, Plugin, PluginInstance, Session } from "../../mod.ts";
import { TorrentError } from "../../mod.ts";
import { v4At, v6At } from "./_addr.ts";
import { type LineKind, type MalformedLine, parseChunks, type ParseStats } from "./_parse.ts";
import { EMPTY_SET, mergeV4, mergeV6, packSet, type RangeSet, setOp, v4Text, v6Text } from "./_ranges.ts";
import { type BlocklistSource, chunksOf, type Source, toSource } from "./_sources.ts";

export type { BlocklistSource, LineKind, MalformedLine, ParseStats };

/** Options of {@link parseBlocklist}. */
export interface ParseBlocklistOptions {
  /** How many malformed lines the result quotes, 0..1000 (default 5). */
  maxMalformedSamples?: number;
  /** Names the input in error messages (default "blocklist"). */
  name?: string;
  /** Stops reading; the call rejects with ABORTED. */
  signal?: AbortSignal;
}

/** What {@link parseBlocklist} found: the counts of {@link ParseStats} plus the merged ranges. */
export class ParsedBlocklist {
  /** Counts, format, malformed lines. */
  readonly stats: ParseStats;
  readonly #set: RangeSet;
  /** @internal */
  constructor(stats: ParseStats, set: RangeSet) {
    this.stats = stats;
    this.#set = set;
  }
  /** Ranges after merging overlapping and adjacent ones (both families). */
  get ranges(): number {
    return this.ipv4 + this.ipv6;
  }
  /** IPv4 ranges after merging. */
  get ipv4(): number {
    return this.#set.v4.length / 2;
  }
  /** IPv6 ranges after merging. */
  get ipv6(): number {
    return this.#set.v6.length / 2;
  }
  /** The merged ranges as text (IPv4 first, each family in address order), all `access: "block"`. */
  toRanges(): IpRangeRecord[] {
    const out: IpRangeRecord[] = [];
    const { v4, v6 } = this.#set;
    for (let i = 0; i < v4.length; i += 2) out.push({ first: v4Text(v4[i]), last: v4Text(v4[i + 1]), access: "block" });
    for (let i = 0; i < v6.length; i += 2) out.push({ first: v6Text(v6[i]), last: v6Text(v6[i + 1]), access: "block" });
    return out;
  }
  /** The merged ranges in the packed form of `session.ipFilter.addPacked()` (every range blocked). */
  packed(): Uint8Array {
    return packSet(this.#set, false);
  }
  /** @internal */
  get set(): RangeSet {
    return this.#set;
  }
}

function samplesOption(v: unknown, where: string): number {
  if (v === undefined) return 5;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 1000) {
    throw new TorrentError("INVALID_ARGUMENT", `${where}: maxMalformedSamples must be an integer 0..1000`);
  }
  return v;
}

/**
 * Parses a blocklist from bytes or a stream of bytes (any supported format,
 * compression detected). Streaming: only the ranges are kept, not the text.
 *
 * @throws TorrentError INVALID_ARGUMENT (bad input or options),
 * BLOCKLIST_FORMAT (not a blocklist: binary garbage, corrupt gzip/zip, no
 * readable line), BLOCKLIST_SOURCE (the stream failed), ABORTED
 *
 * @example Parse a .p2p list
 * ```ts
 * import { parseBlocklist } from "./mod.ts";
 * const r = await parseBlocklist(new TextEncoder().encode("Org: a, b:1.2.3.0-1.2.3.255\nnot a line\n"));
 * console.log(r.ranges, r.stats.malformed, r.stats.malformedLines[0]); // 1 1 { line: 2, text: "not a line" }
 * ```
 */
export async function parseBlocklist(
  input: Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  options: ParseBlocklistOptions = {},
): Promise<ParsedBlocklist> {
  if (options === null || typeof options !== "object") {
    throw new TorrentError("INVALID_ARGUMENT", "parseBlocklist: options must be an object");
  }
  for (const k of Object.keys(options)) {
    if (!["maxMalformedSamples", "name", "signal"].includes(k)) {
      throw new TorrentError("INVALID_ARGUMENT", `parseBlocklist: unknown option "${k}"`);
    }
  }
  const max = samplesOption(options.maxMalformedSamples, "parseBlocklist");
  if (options.name !== undefined && typeof options.name !== "string") {
    throw new TorrentError("INVALID_ARGUMENT", "parseBlocklist: name must be a string");
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TorrentError("INVALID_ARGUMENT", "parseBlocklist: signal must be an AbortSignal");
  }
  const name = options.name ?? "blocklist";
  let chunks: AsyncIterable<Uint8Array>;
  if (input instanceof Uint8Array || input instanceof ReadableStream) {
    chunks = await chunksOf(toSource(input, 0), options.signal ?? new AbortController().signal, 0);
  } else if (input !== null && typeof input === "object" && Symbol.asyncIterator in input) chunks = input;
  else {
    throw new TorrentError(
      "INVALID_ARGUMENT",
      "parseBlocklist: give a Uint8Array, a ReadableStream or an async iterable of Uint8Array",
    );
  }
  const r = await parseChunks(chunks, { maxMalformedSamples: max, signal: options.signal, name });
  return new ParsedBlocklist(r.stats, r.set);
}

// ---------------------------------------------------------------- the plugin

/** Options of {@link blocklist}. */
export interface BlocklistOptions {
  /** One source or several (their ranges are merged). */
  sources: BlocklistSource | BlocklistSource[];
  /** Re-load every source this often, ms (≥ 100); the new ranges replace the old in one call. Default: never. */
  refreshMs?: number;
  /** Time limit of one URL download, ms (default 60000). */
  fetchTimeoutMs?: number;
  /** Malformed lines quoted per source, 0..1000 (default 5). */
  maxMalformedSamples?: number;
  /** Called after every timed refresh: with the new report, or with the error that kept the old ranges in force. */
  onRefresh?: (report: BlocklistReport, error?: TorrentError) => void;
}

/** Per source: what was loaded from it. */
export interface SourceReport extends ParseStats {
  /** The source's name (its path or URL unless given). */
  name: string;
  /** "path", "url", "bytes" or "stream". */
  kind: "path" | "url" | "bytes" | "stream";
  /** Ranges loaded from this source, after merging its overlapping and adjacent ranges. */
  ranges: number;
  /** …of which IPv4. */
  ipv4: number;
  /** …of which IPv6. */
  ipv6: number;
}

/** The plugin's report (a snapshot: read `handle.report` again after a refresh). */
export interface BlocklistReport {
  /** One entry per source, in the order given. */
  sources: SourceReport[];
  /** Ranges the plugin holds in the filter: every source merged. */
  ranges: number;
  /** How many loads were applied (1 after attach). */
  loads: number;
  /** When the last load was applied (ms since the epoch). */
  loadedAt: number;
  /** The last refresh failure (the previous ranges stayed in force), if any since the last successful load. */
  lastError?: { code: string; message: string; at: number };
}

/** The handle `session.use(blocklist(...))` returns. */
export interface Blocklist extends PluginInstance {
  /** What is loaded, per source. */
  readonly report: BlocklistReport;
  /**
   * Re-loads every source and replaces this plugin's ranges in one call.
   * All or nothing: when a source fails, the previous ranges stay and the
   * call rejects (BLOCKLIST_SOURCE, BLOCKLIST_FORMAT, ABORTED on detach,
   * SESSION_CLOSED). Concurrent calls share one load.
   */
  refresh(): Promise<BlocklistReport>;
  /** Removes the ranges this plugin added (rules added by others stay) and stops refreshing. */
  detach(): Promise<void>;
}

/**
 * The session's blocked ranges as a sum: the user's own rules (`base`) plus
 * every attached blocklist's ranges. Each write replaces the session's user
 * rules in one `addPacked` call (allow-all first, then every blocked range),
 * so the filter is never seen half-built; the isolated profile's loopback
 * guard is laid over by the session on every change, as always. Before a
 * write, rules someone else changed since our last write are folded into
 * `base` (a three-way merge), so they survive refreshes and detaches.
 */
class Coordinator {
  base: RangeSet = EMPTY_SET;
  applied: RangeSet | null = null;
  readonly members = new Map<object, RangeSet>();

  sync(session: Session): void {
    const current = readUserBlocked(session);
    if (this.applied === null) this.base = current;
    else {
      const changed = setOp(current, this.applied, "xor");
      this.base = setOp(setOp(this.base, changed, "minus"), setOp(current, changed, "and"), "or");
    }
  }

  write(session: Session): void {
    let all = this.base;
    for (const m of this.members.values()) all = setOp(all, m, "or");
    session.ipFilter.addPacked(packSet(all, true));
    this.applied = all;
  }
}

const coordinators = new WeakMap<Session, Coordinator>();

function readUserBlocked(session: Session): RangeSet {
  const v4: number[] = [];
  const v6: bigint[] = [];
  for (const r of session.ipFilter.export({ userOnly: true })) {
    if (r.access !== "block") continue;
    const f = v4At(r.first, 0, r.first.length);
    if (f >= 0) v4.push(f, v4At(r.last, 0, r.last.length));
    else v6.push(v6At(r.first, 0, r.first.length)!, v6At(r.last, 0, r.last.length)!);
  }
  return { v4: mergeV4(Uint32Array.from(v4)), v6: mergeV6(v6) };
}

type HandleOptions = BlocklistOptions & { fetchTimeoutMs: number; maxMalformedSamples: number };

interface Loaded {
  set: RangeSet;
  report: SourceReport;
}

class BlocklistHandle implements Blocklist {
  readonly #session: Session;
  readonly #sources: Source[];
  readonly #opts: HandleOptions;
  readonly #abort = new AbortController();
  /** Results of single-use streams, kept for refreshes. */
  readonly #once = new Map<Source, Loaded>();
  #report: BlocklistReport = { sources: [], ranges: 0, loads: 0, loadedAt: 0 };
  #inflight: Promise<BlocklistReport> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #gone = false;

  constructor(session: Session, sources: Source[], opts: HandleOptions) {
    this.#session = session;
    this.#sources = sources;
    this.#opts = opts;
  }

  get report(): BlocklistReport {
    return structuredClone(this.#report);
  }

  async #loadOne(src: Source): Promise<Loaded> {
    const cached = this.#once.get(src);
    if (cached) return cached;
    const chunks = await chunksOf(src, this.#abort.signal, this.#opts.fetchTimeoutMs);
    const { stats, set } = await parseChunks(chunks, {
      maxMalformedSamples: this.#opts.maxMalformedSamples,
      signal: this.#abort.signal,
      name: src.name,
    });
    const loaded: Loaded = {
      set,
      report: {
        name: src.name,
        kind: src.kind === "factory" ? "stream" : src.kind,
        ...stats,
        ranges: (set.v4.length + set.v6.length) / 2,
        ipv4: set.v4.length / 2,
        ipv6: set.v6.length / 2,
      },
    };
    if (src.kind === "stream") this.#once.set(src, loaded);
    return loaded;
  }

  /** Loads every source (one after the other: memory holds one source's ranges being built), then swaps. */
  async load(): Promise<BlocklistReport> {
    const loaded: Loaded[] = [];
    for (const src of this.#sources) loaded.push(await this.#loadOne(src));
    if (this.#gone) throw new TorrentError("ABORTED", "blocklist: detached while loading");
    let set = EMPTY_SET;
    for (const l of loaded) set = set === EMPTY_SET ? l.set : setOp(set, l.set, "or");
    if (this.#session.closed) throw new TorrentError("SESSION_CLOSED", "blocklist: the session is closed");
    let co = coordinators.get(this.#session);
    if (!co) coordinators.set(this.#session, co = new Coordinator());
    const before = co.members.get(this);
    co.sync(this.#session);
    co.members.set(this, set);
    try {
      co.write(this.#session);
    } catch (e) {
      if (before) co.members.set(this, before);
      else co.members.delete(this);
      throw e;
    }
    this.#report = {
      sources: loaded.map((l) => l.report),
      ranges: (set.v4.length + set.v6.length) / 2,
      loads: this.#report.loads + 1,
      loadedAt: Date.now(),
    };
    return this.report;
  }

  refresh(): Promise<BlocklistReport> {
    if (this.#gone) return Promise.reject(new TorrentError("ABORTED", "blocklist: detached"));
    this.#inflight ??= this.load().catch((e) => {
      const err = e instanceof TorrentError ? e : new TorrentError("INTERNAL", String(e), { cause: e });
      this.#report = { ...this.#report, lastError: { code: err.code, message: err.message, at: Date.now() } };
      throw err;
    }).finally(() => (this.#inflight = undefined));
    return this.#inflight;
  }

  schedule(): void {
    const ms = this.#opts.refreshMs;
    if (ms === undefined || this.#gone) return;
    this.#timer = setTimeout(async () => {
      this.#timer = undefined;
      let err: TorrentError | undefined;
      try {
        await this.refresh();
      } catch (e) {
        err = e as TorrentError;
      }
      if (this.#gone) return;
      try {
        this.#opts.onRefresh?.(this.report, err);
      } catch { /* a listener's failure is its own */ }
      this.schedule();
    }, ms);
  }

  async detach(): Promise<void> {
    if (this.#gone) return;
    this.#gone = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#abort.abort();
    await this.#inflight?.catch(() => {});
    const co = coordinators.get(this.#session);
    if (!co || !co.members.has(this)) return;
    if (this.#session.closed) {
      co.members.delete(this);
      return;
    }
    co.sync(this.#session);
    co.members.delete(this);
    co.write(this.#session);
    if (co.members.size === 0) coordinators.delete(this.#session);
  }
}

/**
 * The blocklist plugin: `await session.use(blocklist({ sources }))` loads
 * every source, merges their ranges and blocks them in the session's IP
 * filter; the handle has `report`, `refresh()` and `detach()`.
 *
 * @throws TorrentError INVALID_ARGUMENT (bad options, at once); attaching
 * rejects with BLOCKLIST_SOURCE or BLOCKLIST_FORMAT when a source cannot be
 * loaded (nothing is applied then)
 *
 * @example Two sources, refreshed hourly
 * ```ts
 * import { Session } from "../../mod.ts";
 * import { blocklist } from "./mod.ts";
 * await using session = await Session.open({ profile: "isolated" });
 * const bl = await session.use(blocklist({
 *   sources: ["./level1.p2p.gz", { url: "http://127.0.0.1:8080/extra.dat", name: "extra" }],
 *   refreshMs: 3_600_000,
 * }));
 * for (const s of bl.report.sources) console.log(s.name, s.ranges, s.malformed);
 * ```
 */
export function blocklist(options: BlocklistOptions): Plugin<Blocklist> {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TorrentError("INVALID_ARGUMENT", "blocklist: options must be an object with sources");
  }
  const known = ["sources", "refreshMs", "fetchTimeoutMs", "maxMalformedSamples", "onRefresh"];
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) throw new TorrentError("INVALID_ARGUMENT", `blocklist: unknown option "${k}"`);
  }
  const list = Array.isArray(options.sources) ? options.sources : [options.sources];
  if (options.sources === undefined || list.length === 0) {
    throw new TorrentError("INVALID_ARGUMENT", "blocklist: give at least one source");
  }
  const sources = list.map((s, i) => toSource(s, i));
  const streams = new Set<unknown>();
  for (const s of sources) {
    if (s.kind === "stream") {
      if (streams.has(s.stream)) throw new TorrentError("INVALID_ARGUMENT", "blocklist: the same stream given twice");
      streams.add(s.stream);
    }
  }
  const intOpt = (name: string, v: unknown, min: number, max: number): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      throw new TorrentError("INVALID_ARGUMENT", `blocklist: ${name} must be an integer ${min}..${max}`);
    }
    return v;
  };
  const refreshMs = intOpt("refreshMs", options.refreshMs, 100, 2 ** 31 - 1);
  const fetchTimeoutMs = intOpt("fetchTimeoutMs", options.fetchTimeoutMs, 1, 2 ** 31 - 1) ?? 60_000;
  const maxMalformedSamples = samplesOption(options.maxMalformedSamples, "blocklist");
  if (options.onRefresh !== undefined && typeof options.onRefresh !== "function") {
    throw new TorrentError("INVALID_ARGUMENT", "blocklist: onRefresh must be a function");
  }
  return {
    name: "blocklist",
    async attach(session) {
      const h = new BlocklistHandle(session, sources, {
        ...options,
        refreshMs,
        fetchTimeoutMs,
        maxMalformedSamples,
      });
      await h.load();
      h.schedule();
      return h;
    },
  };
}
