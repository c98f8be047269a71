/**
 * The streaming blocklist parser: compression by magic bytes (gzip, zip),
 * then PeerGuardian .p2b (binary, versions 1–3) or text lines (eMule .dat,
 * PeerGuardian .p2p, CIDR, ranges, single addresses; `#` and `//`
 * comments). Input arrives in chunks and is processed as it comes: memory is
 * bounded by the ranges found, never by the size of the text.
 *
 * @module
 */
import { TorrentError } from "../../mod.ts";
import { v4At, v6At } from "./_addr.ts";
import { RangeCollector, type RangeSet } from "./_ranges.ts";

/** Kinds of text lines. */
export type LineKind = "dat" | "p2p" | "cidr" | "range" | "address";

/** A malformed line, quoted. */
export interface MalformedLine {
  /** 1-based line number (record number for .p2b). */
  line: number;
  /** The line's text, cut at 200 characters. */
  text: string;
}

/** What parsing one source found. */
export interface ParseStats {
  /** "text" (any line format, mixed allowed) or "p2b". */
  format: "text" | "p2b";
  /** .p2b version (1, 2 or 3). */
  p2bVersion?: 1 | 2 | 3;
  /** Compression detected by magic bytes. */
  compression: "none" | "gzip" | "zip";
  /** Bytes read from the source (before decompression). */
  bytes: number;
  /** Lines read (records for .p2b), comments and blank lines included. */
  lines: number;
  /** Lines (records) that gave a blocked range. */
  entries: number;
  /** eMule .dat lines with an access level above 127 (allowed, so not loaded). */
  allowed: number;
  /** Ranges given last-to-first (swapped). */
  reversed: number;
  /** Lines (records) that could not be read; never fatal unless nothing else could be. */
  malformed: number;
  /** The first few malformed lines. */
  malformedLines: MalformedLine[];
  /** Lines per text format. */
  kinds: Record<LineKind, number>;
}

/** Options of the parser. @internal */
export interface ParseOptions {
  /** How many malformed lines to quote (default 5). */
  maxMalformedSamples?: number;
  /** Aborts the read (rejects with ABORTED). */
  signal?: AbortSignal;
  /** Names the source in error messages. */
  name?: string;
}

/** Longest text line kept; longer ones are malformed (and not held in memory). */
const MAX_LINE = 4096;
/** Longest .p2b label. */
const MAX_P2B_LABEL = 65536;
const SAMPLE_CHARS = 200;

class Stats {
  readonly s: ParseStats;
  readonly ranges = new RangeCollector();
  readonly max: number;
  constructor(max: number) {
    this.max = max;
    this.s = {
      format: "text",
      compression: "none",
      bytes: 0,
      lines: 0,
      entries: 0,
      allowed: 0,
      reversed: 0,
      malformed: 0,
      malformedLines: [],
      kinds: { dat: 0, p2p: 0, cidr: 0, range: 0, address: 0 },
    };
  }
  bad(line: number, text: string): void {
    this.s.malformed++;
    if (this.s.malformedLines.length < this.max) {
      this.s.malformedLines.push({ line, text: text.length > SAMPLE_CHARS ? text.slice(0, SAMPLE_CHARS) + "…" : text });
    }
  }
}

// ---------------------------------------------------------------- text lines

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13;
}

/** A range `A-B` (either family) in s[a, b) into `out`; false when malformed. */
function rangeAt(s: string, a: number, b: number, out: RangeCollector): boolean {
  const dash = s.indexOf("-", a);
  if (dash < 0 || dash >= b) return false;
  const f = v4At(s, a, dash);
  if (f >= 0) {
    const l = v4At(s, dash + 1, b);
    if (l < 0) return false;
    out.addV4(f, l);
    return true;
  }
  const f6 = v6At(s, a, dash);
  if (f6 === null) return false;
  const l6 = v6At(s, dash + 1, b);
  if (l6 === null) return false;
  out.addV6(f6, l6);
  return true;
}

