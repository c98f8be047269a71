// BEP 46 channel addresses, target ids, item values and the release feed:
// pure functions, no session. Internal to plugins/channels (re-exported by
// its mod.ts where public).
import { createHash } from "node:crypto";
import { bdecode, bencode, type BValue, TorrentError } from "../../mod.ts";

/** BEP 44: a salt is at most 64 bytes. */
export const MAX_SALT = 64;
/** BEP 44: a value is at most 1000 bytes bencoded. */
export const MAX_VALUE = 1000;
/** Longest release name kept in a feed entry, in bytes (cut at a character boundary). */
export const MAX_NAME = 64;

const enc = new TextEncoder();
const HEX = /^[0-9a-fA-F]*$/;

/** Lower-case hex of `b`. */
export function toHex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** Bytes of an even-length hex string (validated by the caller). */
export function fromHex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A salt as bytes (a string is UTF-8 encoded); INVALID_ARGUMENT when not a string/bytes or over 64 bytes. */
export function saltBytes(salt: unknown, where: string): Uint8Array {
  if (salt === undefined) return new Uint8Array(0);
  const b = typeof salt === "string" ? enc.encode(salt) : salt instanceof Uint8Array ? salt : undefined;
  if (!b) throw new TorrentError("INVALID_ARGUMENT", `${where}: salt must be a string or a Uint8Array`);
  if (b.length > MAX_SALT) {
    throw new TorrentError(
      "INVALID_ARGUMENT",
      `${where}: salt is ${b.length} bytes; BEP 44 allows at most ${MAX_SALT}`,
    );
  }
  return b;
}

/** SHA-1(publicKey + salt), 40 hex characters: where the item lives on the DHT (BEP 44/46). */
export function targetOf(publicKey: Uint8Array, salt: Uint8Array): string {
  return createHash("sha1").update(publicKey).update(salt).digest("hex");
}

/**
 * Salt of a channel's release feed: SHA-1("torrentxt-channel-feed:" + salt),
 * 20 bytes — any channel salt (up to 64 bytes) maps to a feed salt that fits.
 */
export function feedSaltOf(salt: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha1").update("torrentxt-channel-feed:").update(salt).digest());
}

/** The parts of a BEP 46 address. */
export interface ParsedAddress {
  publicKey: Uint8Array;
  salt: Uint8Array;
  name?: string;
}

function bad(address: string, why: string): TorrentError {
  const shown = address.length > 120 ? address.slice(0, 120) + "…" : address;
  return new TorrentError("INVALID_CHANNEL_ADDRESS", `not a BEP 46 channel address (${why}): ${JSON.stringify(shown)}`);
}

/**
 * Parses `magnet:?xs=urn:btpk:<64 hex>[&s=<hex salt>][&dn=…]`. Parameters
 * may come in any order; unknown ones are ignored; exactly one `xs` with
 * `urn:btpk:` and at most one `s`.
 */
export function parseAddress(address: unknown): ParsedAddress {
  if (typeof address !== "string") {
    throw new TorrentError("INVALID_CHANNEL_ADDRESS", "a channel address must be a string");
  }
  if (address.length > 4096) throw bad(address, "longer than 4096 characters");
  const m = /^magnet:\?(.*)$/i.exec(address);
  if (!m) throw bad(address, 'it must start with "magnet:?"');
  let pk: Uint8Array | undefined, salt: Uint8Array | undefined, name: string | undefined;
  for (const part of m[1].split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const key = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    let value: string;
    try {
      value = decodeURIComponent((eq < 0 ? "" : part.slice(eq + 1)).replace(/\+/g, " "));
    } catch {
      throw bad(address, `parameter ${key} is not valid percent-encoding`);
    }
    if (key === "xs") {
      const x = /^urn:btpk:([0-9a-fA-F]*)$/i.exec(value);
      if (!x) continue; // another exact source (a URL): not ours
      if (pk) throw bad(address, "more than one xs=urn:btpk");
      if (x[1].length !== 64) throw bad(address, `the public key must be 64 hex characters, got ${x[1].length}`);
      pk = fromHex(x[1]);
    } else if (key === "s") {
      if (salt) throw bad(address, "more than one s parameter");
      if (!HEX.test(value) || value.length % 2) throw bad(address, "the salt (s) must be an even number of hex digits");
      if (value.length > 2 * MAX_SALT) throw bad(address, `the salt is over ${MAX_SALT} bytes`);
      salt = fromHex(value);
    } else if (key === "dn") {
      name = value;
    } else if (key === "xt" && /^urn:bti[hm]:/i.test(value)) {
      throw bad(address, "it is a torrent magnet (xt=urn:btih), not a channel (xs=urn:btpk)");
    }
  }
  if (!pk) throw bad(address, "no xs=urn:btpk:<public key>");
  return { publicKey: pk, salt: salt ?? new Uint8Array(0), ...(name !== undefined ? { name } : {}) };
}

