/**
 * A small bencode encoder and decoder: complex arguments cross the C ABI as
 * bencoded dictionaries, and some results come back that way.
 *
 * @module
 */

/** A bencodable value. Strings are UTF-8 encoded; byte strings stay bytes. */
export type BValue = number | bigint | string | Uint8Array | BValue[] | { [key: string]: BValue | undefined };

const enc = new TextEncoder();

/** Encodes `value`. Dictionary keys are sorted; undefined values skipped. */
export function bencode(value: BValue): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    size += b.length;
  };
  const walk = (v: BValue): void => {
    if (typeof v === "number" || typeof v === "bigint") {
      if (typeof v === "number" && !Number.isInteger(v)) throw new TypeError(`bencode: ${v} is not an integer`);
      push(enc.encode(`i${v}e`));
    } else if (typeof v === "string") {
      const b = enc.encode(v);
      push(enc.encode(`${b.length}:`));
      push(b);
    } else if (v instanceof Uint8Array) {
      push(enc.encode(`${v.length}:`));
      push(v);
    } else if (Array.isArray(v)) {
      push(enc.encode("l"));
      for (const x of v) walk(x);
      push(enc.encode("e"));
    } else {
      push(enc.encode("d"));
      for (const k of Object.keys(v).sort()) {
        const x = v[k];
        if (x === undefined) continue;
        walk(k);
        walk(x);
      }
      push(enc.encode("e"));
    }
  };
  walk(value);
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A decoded value: byte strings stay Uint8Array; integers are numbers. */
export type BDecoded = number | Uint8Array | BDecoded[] | { [key: string]: BDecoded };

/** Decodes one bencoded value; throws SyntaxError on malformed input. */
export function bdecode(buf: Uint8Array): BDecoded {
  let pos = 0;
  const dec = new TextDecoder();
  const fail = (what: string): never => {
    throw new SyntaxError(`bdecode: ${what} at byte ${pos}`);
  };
  const readInt = (end: number): number => {
    const i = buf.indexOf(end, pos);
    if (i < 0) fail("unterminated integer");
    const text = dec.decode(buf.subarray(pos, i));
    if (!/^-?\d+$/.test(text)) fail("bad integer");
    pos = i + 1;
    return Number(text);
  };
  const walk = (depth: number): BDecoded => {
    if (depth > 100) fail("nesting too deep");
    if (pos >= buf.length) fail("unexpected end");
    const c = buf[pos];
    if (c === 0x69 /* i */) {
      pos++;
      return readInt(0x65);
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
        out[dec.decode(k as Uint8Array)] = walk(depth + 1);
      }
      pos++;
      return out;
    }
    if (c >= 0x30 && c <= 0x39) {
      const n = readInt(0x3a /* : */);
      if (pos + n > buf.length) fail("string past the end");
      const s = buf.subarray(pos, pos + n);
      pos += n;
      return s;
    }
    return fail("unexpected byte");
  };
  const v = walk(0);
  if (pos !== buf.length) fail("trailing bytes");
  return v;
}
