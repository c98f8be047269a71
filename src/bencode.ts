/**
 * A small bencode encoder and decoder: complex arguments cross the C ABI as
 * bencoded dictionaries, and some results come back that way.
 *
 * @module
 */

/** A bencodable value. Strings are UTF-8 encoded; byte strings stay bytes. */
export type BValue = number | bigint | string | Uint8Array | BValue[] | { [key: string]: BValue | undefined };

const enc = new TextEncoder();

/**
 * Encodes `value`. Dictionary keys are sorted; undefined values skipped.
 * Writes straight into one growing buffer (ASCII strings and integers need
 * no intermediate arrays): add lists of thousands of torrents go through it.
 */
export function bencode(value: BValue): Uint8Array {
  let out = new Uint8Array(256);
  let off = 0;
  const room = (n: number) => {
    if (off + n <= out.length) return;
    let size = out.length * 2;
    while (size < off + n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(out.subarray(0, off));
    out = bigger;
  };
  // A non-negative safe integer's decimal digits.
  const digits = (n: number) => {
    let len = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) len++;
    room(len);
    for (let i = off + len - 1; i >= off; i--) {
      out[i] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
    off += len;
  };
  const byte = (c: number) => {
    room(1);
    out[off++] = c;
  };
  const bytes = (b: Uint8Array) => {
    digits(b.length);
    byte(0x3a); // :
    room(b.length);
    out.set(b, off);
    off += b.length;
  };
  const str = (s: string) => {
    const n = s.length;
    for (let i = 0; i < n; i++) {
      if (s.charCodeAt(i) > 0x7f) return bytes(enc.encode(s));
    }
    digits(n);
    byte(0x3a);
    room(n);
    for (let i = 0; i < n; i++) out[off++] = s.charCodeAt(i);
  };
  // Dictionaries built by one function share their keys: sort once per key list.
  let lastKeys: string[] = [], lastSorted: string[] = [];
  const sortedKeys = (o: object): string[] => {
    const keys = Object.keys(o);
    if (keys.length === lastKeys.length) {
      let same = true;
      for (let i = 0; i < keys.length && same; i++) same = keys[i] === lastKeys[i];
      if (same) return lastSorted;
    }
    lastKeys = keys;
    lastSorted = [...keys].sort();
    return lastSorted;
  };
  const walk = (v: BValue): void => {
    if (typeof v === "number") {
      if (!Number.isInteger(v)) throw new TypeError(`bencode: ${v} is not an integer`);
      byte(0x69); // i
      if (v < 0) {
        byte(0x2d); // -
        v = -v;
      }
      if (Number.isSafeInteger(v)) digits(v);
      else for (const c of BigInt(v).toString()) byte(c.charCodeAt(0));
      byte(0x65); // e
    } else if (typeof v === "bigint") {
      byte(0x69);
      for (const c of v.toString()) byte(c.charCodeAt(0));
      byte(0x65);
    } else if (typeof v === "string") {
      str(v);
    } else if (v instanceof Uint8Array) {
      bytes(v);
    } else if (Array.isArray(v)) {
      byte(0x6c); // l
      for (const x of v) walk(x);
      byte(0x65);
    } else {
      byte(0x64); // d
      for (const k of sortedKeys(v)) {
        const x = v[k];
        if (x === undefined) continue;
        str(k);
        walk(x);
      }
      byte(0x65);
    }
  };
  walk(value);
  return out.slice(0, off);
}

/**
 * A decoded value: byte strings stay Uint8Array; integers are numbers, or
 * bigints beyond Number.MAX_SAFE_INTEGER (BEP 44 sequence numbers are
 * 64-bit).
 */
export type BDecoded = number | bigint | Uint8Array | BDecoded[] | { [key: string]: BDecoded };

/**
 * Decodes one bencoded value; throws SyntaxError on malformed input:
 * non-canonical integers (`i-0e`, leading zeros) and string lengths,
 * non-string keys, nesting deeper than 100, trailing bytes. A key such as
 * `__proto__` becomes an own property like any other.
 */
export function bdecode(buf: Uint8Array): BDecoded {
  let pos = 0;
  const dec = new TextDecoder();
  const fail = (what: string): never => {
    throw new SyntaxError(`bdecode: ${what} at byte ${pos}`);
  };
  const readInt = (end: number, signed: boolean): number | bigint => {
    const i = buf.indexOf(end, pos);
    if (i < 0) fail("unterminated integer");
    const text = dec.decode(buf.subarray(pos, i));
    if (!(signed ? /^(?:0|-?[1-9]\d*)$/ : /^(?:0|[1-9]\d*)$/).test(text)) fail("bad integer");
    pos = i + 1;
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  };
  const walk = (depth: number): BDecoded => {
    if (depth > 100) fail("nesting too deep");
    if (pos >= buf.length) fail("unexpected end");
    const c = buf[pos];
    if (c === 0x69 /* i */) {
      pos++;
      return readInt(0x65, true);
    }
    if (c === 0x6c /* l */) {
      pos++;
      const out: BDecoded[] = [];
      while (buf[pos] !== 0x65) out.push(walk(depth + 1));
      pos++;
      return out;
    }
    if (c === 0x64 /* d */) {
      pos++;
      const out: { [key: string]: BDecoded } = {};
      while (buf[pos] !== 0x65) {
        const k = walk(depth + 1);
        if (!(k instanceof Uint8Array)) fail("dictionary key is not a string");
        Object.defineProperty(out, dec.decode(k as Uint8Array), {
          value: walk(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      pos++;
      return out;
    }
    if (c >= 0x30 && c <= 0x39) {
      const n = readInt(0x3a, /* : */ false);
      if (typeof n !== "number") fail("string length too large");
      if (pos + (n as number) > buf.length) fail("string past the end");
      const s = buf.subarray(pos, pos + (n as number));
      pos += n as number;
      return s;
    }
    return fail("unexpected byte");
  };
  const v = walk(0);
  if (pos !== buf.length) fail("trailing bytes");
  return v;
}
