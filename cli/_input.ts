/**
 * What the user asked to download or inspect: a magnet link, a .torrent
 * file, an http(s) URL of one, or a bare info-hash; and the key its resume
 * file is named by.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { AddOptions } from "../mod.ts";
import { UsageError } from "./_args.ts";

/** The largest .torrent the CLI reads (the engine's own limit). */
export const MAX_TORRENT_BYTES = 10 * 1024 * 1024;

/** A resolved input: how to add it, and (when it can be known before adding) its info-hash key. */
export interface Source {
  /** What `session.add()` gets (without savePath). */
  add: Pick<AddOptions, "magnet" | "torrent" | "infoHash">;
  /** The v1 info-hash (else v2), lowercase hex, when known from the input itself. */
  key: string | undefined;
  /** The .torrent bytes, when the input was one. */
  torrent?: Uint8Array;
  /** How the input was read: "magnet" | "file" | "url" | "info-hash". */
  kind: "magnet" | "file" | "url" | "info-hash";
}

const HASH = /^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/;

/** Reads `input` (fetching a URL) into a {@link Source}. Bad input is a UsageError. */
export async function resolveInput(input: string): Promise<Source> {
  if (input.startsWith("magnet:")) {
    return { kind: "magnet", add: { magnet: input }, key: magnetKey(input) };
  }
  if (HASH.test(input)) {
    const h = input.toLowerCase();
    return { kind: "info-hash", add: { infoHash: h }, key: h };
  }
  if (/^https?:\/\//i.test(input)) {
    let res: Response;
    try {
      res = await fetch(input, { signal: AbortSignal.timeout(30_000) });
    } catch (e) {
      throw new FetchError(`could not fetch ${input}: ${(e as Error).message}`);
    }
    if (!res.ok) throw new FetchError(`could not fetch ${input}: HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > MAX_TORRENT_BYTES) throw new UsageError(`${input}: larger than 10 MB; not a .torrent`);
    return { kind: "url", add: { torrent: bytes }, key: torrentKey(bytes), torrent: bytes };
  }
  let size: number;
  try {
    const st = statSync(input);
    if (!st.isFile()) {
      throw new UsageError(`${input}: not a file (give a .torrent file, magnet link, URL or info-hash)`);
    }
    size = st.size;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(
      `${input}: no such file, and not a magnet link, http(s) URL or info-hash (40 or 64 hex characters)`,
    );
  }
  if (size > MAX_TORRENT_BYTES) throw new UsageError(`${input}: larger than 10 MB; not a .torrent`);
  const bytes = new Uint8Array(readFileSync(input));
  return { kind: "file", add: { torrent: bytes }, key: torrentKey(bytes), torrent: bytes };
}

/** A URL could not be fetched: a network error (exit code 1), not a usage error. */
export class FetchError extends Error {
  override name = "FetchError";
}

const B32 = "abcdefghijklmnopqrstuvwxyz234567";

function base32ToHex(s: string): string | undefined {
  let bits = 0, value = 0, out = "";
  for (const c of s.toLowerCase()) {
    const v = B32.indexOf(c);
    if (v < 0) return undefined;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out += ((value >> bits) & 0xff).toString(16).padStart(2, "0");
    }
  }
  return out.length === 40 ? out : undefined;
}

/** The v1 info-hash of a magnet (hex or base32 btih), else its v2 (btmh 1220…), lowercase hex. */
export function magnetKey(magnet: string): string | undefined {
  let v2: string | undefined;
  for (const part of magnet.slice(magnet.indexOf("?") + 1).split("&")) {
    const [k, v = ""] = part.split("=");
    if (!/^xt(\.\d+)?$/.test(k)) continue;
    const xt = decodeURIComponent(v);
    let m = /^urn:btih:([0-9a-fA-F]{40})$/.exec(xt);
    if (m) return m[1].toLowerCase();
    m = /^urn:btih:([A-Za-z2-7]{32})$/.exec(xt);
    if (m) return base32ToHex(m[1]);
    m = /^urn:btmh:1220([0-9a-fA-F]{64})$/.exec(xt);
    if (m) v2 = m[1].toLowerCase();
  }
  return v2;
}

/**
 * The info-hash of a .torrent's bytes: SHA-1 of the bencoded info
 * dictionary when it has v1 `pieces`, else its SHA-256 (v2-only). Undefined
 * when the bytes do not parse (the engine then reports why).
 */
export function torrentKey(bytes: Uint8Array): string | undefined {
  try {
    const span = infoSpan(bytes);
    if (!span) return undefined;
    const info = bytes.subarray(span[0], span[1]);
    const hasV1 = findKey(bytes, span[0], "pieces");
    return createHash(hasV1 ? "sha1" : "sha256").update(info).digest("hex");
  } catch {
    return undefined;
  }
}

/** End offset of the bencoded value at `i`. */
function skip(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c === 0x69 /* i */) {
    const e = b.indexOf(0x65, i);
    if (e < 0) throw new Error("bad int");
    return e + 1;
  }
  if (c === 0x6c /* l */ || c === 0x64 /* d */) {
    i++;
    while (b[i] !== 0x65) {
      if (i >= b.length) throw new Error("unterminated");
      i = skip(b, i);
    }
    return i + 1;
  }
  if (c >= 0x30 && c <= 0x39) {
    const colon = b.indexOf(0x3a, i);
    if (colon < 0) throw new Error("bad string");
    const len = Number(new TextDecoder().decode(b.subarray(i, colon)));
    if (!Number.isSafeInteger(len) || colon + 1 + len > b.length) throw new Error("bad length");
    return colon + 1 + len;
  }
  throw new Error("bad value");
}

function keyAt(b: Uint8Array, i: number): [string, number] {
  const end = skip(b, i);
  const colon = b.indexOf(0x3a, i);
  return [new TextDecoder().decode(b.subarray(colon + 1, end)), end];
}

/** [start, end) of the top-level "info" value. */
function infoSpan(b: Uint8Array): [number, number] | undefined {
  if (b[0] !== 0x64) return undefined;
  let i = 1;
  while (i < b.length && b[i] !== 0x65) {
    const [k, vStart] = keyAt(b, i);
    const vEnd = skip(b, vStart);
    if (k === "info" && b[vStart] === 0x64) return [vStart, vEnd];
    i = vEnd;
  }
  return undefined;
}

/** True when the dictionary at `start` has `key`. */
function findKey(b: Uint8Array, start: number, key: string): boolean {
  let i = start + 1;
  while (i < b.length && b[i] !== 0x65) {
    const [k, vStart] = keyAt(b, i);
    if (k === key) return true;
    i = skip(b, vStart);
  }
  return false;
}
