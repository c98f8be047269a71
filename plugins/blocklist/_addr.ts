/**
 * Fast, allocation-free address parsers for blocklist lines. Lenient where
 * blocklists are: IPv4 octets may be zero-padded (`001.002.003.004`, read as
 * decimal, as eMule and libtorrent do). Whitespace around is skipped.
 *
 * @module
 */

/** IPv4 text in `s[start, end)` (surrounding spaces/tabs skipped) → 0 … 2³²−1, or −1. @internal */
export function v4At(s: string, start: number, end: number): number {
  while (start < end && isSpace(s.charCodeAt(start))) start++;
  while (end > start && isSpace(s.charCodeAt(end - 1))) end--;
  let value = 0, octet = 0, digits = 0, dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13;
}

/** IPv6 text in `s[start, end)` (surrounding spaces skipped; no zone) → bigint, or null. @internal */
export function v6At(s: string, start: number, end: number): bigint | null {
  while (start < end && isSpace(s.charCodeAt(start))) start++;
  while (end > start && isSpace(s.charCodeAt(end - 1))) end--;
  const text = s.slice(start, end);
  if (text.length < 2 || text.length > 45 || text.indexOf(":") < 0) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const ps = part.split(":");
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i];
      if (i === ps.length - 1 && p.indexOf(".") >= 0) {
        const v4 = v4At(p, 0, p.length);
        if (v4 < 0 || /^0\d|\.0\d/.test(p)) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
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
  let x = 0n;
  const all = [...head, ...new Array(8 - total).fill(0), ...tail];
  for (const g of all) x = (x << 16n) | BigInt(g);
  return x;
}
