/**
 * Address ranges of a blocklist: a growable collector, sorting + merging
 * (overlapping and adjacent ranges per family), set operations between
 * merged sets, and the packed form of `ipFilter.addPacked`.
 *
 * IPv4 addresses are numbers (0 … 2³²−1), IPv6 addresses bigints. A merged
 * set is a sorted list of disjoint, non-adjacent inclusive ranges, flat:
 * `[first0, last0, first1, last1, …]`.
 *
 * @module
 */
import { IP_RANGE_RECORD_SIZE } from "../../mod.ts";

/** Merged ranges of both families. @internal */
export interface RangeSet {
  /** Flat inclusive pairs, sorted, disjoint, not adjacent. */
  v4: Uint32Array;
  /** Flat inclusive pairs, sorted, disjoint, not adjacent. */
  v6: bigint[];
}

export const EMPTY_SET: RangeSet = { v4: new Uint32Array(0), v6: [] };
export const MAX_V6 = (1n << 128n) - 1n;

/** Collects ranges as they are parsed (any order, overlaps allowed). @internal */
export class RangeCollector {
  #v4 = new Uint32Array(2048);
  #n4 = 0;
  #v6: bigint[] = [];
  /** Ranges given with first after last (swapped on the way in). */
  reversed = 0;

  get count(): number {
    return this.#n4 + this.#v6.length / 2;
  }