/** Parses one line; returns its kind, "skip" (blank, comment), "allowed" (dat level > 127) or null (malformed). */
export function parseLine(s: string, out: RangeCollector): LineKind | "skip" | "allowed" | null {
  let a = 0, b = s.length;
  while (a < b && isSpace(s.charCodeAt(a))) a++;
  while (b > a && isSpace(s.charCodeAt(b - 1))) b--;
  if (a === b) return "skip";
  const c0 = s.charCodeAt(a);
  if (c0 === 35 /* # */ || (c0 === 47 /* / */ && s.charCodeAt(a + 1) === 47)) return "skip";

  // PeerGuardian .p2p: label:A-B, split on the last colon before an IPv4 range.
  const colon = s.lastIndexOf(":", b - 1);
  if (colon >= a) {
    const dash = s.indexOf("-", colon + 1);
    if (dash > colon && dash < b) {
      const f = v4At(s, colon + 1, dash);
      if (f >= 0) {
        const l = v4At(s, dash + 1, b);
        if (l >= 0) {
          out.addV4(f, l);
          return "p2p";
        }
      }
    }
  }

  // eMule .dat: A - B , level , label (when it is not one, the line may still be an address with a comment)
  const comma = s.indexOf(",", a);
  if (comma > a && comma < b) {
    const comma2 = s.indexOf(",", comma + 1);
    const le = comma2 < 0 || comma2 > b ? b : comma2;
    let la = comma + 1, lz = le;
    while (la < lz && isSpace(s.charCodeAt(la))) la++;
    while (lz > la && isSpace(s.charCodeAt(lz - 1))) lz--;
    let level = 0;
    let digits = la < lz && lz - la <= 10;
    for (let i = la; digits && i < lz; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) digits = false;
      else level = level * 10 + (c - 48);
    }
    if (digits) {
      if (level > 127) {
        // Still check the range, so a broken line is reported as such.
        if (rangeAt(s, a, comma, new RangeCollector())) return "allowed";
      } else if (rangeAt(s, a, comma, out)) return "dat";
    }
  }

  // Inline comments after an address, CIDR or range.
  for (const mark of ["#", ";", "//"]) {
    const i = s.indexOf(mark, a);
    if (i >= 0 && i < b) b = i;
  }
  while (b > a && isSpace(s.charCodeAt(b - 1))) b--;
  if (a === b) return null;

  const slash = s.indexOf("/", a);
  if (slash >= 0 && slash < b) {
    let bits = 0, digits = 0;
    for (let i = slash + 1; i < b; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57 || ++digits > 3) return null;
      bits = bits * 10 + (c - 48);
    }
    if (digits === 0) return null;
    const v4 = v4At(s, a, slash);
    if (v4 >= 0) {
      if (bits > 32) return null;
      const size = 2 ** (32 - bits);
      const first = v4 - (v4 % size);
      out.addV4(first, first + size - 1);
      return "cidr";
    }
    const v6 = v6At(s, a, slash);
    if (v6 === null || bits > 128) return null;
    const hostMask = (1n << BigInt(128 - bits)) - 1n;
    const first = v6 & ~hostMask;
    out.addV6(first, first | hostMask);
    return "cidr";
  }

  const dash = s.indexOf("-", a);
  if (dash >= 0 && dash < b) {
    if (rangeAt(s, a, b, out)) return "range";
    // label:A-B with IPv6 addresses: the first colon whose tail is a range.
    for (let i = s.indexOf(":", a); i >= 0 && i < dash; i = s.indexOf(":", i + 1)) {
      if (i > a && rangeAt(s, i + 1, b, out)) return "p2p";
    }
    return null;
  }

  const v4 = v4At(s, a, b);
  if (v4 >= 0) {
    out.addV4(v4, v4);
    return "address";
  }
  const v6 = v6At(s, a, b);
  if (v6 !== null) {
    out.addV6(v6, v6);
    return "address";
  }
  return null;
}

/** Splits decoded text into lines and parses each; overlong lines are counted, never held. */
class TextParser {
  readonly #st: Stats;
  readonly #dec = new TextDecoder("utf-8");
  #carry = "";
  #overlong = false;
  constructor(st: Stats) {
    this.#st = st;
  }