/** `magnet:?xs=urn:btpk:<hex>[&s=<hex>][&dn=<name>]`. */
export function formatAddress(publicKey: Uint8Array, salt: Uint8Array, name?: string): string {
  let a = `magnet:?xs=urn:btpk:${toHex(publicKey)}`;
  if (salt.length) a += `&s=${toHex(salt)}`;
  if (name) a += `&dn=${encodeURIComponent(name)}`;
  return a;
}

/** The info-hash (40 hex) of a BEP 46 value `{ ih: <20 bytes> }`; CHANNEL_BAD_VALUE otherwise. */
export function infoHashOfValue(value: unknown): string {
  const v = value as Record<string, unknown> | null;
  if (v === null || typeof v !== "object" || v instanceof Uint8Array || Array.isArray(v)) {
    throw new TorrentError("CHANNEL_BAD_VALUE", "a channel item must be a dictionary { ih: <20-byte info-hash> }");
  }
  const ih = v.ih;
  if (!(ih instanceof Uint8Array) || ih.length !== 20) {
    throw new TorrentError(
      "CHANNEL_BAD_VALUE",
      `a channel item's "ih" must be a 20-byte info-hash, got ${
        ih instanceof Uint8Array ? `${ih.length} bytes` : typeof ih
      }`,
    );
  }
  return toHex(ih);
}

/** One release in a channel's feed (newest first). */
export interface FeedEntry {
  /** v1 info-hash, 40 hex characters. */
  infoHash: string;
  /** The channel sequence number it was published under. */
  seq: number;
  /** Display name (at most 64 bytes of UTF-8). "" when none. */
  name: string;
  /** Publication time, Unix seconds. */
  time: number;
}

/** Cuts `s` to at most `max` UTF-8 bytes at a character boundary. */
export function cutUtf8(s: string, max: number): string {
  if (enc.encode(s).length <= max) return s;
  let out = "";
  let n = 0;
  for (const ch of s) {
    const w = enc.encode(ch).length;
    if (n + w > max) break;
    out += ch;
    n += w;
  }
  return out;
}

function entryValue(e: FeedEntry): BValue {
  return { ih: fromHex(e.infoHash), n: e.name, s: e.seq, t: e.time };
}

/**
 * The feed value `{ r: [ { ih, n, s, t }, … ] }`, newest first: at most
 * `max` entries, the oldest dropped until it fits in 1000 bytes.
 */
export function encodeFeed(entries: FeedEntry[], max: number): { value: BValue; kept: FeedEntry[] } {
  let kept = entries.slice(0, max);
  for (;;) {
    const value: BValue = { r: kept.map(entryValue) };
    if (bencode(value).length <= MAX_VALUE || kept.length === 0) return { value, kept };
    kept = kept.slice(0, -1);
  }
}

/** Decodes a feed value; CHANNEL_BAD_VALUE when it is not one. */
export function decodeFeed(value: unknown): FeedEntry[] {
  const r = (value as Record<string, unknown> | null)?.r;
  if (!Array.isArray(r)) throw new TorrentError("CHANNEL_BAD_VALUE", "a channel feed must be { r: [ … ] }");
  const dec = new TextDecoder("utf-8", { fatal: false });
  return r.map((x, i) => {
    const e = x as Record<string, unknown>;
    if (
      e === null || typeof e !== "object" || !(e.ih instanceof Uint8Array) || e.ih.length !== 20 ||
      typeof e.s !== "number" || typeof e.t !== "number" || (e.n !== undefined && !(e.n instanceof Uint8Array))
    ) {
      throw new TorrentError("CHANNEL_BAD_VALUE", `channel feed entry ${i} is not { ih: <20 bytes>, n, s, t }`);
    }
    return { infoHash: toHex(e.ih), seq: e.s, name: e.n ? dec.decode(e.n as Uint8Array) : "", time: e.t };
  });
}

/** bdecode that turns malformed bytes into CHANNEL_BAD_VALUE. */
export function decodeValue(bytes: Uint8Array): unknown {
  try {
    return bdecode(bytes);
  } catch (e) {
    throw new TorrentError("CHANNEL_BAD_VALUE", `not bencoded: ${(e as Error).message}`, { cause: e });
  }
}
