/**
 * The IP filter of a session: ranges of IPv4 / IPv6 addresses allowed or
 * blocked for peers (and, in libtorrent, trackers and DHT nodes).
 *
 * On an isolated session (`profile: "isolated"`) the loopback-only rules
 * always stay on top of the user's rules: every address outside 127.0.0.0/8
 * and ::1 is blocked whatever the user allows; inside loopback the user's
 * rules apply. So `allow` can never re-open the network, and `clear()`
 * returns to loopback-only, not to "everything allowed".
 *
 * @module
 */
import { z } from "zod";
import type { SessionCore } from "./_core.ts";
import { bytes, out32, takeBlob } from "./_native.ts";
import { parse } from "./_validate.ts";
import { TorrentError } from "./errors.ts";

/** What the filter does with an address. */
export type IpAccess = "allow" | "block";

/** A range of addresses, both ends included, of one family. */
export interface IpRange {
  /** First address of the range (IPv4 dotted quad or IPv6 text). */
  first: string;
  /** Last address (same family, not before `first`). Default: `first` alone. */
  last?: string;
  /** Default `"block"`. */
  access?: IpAccess;
}

/** A range as exported: every field present. */
export interface IpRangeRecord {
  /** First address of the range. */
  first: string;
  /** Last address of the range. */
  last: string;
  /** What the filter does with addresses in it. */
  access: IpAccess;
}

/**
 * Bytes per record of the packed form that {@link IpFilter.addPacked}
 * takes and {@link packIpRanges} makes: `u8 family (4|6), u8 access (0 allow,
 * 1 block), u8 first[16], u8 last[16]`, addresses in network byte order, an
 * IPv4 address in the first 4 bytes with the other 12 zero.
 */
export const IP_RANGE_RECORD_SIZE = 34;

/** A parsed numeric address: family and 16 bytes (IPv4 in the first 4). */
export interface ParsedIp {
  family: 4 | 6;
  bytes: Uint8Array;
}

const V4 =
  /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses a numeric IPv4 or IPv6 address (no names, no zone); null when malformed. @internal */
export function parseIp(text: string, into = new Uint8Array(16)): ParsedIp | null {
  const m = V4.exec(text);
  if (m) {
    into.fill(0);
    for (let i = 0; i < 4; i++) into[i] = Number(m[i + 1]);
    return { family: 4, bytes: into };
  }
  if (text.length < 2 || text.length > 45 || !text.includes(":")) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = V4.exec(p);
        if (!v4) return null;
        out.push((Number(v4[1]) << 8) | Number(v4[2]), (Number(v4[3]) << 8) | Number(v4[4]));
      } else {
        if (!HEX_GROUP.test(p)) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  const total = head.length + tail.length;
  if (halves.length === 2 ? total > 7 : total !== 8) return null;
  const all = [...head, ...new Array(8 - total).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    into[2 * i] = all[i] >> 8;
    into[2 * i + 1] = all[i] & 0xff;
  }
  return { family: 6, bytes: into };
}

/** Formats 16 address bytes of `family` as text (IPv6 per RFC 5952). @internal */
export function formatIp(family: 4 | 6, b: Uint8Array, off = 0): string {
  if (family === 4) return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  // IPv4-mapped: ::ffff:a.b.c.d
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
  }
  let bestAt = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

function compare16(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

const RangeSchema = z.object({
  first: z.string().min(1),
  last: z.string().min(1).optional(),
  access: z.enum(["allow", "block"]).optional(),
}).strict();
const RangesSchema = z.union([RangeSchema, z.array(RangeSchema)]);

/**
 * Packs ranges into the binary form of {@link IpFilter.addPacked}
 * ({@link IP_RANGE_RECORD_SIZE} bytes each), validating each one.
 *
 * @throws TorrentError INVALID_ARGUMENT for a malformed address, a range
 * mixing IPv4 and IPv6, or a reversed range (first after last), naming the
 * range's index.
 *
 * @example Pack a blocklist once, add it in one call
 * ```ts
 * import { packIpRanges } from "./mod.ts";
 * const packed = packIpRanges([{ first: "10.0.0.0", last: "10.255.255.255" }, { first: "::1" , access: "allow" }]);
 * console.log(packed.length); // 68
 * ```
 */
export function packIpRanges(ranges: readonly IpRange[]): Uint8Array {
  const out = new Uint8Array(ranges.length * IP_RANGE_RECORD_SIZE);
  const a = new Uint8Array(16), b = new Uint8Array(16);
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i];
    const bad = (why: string): never => {
      throw new TorrentError("INVALID_ARGUMENT", `IP range ${i}: ${why}`);
    };
    if (typeof r !== "object" || r === null || typeof r.first !== "string") bad("first must be an address string");
    const last = r.last ?? r.first;
    if (typeof last !== "string") bad("last must be an address string");
    const access = r.access ?? "block";
    if (access !== "allow" && access !== "block") bad(`access must be "allow" or "block"`);
    const x = parseIp(r.first, a);
    if (!x) bad(`"${r.first}" is not a numeric IPv4 or IPv6 address`);
    const xf = x!.family;
    const y = parseIp(last, b);
    if (!y) bad(`"${last}" is not a numeric IPv4 or IPv6 address`);
    if (xf !== y!.family) bad(`"${r.first}" and "${last}" are of different families (IPv4 and IPv6)`);
    if (compare16(a, b) > 0) bad(`first "${r.first}" is after last "${last}" (reversed range)`);
    const off = i * IP_RANGE_RECORD_SIZE;
    out[off] = xf;
    out[off + 1] = access === "block" ? 1 : 0;
    out.set(a, off + 2);
    out.set(b, off + 18);
  }
  return out;
}