  #line(text: string): void {
    const st = this.#st;
    const n = ++st.s.lines;
    const k = parseLine(text, st.ranges);
    if (k === null) st.bad(n, text.trim());
    else if (k === "allowed") st.s.allowed++;
    else if (k !== "skip") {
      st.s.entries++;
      st.s.kinds[k]++;
    }
  }

  #text(str: string): void {
    let start = 0;
    for (;;) {
      const nl = str.indexOf("\n", start);
      if (nl < 0) break;
      if (this.#overlong) {
        this.#overlong = false;
        this.#carry = "";
      } else {
        const line = this.#carry === "" ? str.slice(start, nl) : this.#carry + str.slice(start, nl);
        this.#carry = "";
        if (line.length > MAX_LINE) this.#long(line);
        else this.#line(line);
      }
      start = nl + 1;
    }
    if (start < str.length && !this.#overlong) {
      this.#carry += str.slice(start);
      if (this.#carry.length > MAX_LINE) {
        this.#long(this.#carry);
        this.#carry = "";
        this.#overlong = true;
      }
    }
  }

  #long(text: string): void {
    const n = ++this.#st.s.lines;
    this.#st.bad(n, text);
  }

  push(chunk: Uint8Array): void {
    this.#text(this.#dec.decode(chunk, { stream: true }));
  }

  end(): void {
    this.#text(this.#dec.decode());
    if (!this.#overlong && this.#carry !== "") this.#line(this.#carry);
    this.#carry = "";
  }
}

// ---------------------------------------------------------------- .p2b

const P2B_MAGIC = [0xff, 0xff, 0xff, 0xff, 0x50, 0x32, 0x42];

/** PeerGuardian binary lists, read as chunks arrive. */
class P2bParser {
  readonly #st: Stats;
  readonly #version: 1 | 2 | 3;
  #buf: Uint8Array = new Uint8Array(0);
  #pos = 0;
  // v3 state
  #phase: "names-count" | "names" | "ranges-count" | "ranges" | "done" = "names-count";
  #left = 0;
  #rangesDeclared = 0;
  constructor(st: Stats, version: 1 | 2 | 3) {
    this.#st = st;
    this.#version = version;
  }

  push(chunk: Uint8Array): void {
    const rest = this.#buf.length - this.#pos;
    if (rest === 0) this.#buf = chunk;
    else {
      const b = new Uint8Array(rest + chunk.length);
      b.set(this.#buf.subarray(this.#pos));
      b.set(chunk, rest);
      this.#buf = b;
    }
    this.#pos = 0;
    this.#run();
  }

  #u32(p: number): number {
    const b = this.#buf;
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  #skipName(): boolean {
    const end = this.#buf.indexOf(0, this.#pos);
    if (end < 0) {
      if (this.#buf.length - this.#pos > MAX_P2B_LABEL) {
        throw new TorrentError("BLOCKLIST_FORMAT", `p2b: a label longer than ${MAX_P2B_LABEL} bytes (not a p2b list)`);
      }
      return false;
    }
    this.#pos = end + 1;
    return true;
  }

