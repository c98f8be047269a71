// The native library as src/ sees it: loaded once, with the event schema
// read from the shim, scratch buffers, and the status-code → TorrentError
// conversion. Internal: not exported from mod.ts.
import { LibraryLoadError, loadNative } from "../ffi/loader.ts";
import type { NativeLib, NativeSymbols } from "../ffi/symbols.ts";
import { bdecode, type BDecoded } from "./bencode.ts";
import { type ErrorCode, NATIVE_CODES, TorrentError } from "./errors.ts";

/** Field names of one alert type's record, from btx_event_schema(). */
export interface RecordSchema {
  name: string;
  nums: string[];
  strs: string[];
  /** Per string field: STR_TEXT, STR_BYTES ("x:bytes" in the schema) or STR_LIST ("x:list"). */
  kinds: number[];
  /**
   * Makes the event object with every field in one literal (one hidden
   * class per type, so the decoder's stores stay monomorphic): type,
   * message, torrent, the numbers from f64[base…], the strings as "".
   */
  make: (message: string, torrent: unknown, f64: Float64Array, base: number) => Record<string, unknown>;
}

/** A string field decoded as UTF-8 text. */
export const STR_TEXT = 0;
/** A string field of raw bytes, decoded as a Uint8Array. */
export const STR_BYTES = 1;
/** A comma-separated list, decoded as string[]. */
export const STR_LIST = 2;

export interface Native {
  lib: NativeLib;
  sym: NativeSymbols;
  /** Indexed by libtorrent alert type id. */
  schema: RecordSchema[];
}

const BTX_E_BUFFER_TOO_SMALL = 8;
const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

/** Scratch out-parameters; JavaScript is single-threaded, calls are sync. */
export const out32 = new Uint32Array(4);
let textBuf = new Uint8Array(4096);

let loading: Promise<Native> | undefined;

/** The process-wide native library, loaded on first use. */
export function getNative(): Promise<Native> {
  loading ??= load().catch((e) => {
    loading = undefined;
    if (e instanceof LibraryLoadError) throw new TorrentError(e.code, e.message, { cause: e });
    throw e;
  });
  return loading;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A per-type event factory (see RecordSchema.make); generic when a name is odd. */
function compileMake(rec: RecordSchema): RecordSchema["make"] {
  const names = [...rec.nums, ...rec.strs];
  if (!IDENT.test(rec.name.replace(/^alert_/, "a")) || !names.every((n) => IDENT.test(n))) {
    return (message, torrent) => ({ type: rec.name, message, torrent });
  }
  if (new Set(["type", "message", "torrent", ...names]).size !== names.length + 3) {
    return (message, torrent) => ({ type: rec.name, message, torrent });
  }
  const body = [
    `return { type: ${JSON.stringify(rec.name)}, message: message, torrent: torrent`,
    ...rec.nums.map((n, i) => `, ${n}: f64[base + ${i}]`),
    ...rec.strs.map((n) => `, ${n}: ""`),
    " };",
  ].join("");
  return new Function("message", "torrent", "f64", "base", body) as RecordSchema["make"];
}

async function load(): Promise<Native> {
  const lib = await loadNative();
  const sym = lib.symbols;
  check(sym, sym.btx_alert_type_count(out32));
  const count = out32[0];
  const schema: RecordSchema[] = [];
  for (let i = 0; i < count; i++) {
    schema.push({
      name: readText(sym, (b, c, o) => sym.btx_alert_name(i, b, c, o)) || `alert_${i}`,
      nums: [],
      strs: [],
      kinds: [],
      make: () => ({}),
    });
  }
  const fields = bdecode(utf8Encoder.encode(readText(sym, (b, c, o) => sym.btx_event_schema(b, c, o)))) as Record<
    string,
    BDecoded
  >;
  for (const rec of schema) {
    const f = fields[rec.name] as [Uint8Array[], Uint8Array[]] | undefined;
    if (!f) {
      rec.make = compileMake(rec);
      continue;
    }
    rec.nums = f[0].map((x) => utf8Decoder.decode(x));
    const names = f[1].map((x) => utf8Decoder.decode(x));
    rec.kinds = names.map((n) => n.endsWith(":bytes") ? STR_BYTES : n.endsWith(":list") ? STR_LIST : STR_TEXT);
    rec.strs = names.map((n) => n.replace(/:(bytes|list)$/, ""));
    rec.make = compileMake(rec);
  }
  return { lib, sym, schema };
}

/** Calls a btx function that writes text (buf, cap, out_len), growing the buffer as needed. */
export function readText(
  sym: NativeSymbols,
  call: (buf: Uint8Array, cap: number, outLen: Uint32Array) => number,
): string {
  const len = new Uint32Array(1);
  let rc = call(textBuf, textBuf.length, len);
  if (rc === BTX_E_BUFFER_TOO_SMALL) {
    textBuf = new Uint8Array(Math.max(len[0], textBuf.length * 2));
    rc = call(textBuf, textBuf.length, len);
  }
  check(sym, rc);
  return utf8Decoder.decode(textBuf.subarray(0, len[0]));
}

/** The error text the shim kept for `session` (0: for this thread). */
export function lastError(sym: NativeSymbols, session = 0): string {
  const len = new Uint32Array(1);
  const buf = new Uint8Array(2048);
  if (sym.btx_last_error(session, buf, buf.length, len) !== 0) return "";
  return utf8Decoder.decode(buf.subarray(0, Math.min(len[0], buf.length)));
}

/** Maps a native status code to its string code. */
export function codeOf(rc: number): ErrorCode {
  const c = NATIVE_CODES[rc];
  return c && c !== "OK" ? c : "INTERNAL";
}

/** Throws a TorrentError for a non-zero status, with the shim's error text. */
export function check(sym: NativeSymbols, rc: number, session = 0, context?: string): void {
  if (rc === 0) return;
  const text = lastError(sym, session) || `native status ${rc}`;
  throw new TorrentError(codeOf(rc), context ? `${context}: ${text}` : text);
}

/** Copies a blob out of the shim (and frees it there). */
export function takeBlob(sym: NativeSymbols, blob: number, size: number): Uint8Array {
  const buf = new Uint8Array(size);
  check(sym, sym.btx_blob_take(blob, buf, size));
  return buf;
}

/** UTF-8 → string, with a fast path for short ASCII (most event strings). */
export function utf8(buf: Uint8Array, off: number, len: number): string {
  if (len === 0) return "";
  if (len <= 32) {
    let ascii = true;
    for (let i = off; i < off + len; i++) {
      if (buf[i] > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, buf.subarray(off, off + len) as unknown as number[]);
  }
  return utf8Decoder.decode(buf.subarray(off, off + len));
}

/** string → UTF-8 bytes. */
export function bytes(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

const HEX_DIGITS = Array.from("0123456789abcdef", (c) => c.charCodeAt(0));
const hexCodes: number[] = [];

/**
 * Bytes → lowercase hex, as one flat string (concatenating two-character
 * pieces would leave a rope of small strings behind every info-hash).
 */
export function hex(b: Uint8Array, off = 0, len = b.length - off): string {
  if (len > 256) {
    let s = "";
    for (let i = 0; i < len; i += 256) s += hex(b, off + i, Math.min(256, len - i));
    return s;
  }
  const c = hexCodes;
  c.length = 2 * len;
  for (let i = 0; i < len; i++) {
    const x = b[off + i];
    c[2 * i] = HEX_DIGITS[x >> 4];
    c[2 * i + 1] = HEX_DIGITS[x & 15];
  }
  return String.fromCharCode.apply(null, c);
}