  addV4(first: number, last: number): void {
    if (first > last) {
      const t = first;
      first = last;
      last = t;
      this.reversed++;
    }
    if (this.#n4 * 2 + 2 > this.#v4.length) {
      const bigger = new Uint32Array(this.#v4.length * 2);
      bigger.set(this.#v4);
      this.#v4 = bigger;
    }
    this.#v4[this.#n4 * 2] = first;
    this.#v4[this.#n4 * 2 + 1] = last;
    this.#n4++;
  }

  addV6(first: bigint, last: bigint): void {
    if (first > last) {
      const t = first;
      first = last;
      last = t;
      this.reversed++;
    }
    this.#v6.push(first, last);
  }

  /** Sorts and merges what was collected. */
  finish(): RangeSet {
    return { v4: mergeV4(this.#v4.subarray(0, this.#n4 * 2)), v6: mergeV6(this.#v6) };
  }
}

/** Sorts flat v4 pairs by first (radix sort unless already sorted), then merges overlapping and adjacent ones. */
export function mergeV4(pairs: Uint32Array): Uint32Array {
  const n = pairs.length >> 1;
  if (n === 0) return new Uint32Array(0);
  let sorted = true;
  for (let i = 1; i < n; i++) {
    if (pairs[2 * i] < pairs[2 * i - 2]) {
      sorted = false;
      break;
    }
  }
  let firsts: Uint32Array, lasts: Uint32Array;
  if (sorted) {
    firsts = new Uint32Array(n);
    lasts = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      firsts[i] = pairs[2 * i];
      lasts[i] = pairs[2 * i + 1];
    }
  } else {
    // LSD radix sort on `first`, two passes of 16 bits (stable).
    let fa = new Uint32Array(n), la = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      fa[i] = pairs[2 * i];
      la[i] = pairs[2 * i + 1];
    }
    let fb = new Uint32Array(n), lb = new Uint32Array(n);
    const count = new Uint32Array(65537);
    for (const shift of [0, 16]) {
      count.fill(0);
      for (let i = 0; i < n; i++) count[((fa[i] >>> shift) & 0xffff) + 1]++;
      for (let k = 1; k <= 65536; k++) count[k] += count[k - 1];
      for (let i = 0; i < n; i++) {
        const d = count[(fa[i] >>> shift) & 0xffff]++;
        fb[d] = fa[i];
        lb[d] = la[i];
      }
      [fa, fb] = [fb, fa];
      [la, lb] = [lb, la];
    }
    firsts = fa;
    lasts = la;
  }
  const out = new Uint32Array(2 * n);
  let m = 0;
  let cf = firsts[0], cl = lasts[0];
  for (let i = 1; i < n; i++) {
    const f = firsts[i], l = lasts[i];
    if (f <= cl + 1) {
      if (l > cl) cl = l;
    } else {
      out[m++] = cf;
      out[m++] = cl;
      cf = f;
      cl = l;
    }
  }
  out[m++] = cf;
  out[m++] = cl;
  return out.slice(0, m);
}

/** Sorts flat v6 pairs by first and merges overlapping and adjacent ones. */
export function mergeV6(pairs: bigint[]): bigint[] {
  const n = pairs.length >> 1;
  if (n === 0) return [];
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => (pairs[2 * a] < pairs[2 * b] ? -1 : pairs[2 * a] > pairs[2 * b] ? 1 : 0));
  const out: bigint[] = [];
  let cf = pairs[2 * idx[0]], cl = pairs[2 * idx[0] + 1];
  for (let k = 1; k < n; k++) {
    const f = pairs[2 * idx[k]], l = pairs[2 * idx[k] + 1];
    if (f <= cl + 1n) {
      if (l > cl) cl = l;
    } else {
      out.push(cf, cl);
      cf = f;
      cl = l;
    }
  }
  out.push(cf, cl);
  return out;
}

type Op = (a: boolean, b: boolean) => boolean;

/** A boolean operation between two merged lists of one family (half-open sweep). */
function combine<T extends number | bigint>(a: ArrayLike<T>, b: ArrayLike<T>, op: Op, one: T): T[] {
  // Boundaries as half-open [first, last + 1).
  const out: T[] = [];
  let i = 0, j = 0;
  let inA = false, inB = false, inOut = false;
  let start = one; // placeholder until set
  const na = a.length, nb = b.length;
  const endOf = (x: T): T => (x as unknown as bigint) + (one as unknown as bigint) as unknown as T;
  while (i < na || j < nb) {
    const ea = i < na ? (i % 2 === 0 ? a[i] : endOf(a[i])) : undefined;
    const eb = j < nb ? (j % 2 === 0 ? b[j] : endOf(b[j])) : undefined;
    let x: T;
    if (eb === undefined || (ea !== undefined && ea <= eb)) x = ea as T;
    else x = eb;
    if (ea !== undefined && ea === x) {
      inA = i % 2 === 0;
      i++;
    }
    if (eb !== undefined && eb === x) {
      inB = j % 2 === 0;
      j++;
    }
    const now = op(inA, inB);
    if (now !== inOut) {
      if (now) start = x;
      else {
        out.push(start, ((x as unknown as bigint) - (one as unknown as bigint)) as unknown as T);
      }
      inOut = now;
    }
  }
  return out;
}

const OPS: Record<"or" | "and" | "minus" | "xor", Op> = {
  or: (a, b) => a || b,
  and: (a, b) => a && b,
  minus: (a, b) => a && !b,
  xor: (a, b) => a !== b,
};

/** `a op b` for both families. @internal */
export function setOp(a: RangeSet, b: RangeSet, op: keyof typeof OPS): RangeSet {
  const aEmpty = a.v4.length === 0 && a.v6.length === 0, bEmpty = b.v4.length === 0 && b.v6.length === 0;
  if (bEmpty && (op === "or" || op === "minus" || op === "xor")) return a;
  if (aEmpty && (op === "or" || op === "xor")) return b;
  if ((aEmpty || bEmpty) && op === "and") return EMPTY_SET;
  if (aEmpty && op === "minus") return EMPTY_SET;
  return {
    v4: Uint32Array.from(combine<number>(a.v4, b.v4, OPS[op], 1)),
    v6: combine<bigint>(a.v6, b.v6, OPS[op], 1n),
  };
}

/** Equal sets? @internal */
export function sameSet(a: RangeSet, b: RangeSet): boolean {
  if (a.v4.length !== b.v4.length || a.v6.length !== b.v6.length) return false;
  for (let i = 0; i < a.v4.length; i++) if (a.v4[i] !== b.v4[i]) return false;
  for (let i = 0; i < a.v6.length; i++) if (a.v6[i] !== b.v6[i]) return false;
  return true;
}

/** Number of ranges in a set. @internal */
export function rangeCount(s: RangeSet): number {
  return (s.v4.length + s.v6.length) / 2;
}

function putV6(out: Uint8Array, dv: DataView, off: number, x: bigint): void {
  dv.setBigUint64(off, x >> 64n);
  dv.setBigUint64(off + 8, x & 0xffffffffffffffffn);
  void out;
}

/**
 * The packed records of `ipFilter.addPacked` for `set`, every range blocked.
 * With `replace`, two records allowing the whole of IPv4 and of IPv6 come
 * first, so that one call replaces the session's user rules entirely (a
 * later rule overrides earlier ones).
 * @internal
 */
export function packSet(set: RangeSet, replace: boolean): Uint8Array {
  const head = replace ? 2 : 0;
  const n = head + rangeCount(set);
  const out = new Uint8Array(n * IP_RANGE_RECORD_SIZE);
  const dv = new DataView(out.buffer);
  let off = 0;
  if (replace) {
    out[0] = 4;
    out[1] = 0;
    dv.setUint32(18, 0xffffffff);
    off = IP_RANGE_RECORD_SIZE;
    out[off] = 6;
    out[off + 1] = 0;
    putV6(out, dv, off + 18, MAX_V6);
    off += IP_RANGE_RECORD_SIZE;
  }
  const v4 = set.v4;
  for (let i = 0; i < v4.length; i += 2) {
    out[off] = 4;
    out[off + 1] = 1;
    dv.setUint32(off + 2, v4[i]);
    dv.setUint32(off + 18, v4[i + 1]);
    off += IP_RANGE_RECORD_SIZE;
  }
  const v6 = set.v6;
  for (let i = 0; i < v6.length; i += 2) {
    out[off] = 6;
    out[off + 1] = 1;
    putV6(out, dv, off + 2, v6[i]);
    putV6(out, dv, off + 18, v6[i + 1]);
    off += IP_RANGE_RECORD_SIZE;
  }
  return out;
}

/** Text of an IPv4 number. @internal */
export function v4Text(x: number): string {
  return `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
}

/** Text of an IPv6 bigint (RFC 5952: lower case, longest zero run as ::). @internal */
export function v6Text(x: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((x >> BigInt(16 * i)) & 0xffffn));
  if (x >> 32n === 0xffffn) return `::ffff:${v4Text(Number(x & 0xffffffffn))}`; // IPv4-mapped, as ipFilter.export() writes it
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
  const hex = (xs: number[]) => xs.map((v) => v.toString(16)).join(":");
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}