  #range(first: number, last: number): void {
    const st = this.#st;
    st.s.lines++;
    st.s.entries++;
    st.ranges.addV4(first, last);
  }

  #run(): void {
    const b = this.#buf;
    if (this.#version !== 3) {
      for (;;) {
        const save = this.#pos;
        if (!this.#skipName()) return;
        if (b.length - this.#pos < 8) {
          this.#pos = save;
          return;
        }
        this.#range(this.#u32(this.#pos), this.#u32(this.#pos + 4));
        this.#pos += 8;
      }
    }
    for (;;) {
      switch (this.#phase) {
        case "names-count":
          if (b.length - this.#pos < 4) return;
          this.#left = this.#u32(this.#pos);
          this.#pos += 4;
          this.#phase = "names";
          break;
        case "names":
          while (this.#left > 0) {
            if (!this.#skipName()) return;
            this.#left--;
          }
          this.#phase = "ranges-count";
          break;
        case "ranges-count":
          if (b.length - this.#pos < 4) return;
          this.#left = this.#rangesDeclared = this.#u32(this.#pos);
          this.#pos += 4;
          this.#phase = "ranges";
          break;
        case "ranges":
          while (this.#left > 0) {
            if (b.length - this.#pos < 12) return;
            this.#range(this.#u32(this.#pos + 4), this.#u32(this.#pos + 8));
            this.#pos += 12;
            this.#left--;
          }
          this.#phase = "done";
          break;
        case "done":
          if (this.#pos < b.length) {
            this.#st.bad(
              this.#st.s.lines + 1,
              `${b.length - this.#pos} bytes after the ${this.#rangesDeclared} ranges`,
            );
            this.#pos = b.length;
          }
          return;
      }
    }
  }

  end(): void {
    const left = this.#buf.length - this.#pos;
    if (this.#version === 3 && this.#phase !== "done") {
      if (this.#phase === "ranges") {
        this.#st.bad(this.#st.s.lines + 1, `truncated: ${this.#left} of ${this.#rangesDeclared} ranges missing`);
      } else throw new TorrentError("BLOCKLIST_FORMAT", "p2b v3: truncated before its ranges");
    } else if (this.#version !== 3 && left > 0) {
      this.#st.bad(this.#st.s.lines + 1, `truncated record (${left} bytes)`);
    }
  }
}

// ---------------------------------------------------------------- byte plumbing

type Chunks = AsyncIterator<Uint8Array>;

/** Reads exact byte counts from a chunk iterator. */
class ByteReader {
  readonly #it: Chunks;
  #buf: Uint8Array = new Uint8Array(0);
  #pos = 0;
  constructor(it: Chunks) {
    this.#it = it;
  }
  /** Up to `n` bytes (fewer only at the end). */
  async read(n: number): Promise<Uint8Array> {
    while (this.#buf.length - this.#pos < n) {
      const r = await this.#it.next();
      if (r.done) break;
      const rest = this.#buf.subarray(this.#pos);
      const b = new Uint8Array(rest.length + r.value.length);
      b.set(rest);
      b.set(r.value, rest.length);
      this.#buf = b;
      this.#pos = 0;
    }
    const take = Math.min(n, this.#buf.length - this.#pos);
    const out = this.#buf.subarray(this.#pos, this.#pos + take);
    this.#pos += take;
    return out;
  }
  /** Exactly `n` bytes as chunks (undefined: to the end). */
  async *take(n?: number): AsyncGenerator<Uint8Array> {
    let left = n ?? Infinity;
    if (this.#pos < this.#buf.length && left > 0) {
      const c = this.#buf.subarray(this.#pos, this.#pos + Math.min(left, this.#buf.length - this.#pos));
      this.#pos += c.length;
      left -= c.length;
      yield c;
    }
    while (left > 0) {
      const r = await this.#it.next();
      if (r.done) {
        if (n !== undefined) {
          throw new TorrentError("BLOCKLIST_FORMAT", `zip: the entry is truncated (${left} bytes missing)`);
        }
        return;
      }
      if (r.value.length <= left) {
        left -= r.value.length;
        yield r.value;
      } else {
        this.#buf = r.value;
        this.#pos = left;
        const c = r.value.subarray(0, left);
        left = 0;
        yield c;
      }
    }
  }
}

/** Runs chunks through a DecompressionStream; its errors become BLOCKLIST_FORMAT. */
async function* inflate(
  src: AsyncIterable<Uint8Array>,
  format: "gzip" | "deflate-raw",
  what: string,
  onDone?: (outBytes: number) => void,
): AsyncGenerator<Uint8Array> {
  const it = src[Symbol.asyncIterator]();
  let sourceError: unknown;
  const input = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const r = await it.next();
        if (r.done) ctrl.close();
        else ctrl.enqueue(r.value);
      } catch (e) {
        sourceError = e;
        ctrl.error(e);
      }
    },
    async cancel() {
      await it.return?.();
    },
  });
  const out = input.pipeThrough(new DecompressionStream(format) as unknown as TransformStream<Uint8Array, Uint8Array>);
  const reader = out.getReader();
  let total = 0;
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        if (sourceError !== undefined) throw sourceError;
        throw new TorrentError("BLOCKLIST_FORMAT", `${what}: corrupt compressed data (${(e as Error)?.message ?? e})`, {
          cause: e,
        });
      }
      if (r.done) break;
      total += r.value.length;
      yield r.value;
    }
  } finally {
    reader.releaseLock();
    await out.cancel().catch(() => {});
  }
  onDone?.(total);
}

