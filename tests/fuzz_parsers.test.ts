/**
 * Property-based fuzzing of the TypeScript parsers that face the network or
 * files: bencode (BEP 44 values from DHT peers), the blocklist formats, the
 * streaming server's Range header, URL routes, Host header and header/HTML
 * formatters, and BEP 46 channel addresses.
 *
 * Each property runs on inputs from a seeded generator: valid inputs built
 * from the grammar, then mutated (bytes flipped, inserted, deleted, spliced,
 * truncated) and pure noise. Every input must end in a result that keeps the
 * property's invariants, or in the error the function documents — never
 * another exception or a hang. Some properties compare against an oracle
 * written independently here (blocklist range merging, bencode round trips).
 *
 *   TORRENTXT_FUZZ_SEED=<n>    another seed (the default is fixed, so CI is repeatable)
 *   TORRENTXT_FUZZ_SCALE=<k>   k times as many inputs per property (docs/fuzzing.md)
 */
import assert from "node:assert/strict";
import process from "node:process";
import { after, describe, test } from "node:test";
import { bdecode, bencode, TorrentError } from "../mod.ts";
import { parseBlocklist } from "../plugins/blocklist/mod.ts";
import { channelAddress, parseChannelAddress } from "../plugins/channels/mod.ts";
import { contentDisposition, escapeHtml, hostName, m3uText, parseRange, parseRoute } from "../plugins/http/_parse.ts";

const SEED = Number(process.env.TORRENTXT_FUZZ_SEED ?? 0x7042_7854) >>> 0;
const SCALE = Math.max(1, Number(process.env.TORRENTXT_FUZZ_SCALE ?? 1));
const counts: Record<string, number> = {};
after(() => {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log(
    `fuzz_parsers: seed ${SEED}, ${total} inputs: ` +
      Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(", "),
  );
});

/** xorshift32: small, fast, seedable. */
class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed || 1;
  }
  u32(): number {
    let x = this.#s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x >>> 0;
    return this.#s;
  }
  int(n: number): number {
    return this.u32() % n;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

/** Classic mutations of a byte string. */
function mutate(r: Rng, input: Uint8Array): Uint8Array {
  let b: Uint8Array = Uint8Array.from(input);
  const n = 1 + r.int(4);
  for (let k = 0; k < n; k++) {
    const at = b.length ? r.int(b.length) : 0;
    switch (r.int(7)) {
      case 0: // flip a bit
        if (b.length) b[at] ^= 1 << r.int(8);
        break;
      case 1: // set an interesting byte
        if (b.length) b[at] = r.pick([0, 0x0a, 0x0d, 0x20, 0x2d, 0x2f, 0x3a, 0x2e, 0x23, 0x7f, 0x80, 0xff, 0x30, 0x39]);
        break;
      case 2: { // insert random bytes
        const ins = r.bytes(1 + r.int(8));
        b = concat(b.subarray(0, at), ins, b.subarray(at));
        break;
      }
      case 3: // delete a span
        b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + r.int(16))));
        break;
      case 4: // truncate
        b = b.subarray(0, at);
        break;
      case 5: { // duplicate a span
        const end = Math.min(b.length, at + 1 + r.int(32));
        b = concat(b.subarray(0, end), b.subarray(at, end), b.subarray(end));
        break;
      }
      default: // splice in a long run of one byte
        b = concat(
          b.subarray(0, at),
          new Uint8Array(1 + r.int(300)).fill(r.pick([0x30, 0x39, 0x3a, 0x2d, 0x6c, 0x64])),
        );
    }
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const enc = new TextEncoder();
const latin1 = (b: Uint8Array) => String.fromCharCode(...b.subarray(0, 20000));

// ------------------------------------------------------------------ bencode

type V = number | Uint8Array | V[] | { [k: string]: V };