/** Unpacks records of the packed form. @internal */
export function unpackIpRanges(buf: Uint8Array): IpRangeRecord[] {
  const out: IpRangeRecord[] = [];
  for (let off = 0; off + IP_RANGE_RECORD_SIZE <= buf.length; off += IP_RANGE_RECORD_SIZE) {
    const family = buf[off] === 4 ? 4 : 6;
    out.push({
      first: formatIp(family, buf, off + 2),
      last: formatIp(family, buf, off + 18),
      access: buf[off + 1] ? "block" : "allow",
    });
  }
  return out;
}

const BTX_IP_FILTER_IN_FORCE = 0;
const BTX_IP_FILTER_USER = 1;

/**
 * A session's IP filter: `session.ipFilter`. A later rule overrides earlier
 * ones where they overlap. Every change is all or nothing: one bad range
 * and no rule of the call is applied.
 *
 * @example Block a range, allow one address inside it
 * ```ts
 * import { Session } from "./mod.ts";
 * await using session = await Session.open({ profile: "isolated" });
 * session.ipFilter.add([
 *   { first: "127.0.0.2", last: "127.0.0.9", access: "block" },
 *   { first: "127.0.0.5", access: "allow" },
 * ]);
 * console.log(session.ipFilter.access("127.0.0.3")); // "block"
 * ```
 */
export class IpFilter {
  readonly #core: SessionCore;

  /** @internal Made by `session.ipFilter`. */
  constructor(core: SessionCore) {
    this.#core = core;
  }

  /**
   * Adds one range or many (`access` defaults to `"block"`).
   * @throws TorrentError INVALID_ARGUMENT (malformed address, mixed
   * families, reversed range), SESSION_CLOSED
   */
  add(ranges: IpRange | readonly IpRange[]): void {
    this.#core.ensureOpen();
    const r = parse(RangesSchema, ranges, "ipFilter.add");
    this.addPacked(packIpRanges(Array.isArray(r) ? r : [r]));
  }

  /**
   * Adds ranges given in the packed binary form ({@link IP_RANGE_RECORD_SIZE}
   * bytes per record; see {@link packIpRanges}) in one native call — the
   * path for large blocklists. The shim validates every record first.
   * @throws TorrentError INVALID_ARGUMENT (length not a multiple of 34, bad
   * family or access, reversed range), SESSION_CLOSED
   */
  addPacked(records: Uint8Array): void {
    this.#core.ensureOpen();
    if (!(records instanceof Uint8Array)) {
      throw new TorrentError("INVALID_ARGUMENT", "ipFilter.addPacked: records must be a Uint8Array");
    }
    if (records.length % IP_RANGE_RECORD_SIZE !== 0) {
      throw new TorrentError(
        "INVALID_ARGUMENT",
        `ipFilter.addPacked: ${records.length} bytes is not a multiple of ${IP_RANGE_RECORD_SIZE}`,
      );
    }
    if (records.length === 0) return;
    this.#core.check(
      this.#core.native.sym.btx_ip_filter_add(this.#core.handle, records, records.length),
      "ipFilter.addPacked",
    );
  }

  /** Removes every user rule (an isolated session stays loopback-only). */
  clear(): void {
    this.#core.ensureOpen();
    this.#core.check(this.#core.native.sym.btx_ip_filter_clear(this.#core.handle), "ipFilter.clear");
  }

  /**
   * The filter as ranges covering the whole IPv4 space, then the whole IPv6
   * space (adjacent ranges of equal access merged). By default what is in
   * force (on an isolated session: the loopback guard included); with
   * `{ userOnly: true }` the user's rules alone.
   */
  export(options: { userOnly?: boolean } = {}): IpRangeRecord[] {
    this.#core.ensureOpen();
    const o = parse(z.object({ userOnly: z.boolean().optional() }).strict(), options, "ipFilter.export");
    const size = new Uint32Array(1);
    this.#core.check(
      this.#core.native.sym.btx_ip_filter_export(
        this.#core.handle,
        o.userOnly ? BTX_IP_FILTER_USER : BTX_IP_FILTER_IN_FORCE,
        out32,
        size,
      ),
      "ipFilter.export",
    );
    return unpackIpRanges(takeBlob(this.#core.native.sym, out32[0], size[0]));
  }

  /**
   * What the filter in force does with `address` (numeric IPv4 or IPv6).
   * @throws TorrentError INVALID_ARGUMENT, SESSION_CLOSED
   */
  access(address: string): IpAccess {
    this.#core.ensureOpen();
    if (typeof address !== "string" || !parseIp(address)) {
      throw new TorrentError("INVALID_ARGUMENT", `ipFilter.access: "${address}" is not a numeric IP address`);
    }
    const h = bytes(address);
    this.#core.check(
      this.#core.native.sym.btx_ip_filter_access(this.#core.handle, h, h.length, out32),
      "ipFilter.access",
    );
    return out32[0] ? "block" : "allow";
  }
}