/** Wraps the source so that its failures are BLOCKLIST_SOURCE, counts bytes, checks abort, keeps the tail. */
async function* guarded(
  src: AsyncIterable<Uint8Array>,
  st: Stats,
  name: string,
  signal: AbortSignal | undefined,
  tail: Uint8Array,
): AsyncGenerator<Uint8Array> {
  const it = src[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (signal?.aborted) throw new TorrentError("ABORTED", `${name}: aborted`);
      let r: IteratorResult<Uint8Array>;
      try {
        r = await it.next();
      } catch (e) {
        if (e instanceof TorrentError) throw e;
        throw new TorrentError("BLOCKLIST_SOURCE", `${name}: reading failed: ${(e as Error)?.message ?? e}`, {
          cause: e,
        });
      }
      if (r.done) return;
      const c = r.value;
      if (!(c instanceof Uint8Array)) {
        throw new TorrentError("BLOCKLIST_SOURCE", `${name}: the stream gave a chunk that is not a Uint8Array`);
      }
      if (c.length === 0) continue;
      st.s.bytes += c.length;
      // Last 4 bytes seen (gzip's ISIZE trailer).
      if (c.length >= 4) tail.set(c.subarray(c.length - 4));
      else {
        tail.copyWithin(0, c.length);
        tail.set(c, 4 - c.length);
      }
      yield c;
    }
  } finally {
    await it.return?.();
  }
}