function genValue(r: Rng, depth = 0): V {
  const k = depth > 4 ? r.int(2) : r.int(4);
  if (k === 0) return r.pick([0, -1, 1, 2 ** 31, -(2 ** 40), r.int(1e6) - 5e5]);
  if (k === 1) {
    return r.chance(0.3)
      ? enc.encode(r.pick(["__proto__", "constructor", "toString", "hasOwnProperty", "ih", "", "é"]))
      : r.bytes(r.int(12));
  }
  if (k === 2) return Array.from({ length: r.int(4) }, () => genValue(r, depth + 1));
  const o: { [k: string]: V } = {};
  for (let i = r.int(4); i > 0; i--) {
    const key = r.pick(["a", "b", "ih", "seq", "__proto__", "constructor", "prototype", "toString", "0", "zz"]);
    Object.defineProperty(o, key, {
      value: genValue(r, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return o;
}

function sameValue(a: unknown, b: unknown, path = "$"): void {
  if (a instanceof Uint8Array) {
    assert.ok(b instanceof Uint8Array, `${path}: not bytes`);
    assert.deepEqual([...b], [...a], path);
  } else if (Array.isArray(a)) {
    assert.ok(Array.isArray(b), `${path}: not a list`);
    assert.equal(b.length, a.length, path);
    a.forEach((x, i) => sameValue(x, (b as unknown[])[i], `${path}[${i}]`));
  } else if (typeof a === "object" && a !== null) {
    assert.ok(typeof b === "object" && b !== null && !Array.isArray(b), `${path}: not a dictionary`);
    const ka = Object.keys(a).sort(), kb = Object.keys(b as object).sort();
    assert.deepEqual(kb, ka, `${path}: keys`);
    for (const k of ka) {
      sameValue(
        (a as Record<string, unknown>)[k],
        Object.getOwnPropertyDescriptor(b, k)?.value,
        `${path}.${k}`,
      );
    }
  } else assert.equal(b, a, path);
}

describe("fuzz: parsers facing the network and files", () => {
  test("bencode: bdecode(bencode(v)) is v (keys like __proto__ included); mutated input is a value or a SyntaxError", () => {
    const r = new Rng(SEED ^ 0xbe);
    const n = 3000 * SCALE;
    for (let i = 0; i < n; i++) {
      const v = genValue(r);
      const bytes = bencode(v as never);
      sameValue(v, bdecode(bytes));
      for (let j = 0; j < 3; j++) {
        const m = mutate(r, bytes);
        try {
          const d = bdecode(m);
          // Whatever decodes re-encodes and decodes to the same value.
          sameValue(d, bdecode(bencode(d as never)));
        } catch (e) {
          assert.ok(e instanceof SyntaxError, `bdecode threw ${e} on ${JSON.stringify(latin1(m))}`);
        }
      }
    }
    counts.bencode = n * 4;
  });

  // --------------------------------------------------------------- blocklist

  test("blocklist: mutated and noisy lists of every format end in ranges or BLOCKLIST_FORMAT", async () => {
    const r = new Rng(SEED ^ 0xb1);
    const ip4 = () => [r.int(256), r.int(256), r.int(256), r.int(256)];
    const dat = (a: number[]) => a.map((x) => String(x).padStart(3, "0")).join(".");
    const lines = () => {
      const out: string[] = [];
      for (let i = 1 + r.int(30); i > 0; i--) {
        const a = ip4(), b = ip4();
        out.push(r.pick([
          `${dat(a)} - ${dat(b)} , ${r.int(256).toString().padStart(3, "0")} , label ${i}`,
          `Some: org, with: colons:${a.join(".")}-${b.join(".")}`,
          `${a.join(".")}/${r.int(33)}`,
          `2001:db8:${r.int(65536).toString(16)}::/${r.int(129)}`,
          `${a.join(".")}-${b.join(".")}`,
          `# comment ${i}`,
          `// comment`,
          `fe80::${r.int(65536).toString(16)}-fe80::ffff`,
          a.join("."),
          "",
        ]));
      }
      return enc.encode(out.join(r.pick(["\n", "\r\n"])));
    };
    const p2b = () => {
      const recs: number[] = [0xff, 0xff, 0xff, 0xff, 0x50, 0x32, 0x42, 0x02];
      for (let i = r.int(10); i > 0; i--) recs.push(...enc.encode(`n${i}`), 0, ...ip4(), ...ip4());
      return Uint8Array.from(recs);
    };
    const gzip = async (b: Uint8Array) =>
      new Uint8Array(
        await new Response(new Blob([b as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer(),
      );
    const n = 400 * SCALE;
    let ok = 0, refused = 0;
    for (let i = 0; i < n; i++) {
      const kind = r.int(5);
      let input = kind === 0 ? p2b() : kind === 1 ? await gzip(lines()) : kind === 2 ? r.bytes(r.int(600)) : lines();
      if (kind !== 3 || r.chance(0.8)) input = mutate(r, input);
      // Feed it in random chunk sizes: the parser streams.
      const chunks: Uint8Array[] = [];
      for (let o = 0; o < input.length;) {
        const len = 1 + r.int(64);
        chunks.push(input.subarray(o, o + len));
        o += len;
      }
      const gen = async function* () {
        yield* chunks;
      };
      try {
        const parsed = await parseBlocklist(gen());
        ok++;
        assert.equal(parsed.ranges, parsed.ipv4 + parsed.ipv6);
        let prev = -1;
        for (const rg of parsed.toRanges()) {
          if (rg.first.includes(":")) continue;
          const a = v4num(rg.first), b = v4num(rg.last);
          assert.ok(a <= b, `reversed range ${rg.first}-${rg.last}`);
          assert.ok(a > prev + 1 || prev < 0, `ranges overlap or touch: ${rg.first} after ${prev}`);
          prev = b;
        }
      } catch (e) {
        assert.ok(
          e instanceof TorrentError && e.code === "BLOCKLIST_FORMAT",
          `parseBlocklist threw ${e} on ${JSON.stringify(latin1(input).slice(0, 300))}`,
        );
        refused++;
      }
    }
    assert.ok(ok > n / 4, `only ${ok} of ${n} inputs parsed: the generator is off`);
    counts.blocklist = n;
    console.log(`  blocklist: ${ok} parsed, ${refused} refused as BLOCKLIST_FORMAT`);
  });

  test("blocklist: ranges in .p2p, .dat and range lines merge exactly as an independent oracle merges them", async () => {
    const r = new Rng(SEED ^ 0x0a);
    const n = 300 * SCALE;
    for (let i = 0; i < n; i++) {
      const ranges: [number, number][] = [];
      const text: string[] = [];
      // Clustered addresses so that overlaps and adjacency are common.
      const base = r.u32() & 0xffff0000;
      for (let k = 1 + r.int(40); k > 0; k--) {
        let a = (base + r.int(4096)) >>> 0, b = (a + r.int(300) - 20) >>> 0;
        if (b > 0xffffffff || b < base) b = a;
        const level = r.int(256);
        const form = r.int(3);
        if (form === 1) {
          text.push(`${v4dat(a)} - ${v4dat(b)} , ${String(level).padStart(3, "0")} , x:y`);
          if (level > 127) continue; // access level > 127: not blocked
        } else if (form === 0) text.push(`a:b:c:${v4txt(a)}-${v4txt(b)}`);
        else text.push(`${v4txt(a)}-${v4txt(b)}`);
        if (a > b) [a, b] = [b, a];
        ranges.push([a, b]);
      }
      const parsed = await parseBlocklist(enc.encode(text.join("\n")));
      const want = merge(ranges);
      const got = parsed.toRanges().map((x) => [v4num(x.first), v4num(x.last)]);
      assert.deepEqual(got, want, `input:\n${text.join("\n")}`);
    }
    counts.blocklist_oracle = n;
  });

  // -------------------------------------------------------------------- http

  test("http: Range headers give a range inside the file or a documented refusal", () => {
    const r = new Rng(SEED ^ 0x4a);
    const n = 20000 * SCALE;
    const num = () =>
      r.pick([
        "",
        "0",
        "1",
        String(r.int(100)),
        String(r.int(1e6)),
        "9".repeat(1 + r.int(30)),
        "-1",
        "0x10",
        " 5",
        "1e3",
      ]);
    for (let i = 0; i < n; i++) {
      const size = r.pick([0, 1, 2, 100, 1 << 20, 2 ** 40, r.int(5000)]);
      const specs = Array.from({ length: 1 + r.int(4) }, () => `${num()}-${num()}`);
      let h = `${r.pick(["bytes", "Bytes", "items", "", "bytes "])}=${specs.join(r.pick([",", ", ", ",,"]))}`;
      if (r.chance(0.3)) h = latin1(mutate(r, enc.encode(h)));
      const res = parseRange(h, size, 3);
      switch (res.kind) {
        case "range":
          assert.ok(Number.isSafeInteger(res.start) && Number.isSafeInteger(res.end), h);
          assert.ok(
            0 <= res.start && res.start <= res.end && res.end < size,
            `${h} on ${size}: ${res.start}-${res.end}`,
          );
          break;
        case "too_many":
          assert.ok(res.count > 3, h);
          break;
        case "malformed":
        case "unsatisfiable":
        case "none":
          break;
        default:
          assert.fail(`unknown result ${JSON.stringify(res)}`);
      }
    }
    counts.range = n;
  });

  test("http: no URL path routes to a file unless it names a hash and an index; no traversal survives", () => {
    const r = new Rng(SEED ^ 0x77);
    const n = 20000 * SCALE;
    const seg = () =>
      r.pick([
        "t",
        "a".repeat(40),
        "AB".repeat(32),
        "0",
        "7",
        "012",
        "..",
        "%2e%2e",
        "%2E.",
        "%2f",
        "%5c",
        "%00",
        "%",
        "%zz",
        "%c0%af",
        "playlist.m3u",
        "torrents.json",
        "name.mkv",
        "",
        "é",
      ]);
    for (let i = 0; i < n; i++) {
      let p = "/" + Array.from({ length: r.int(6) }, seg).join("/");
      if (r.chance(0.3)) p = latin1(mutate(r, enc.encode(p)));
      const route = parseRoute(p, r.chance(0.2) ? "/base" : "");
      if (route.kind === "file") {
        assert.match(route.infoHash, /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/);
        assert.ok(Number.isInteger(route.index) && route.index >= 0);
      }
      if (route.kind !== "error") {
        for (const s of p.split("/")) {
          let d = s;
          try {
            d = decodeURIComponent(s);
          } catch { /* refused above */ }
          assert.ok(d !== ".." && d !== "." && !/[\\\0]/.test(d), `${p} routed to ${route.kind}`);
        }
      }
      const host = hostName(r.chance(0.5) ? p.slice(1, 40) : latin1(r.bytes(r.int(20))));
      assert.ok(host === undefined || (host === host.toLowerCase() && host.length > 0));
    }
    counts.route = n;
  });

  test("http: header and HTML formatters never let CR, LF, quotes or tags through, for any string", () => {
    const r = new Rng(SEED ^ 0x11);
    const n = 20000 * SCALE;
    for (let i = 0; i < n; i++) {
      const units = Array.from(
        { length: r.int(24) },
        () =>
          r.chance(0.1)
            ? r.pick([0xd800, 0xdc00, 0x0d, 0x0a, 0x22, 0x3c, 0x00, 0x7f, 0x2028])
            : r.chance(0.5)
            ? 0x20 + r.int(95)
            : r.int(0x10000),
      );
      const s = String.fromCharCode(...units);
      const cd = contentDisposition(s, r.chance(0.5));
      assert.ok(
        !/[\r\n\0]/.test(cd) &&
          /^(inline|attachment); filename="[\x20-\x7e]*"; filename\*=UTF-8''[\x21-\x7e]*$/.test(cd),
        JSON.stringify(cd),
      );
      assert.ok(!/[<>"'&](?!#\d+;)/.test(escapeHtml(s).replace(/&#\d+;/g, "")), s);
      // deno-lint-ignore no-control-regex
      assert.ok(!/[\x00-\x1f\x7f]/.test(m3uText(s)));
    }
    counts.formatters = n;
  });

  // ---------------------------------------------------------------- channels

  test("channels: addresses parse to a key, salt and target, or INVALID_CHANNEL_ADDRESS", () => {
    const r = new Rng(SEED ^ 0xc4);
    const n = 5000 * SCALE;
    let ok = 0;
    for (let i = 0; i < n; i++) {
      const pk = r.bytes(32);
      const salt = r.chance(0.5) ? undefined : r.bytes(r.int(70));
      let addr: string;
      try {
        addr = channelAddress(pk, salt);
      } catch (e) {
        assert.ok(e instanceof TorrentError && salt !== undefined && salt.length > 64, String(e));
        addr = channelAddress(pk);
      }
      if (r.chance(0.7)) addr = latin1(mutate(r, enc.encode(addr)));
      try {
        const info = parseChannelAddress(addr);
        ok++;
        assert.equal(info.publicKey.length, 32);
        assert.ok(info.salt.length <= 64);
        assert.match(info.target, /^[0-9a-f]{40}$/);
        // What parses round-trips through its canonical form.
        const again = parseChannelAddress(info.address);
        assert.equal(again.target, info.target);
      } catch (e) {
        assert.ok(e instanceof TorrentError && e.code === "INVALID_CHANNEL_ADDRESS", `${e} on ${JSON.stringify(addr)}`);
      }
    }
    assert.ok(ok > n / 10);
    counts.channel_address = n;
  });
});

function v4num(s: string): number {
  return s.split(".").reduce((a, x) => a * 256 + Number(x), 0);
}
function v4txt(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}
function v4dat(n: number): string {
  return v4txt(n).split(".").map((x) => x.padStart(3, "0")).join(".");
}
function merge(rs: [number, number][]): [number, number][] {
  const s = [...rs].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: [number, number][] = [];
  for (const [a, b] of s) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}