function startsWith(b: Uint8Array, magic: number[]): boolean {
  if (b.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (b[i] !== magic[i]) return false;
  return true;
}

async function* prepend(first: Uint8Array, reader: ByteReader): AsyncGenerator<Uint8Array> {
  if (first.length) yield first;
  yield* reader.take();
}

/** The first (non-directory) file of a zip archive, from its local header on. */
async function* unzip(reader: ByteReader): AsyncGenerator<Uint8Array> {
  for (;;) {
    const h = await reader.read(30);
    if (h.length < 30 || !startsWith(h, [0x50, 0x4b, 0x03, 0x04])) {
      throw new TorrentError("BLOCKLIST_FORMAT", "zip: no file entry in the archive");
    }
    const dv = new DataView(h.buffer, h.byteOffset, 30);
    const flags = dv.getUint16(6, true), method = dv.getUint16(8, true);
    let csize = dv.getUint32(18, true), usize = dv.getUint32(22, true);
    const nlen = dv.getUint16(26, true), xlen = dv.getUint16(28, true);
    const name = await reader.read(nlen);
    const extra = await reader.read(xlen);
    if (name.length < nlen || extra.length < xlen) throw new TorrentError("BLOCKLIST_FORMAT", "zip: truncated header");
    if (flags & 1) throw new TorrentError("BLOCKLIST_FORMAT", "zip: the entry is encrypted");
    if (csize === 0xffffffff || usize === 0xffffffff) {
      // Zip64: sizes in the extra field 0x0001 (uncompressed, then compressed).
      const xv = new DataView(extra.buffer, extra.byteOffset, extra.length);
      for (let p = 0; p + 4 <= extra.length;) {
        const id = xv.getUint16(p, true), len = xv.getUint16(p + 2, true);
        if (id === 1 && len >= 16 && p + 4 + len <= extra.length) {
          usize = Number(xv.getBigUint64(p + 4, true));
          csize = Number(xv.getBigUint64(p + 12, true));
        }
        p += 4 + len;
      }
    }
    if ((flags & 8) && csize === 0) {
      throw new TorrentError(
        "BLOCKLIST_FORMAT",
        "zip: the entry's size is only in a trailing data descriptor (a streamed zip); recompress it or use gzip",
      );
    }
    const fileName = new TextDecoder().decode(name);
    if (fileName.endsWith("/") && csize === 0) continue; // a directory entry
    if (method === 0) {
      yield* reader.take(csize);
      return;
    }
    if (method !== 8) {
      throw new TorrentError(
        "BLOCKLIST_FORMAT",
        `zip: compression method ${method} is not supported (stored, deflate)`,
      );
    }
    yield* inflate(reader.take(csize), "deflate-raw", "zip", (n) => {
      if (n !== usize) {
        throw new TorrentError("BLOCKLIST_FORMAT", `zip: ${fileName} inflated to ${n} bytes, its header says ${usize}`);
      }
    });
    return;
  }
}

/**
 * Parses a blocklist from chunks. Throws BLOCKLIST_FORMAT when the data is
 * not a blocklist at all (binary data that is not gzip/zip/p2b, corrupt
 * compression, or not a single readable line among malformed ones),
 * BLOCKLIST_SOURCE when reading fails, ABORTED when `signal` fires.
 * @internal
 */
export async function parseChunks(
  src: AsyncIterable<Uint8Array>,
  options: ParseOptions = {},
): Promise<{ stats: ParseStats; set: RangeSet }> {
  const name = options.name ?? "blocklist";
  const st = new Stats(options.maxMalformedSamples ?? 5);
  const tail = new Uint8Array(4);
  const raw = new ByteReader(guarded(src, st, name, options.signal, tail)[Symbol.asyncIterator]());
  const head = await raw.read(8);
  let body: AsyncIterable<Uint8Array>;
  if (startsWith(head, [0x1f, 0x8b])) {
    st.s.compression = "gzip";
    body = inflate(prepend(head, raw), "gzip", "gzip", (n) => {
      const isize = (tail[0] | (tail[1] << 8) | (tail[2] << 16) | (tail[3] << 24)) >>> 0;
      if (isize !== n % 2 ** 32) {
        throw new TorrentError("BLOCKLIST_FORMAT", `gzip: truncated (${n} bytes inflated, the trailer says ${isize})`);
      }
    });
  } else if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) {
    st.s.compression = "zip";
    body = unzip(new ByteReader(prepend(head, raw)));
  } else body = prepend(head, raw);

  const inner = new ByteReader(body[Symbol.asyncIterator]());
  const first = await inner.read(8);
  if (startsWith(first, P2B_MAGIC)) {
    const v = first[7];
    if (v !== 1 && v !== 2 && v !== 3) throw new TorrentError("BLOCKLIST_FORMAT", `p2b: unknown version ${v}`);
    st.s.format = "p2b";
    st.s.p2bVersion = v;
    const p = new P2bParser(st, v);
    for await (const c of inner.take()) p.push(c);
    p.end();
  } else {
    const t = new TextParser(st);
    let probe = 4096;
    const look = (c: Uint8Array) => {
      if (probe <= 0) return;
      const n = Math.min(probe, c.length);
      if (c.subarray(0, n).indexOf(0) >= 0) {
        throw new TorrentError(
          "BLOCKLIST_FORMAT",
          `${name}: binary data that is neither gzip, zip nor p2b (a NUL byte in the first 4 KiB): not a blocklist`,
        );
      }
      probe -= n;
    };
    look(first);
    t.push(first);
    for await (const c of inner.take()) {
      look(c);
      t.push(c);
    }
    t.end();
  }
  if (st.s.entries === 0 && st.s.allowed === 0 && st.s.malformed > 0) {
    const q = st.s.malformedLines[0];
    throw new TorrentError(
      "BLOCKLIST_FORMAT",
      `${name}: not a blocklist: none of its ${st.s.malformed} non-comment lines is a range, address or CIDR` +
        (q ? ` (line ${q.line}: ${JSON.stringify(q.text.slice(0, 80))})` : ""),
    );
  }
  st.s.reversed = st.ranges.reversed;
  return { stats: st.s, set: st.ranges.finish() };
}
