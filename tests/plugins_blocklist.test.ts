// The blocklist plugin (plugins/blocklist): every format (eMule .dat,
// PeerGuardian .p2p and .p2b v1–v3, CIDR, ranges, addresses, IPv4 and IPv6),
// comments, gzip and zip by magic bytes, malformed lines counted and quoted,
// reversed / overlapping / adjacent ranges, chunk boundaries anywhere; the
// sources (file, URL from a local HTTP server, bytes, streams); refresh
// swapping in one call, detach removing exactly its ranges, the loopback
// guard of isolated sessions; bad options; and real connections: a peer on
// a blocked loopback address gets nothing while an unblocked one downloads.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { writeFileSync } from "node:fs";
import { deflateRawSync, gzipSync } from "node:zlib";
import { type Session, TorrentError, type TorrentEvent } from "../mod.ts";
import { blocklist, parseBlocklist } from "../plugins/blocklist/mod.ts";
import {
  assertSameTree,
  makeFixture,
  openIsolated,
  openSeeder,
  rejectsCode,
  TempDir,
  throwsCode,
  TIMEOUT,
  waitFor,
} from "./_helpers.ts";

const opts = { timeout: TIMEOUT.quick };
const enc = (s: string) => new TextEncoder().encode(s);
const ranges = async (s: string | Uint8Array) =>
  (await parseBlocklist(typeof s === "string" ? enc(s) : s)).toRanges().map((r) => `${r.first}-${r.last}`);

/** A ReadableStream giving `bytes` in chunks of `size` (1 = byte by byte). */
function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= bytes.length) return c.close();
      c.enqueue(bytes.slice(off, off + size));
      off += size;
    },
  });
}

function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}
const ip4 = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const ip = (s: string) => s.split(".").reduce((a, o) => a * 256 + Number(o), 0);

/** A .p2b list: v1/v2 records, or v3 with a name table. */
function p2b(version: number, recs: [string, string, string][]): Uint8Array {
  const out: number[] = [0xff, 0xff, 0xff, 0xff, 0x50, 0x32, 0x42, version];
  const name = (s: string) => version === 1 ? [...s].map((c) => c.charCodeAt(0) & 255) : [...enc(s)];
  if (version !== 3) {
    for (const [label, a, b] of recs) out.push(...name(label), 0, ...u32(ip(a)), ...u32(ip(b)));
  } else {
    const labels = [...new Set(recs.map((r) => r[0]))];
    out.push(...u32(labels.length));
    for (const l of labels) out.push(...name(l), 0);
    out.push(...u32(recs.length));
    for (const [label, a, b] of recs) out.push(...u32(labels.indexOf(label)), ...u32(ip(a)), ...u32(ip(b)));
  }
  return new Uint8Array(out);
}

/** A zip archive holding one file (optionally after a directory entry), stored or deflated. */
function zip(name: string, data: Uint8Array, method: 0 | 8, withDir = false): Uint8Array {
  const entry = (fname: string, body: Uint8Array, m: number, size: number) => {
    const n = enc(fname);
    const h = new Uint8Array(30 + n.length);
    const dv = new DataView(h.buffer);
    dv.setUint32(0, 0x04034b50, true);
    dv.setUint16(4, 20, true);
    dv.setUint16(8, m, true);
    dv.setUint32(18, body.length, true);
    dv.setUint32(22, size, true);
    dv.setUint16(26, n.length, true);
    h.set(n, 30);
    return [h, body];
  };
  const body = method === 8 ? new Uint8Array(deflateRawSync(data)) : data;
  const parts = [
    ...(withDir ? entry("lists/", new Uint8Array(0), 0, 0) : []),
    ...entry(name, body, method, data.length),
    new Uint8Array([0x50, 0x4b, 0x01, 0x02, 0, 0, 0, 0]), // start of a central directory (ignored)
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A local HTTP server (node:http, so the same under Deno and Bun) on 127.0.0.1 serving `routes`. */
async function serve(routes: Map<string, { status?: number; body: Uint8Array | string }>): Promise<
  { url: (p: string) => string; server: Server; hits: Map<string, number> } & AsyncDisposable
> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const r = routes.get(path);
    if (!r) {
      res.writeHead(404, { "content-type": "text/plain", connection: "close" });
      return res.end("not here\n");
    }
    res.writeHead(r.status ?? 200, { "content-type": "application/octet-stream", connection: "close" });
    res.end(r.body);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as { port: number }).port;
  return {
    url: (p) => `http://127.0.0.1:${port}${p}`,
    server,
    hits,
    [Symbol.asyncDispose]: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections?.();
      }),
  };
}

/** The user-rule blocked ranges of a session, as "first-last". */
function blocked(s: Session): string[] {
  return s.ipFilter.export({ userOnly: true }).filter((r) => r.access === "block").map((r) => `${r.first}-${r.last}`);
}

const DAT = `# eMule ipfilter.dat
001.002.003.004 - 001.002.003.255 , 000 , Some Org, Inc.
002.000.000.000 - 002.000.000.255 , 127 , level 127 is still blocked
009.009.009.000 - 009.009.009.255 , 200 , access above 127: allowed
2001:0db8:0000:0000:0000:0000:0000:0000 - 2001:0db8:0000:0000:0000:0000:0000:00ff , 050 , v6 in .dat
`;

describe("blocklist: formats", () => {
  test("eMule .dat: zero-padded octets, access level > 127 not blocked, commas in labels", opts, async () => {
    const r = await parseBlocklist(enc(DAT));
    assert.deepEqual(r.toRanges().map((x) => `${x.first}-${x.last}`), [
      "1.2.3.4-1.2.3.255",
      "2.0.0.0-2.0.0.255",
      "2001:db8::-2001:db8::ff",
    ]);
    assert.equal(r.stats.allowed, 1);
    assert.equal(r.stats.kinds.dat, 3);
    assert.equal(r.stats.malformed, 0);
    assert.equal(r.stats.lines, 5);
    assert.equal(r.ipv4, 2);
    assert.equal(r.ipv6, 1);
  });

  test("PeerGuardian .p2p: labels may hold colons; the range starts after the last one", opts, async () => {
    const r = await parseBlocklist(enc(
      "\uFEFFOrg: with: colons:1.2.3.0-1.2.3.255\nhttp://x.example:8080/a:5.6.7.8-5.6.7.9\n" +
        "plain:10.0.0.1 - 10.0.0.3\r\nv6 label:2001:db8::1-2001:db8::9\n",
    ));
    assert.deepEqual(r.toRanges().map((x) => `${x.first}-${x.last}`), [
      "1.2.3.0-1.2.3.255",
      "5.6.7.8-5.6.7.9",
      "10.0.0.1-10.0.0.3",
      "2001:db8::1-2001:db8::9",
    ]);
    assert.equal(r.stats.kinds.p2p, 4);
    assert.equal(r.stats.malformed, 0);
  });

  for (const version of [1, 2, 3]) {
    test(`.p2b version ${version}`, opts, async () => {
      const label = version === 1 ? "Caf\u00e9 (ISO-8859-1)" : "Café \u2603 (UTF-8)";
      const recs: [string, string, string][] = [
        [label, "1.2.3.0", "1.2.3.255"],
        ["other", "8.8.8.0", "8.8.8.255"],
        [label, "8.8.9.0", "8.8.9.9"], // adjacent to the previous: merged
        ["reversed", "20.0.0.9", "20.0.0.1"],
      ];
      const bytes = p2b(version, recs);
      const r = await parseBlocklist(bytes);
      assert.equal(r.stats.format, "p2b");
      assert.equal(r.stats.p2bVersion, version);
      assert.equal(r.stats.entries, 4);
      assert.equal(r.stats.reversed, 1);
      assert.deepEqual(r.toRanges().map((x) => `${x.first}-${x.last}`), [
        "1.2.3.0-1.2.3.255",
        "8.8.8.0-8.8.9.9",
        "20.0.0.1-20.0.0.9",
      ]);
      // Byte by byte gives the same; a truncated last record is malformed, not fatal.
      const slow = await parseBlocklist(chunked(bytes, 1));
      assert.deepEqual(slow.toRanges(), r.toRanges());
      const cut = await parseBlocklist(bytes.subarray(0, bytes.length - 3));
      assert.equal(cut.stats.malformed, 1);
      assert.equal(cut.stats.entries, 3);
      assert.match(cut.stats.malformedLines[0].text, /truncated/);
    });
  }

  test(".p2b with an unknown version is BLOCKLIST_FORMAT", opts, async () => {
    await rejectsCode(() => parseBlocklist(p2b(9, [["x", "1.1.1.1", "1.1.1.2"]])), "BLOCKLIST_FORMAT");
  });

  test("CIDR lists and single addresses, IPv4 and IPv6, # and // comments, inline comments", opts, async () => {
    const r = await parseBlocklist(enc(
      [
        "# a comment",
        "   // another comment",
        "",
        "10.1.2.3/24  # host bits are cleared",
        "192.168.0.0/16 ; SBL123, spamhaus style",
        "0.0.0.0/32",
        "200.1.1.1",
        "2001:db8::/32",
        "2001:db8:ffff::1/128 // inside the /32",
        "fe80::1",
        "::ffff:1.2.3.4",
        "2002::/16",
      ].join("\n"),
    ));
    assert.deepEqual(r.toRanges().map((x) => `${x.first}-${x.last}`), [
      "0.0.0.0-0.0.0.0",
      "10.1.2.0-10.1.2.255",
      "192.168.0.0-192.168.255.255",
      "200.1.1.1-200.1.1.1",
      "::ffff:1.2.3.4-::ffff:1.2.3.4",
      "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
      "2002::-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      "fe80::1-fe80::1",
    ]);
    assert.equal(r.stats.kinds.cidr, 6);
    assert.equal(r.stats.kinds.address, 3);
    assert.equal(r.stats.malformed, 0);
    assert.equal(r.stats.lines, 12);
  });

  test(
    "reversed ranges are swapped; overlapping and adjacent ranges merge per family, never across",
    opts,
    async () => {
      const r = await parseBlocklist(enc(
        [
          "a:1.0.0.50-1.0.0.10",
          "1.0.0.40-1.0.0.60",
          "1.0.0.61-1.0.0.70", // adjacent
          "1.0.0.72-1.0.0.80", // gap of one address: stays separate
          "1.0.0.0/28", // overlaps the first
          "255.255.255.0-255.255.255.255",
          "2001:db8::ff - 2001:db8::1",
          "2001:db8::100-2001:db8::1ff",
          "::-::1",
          "2001:db8::2",
        ].join("\n"),
      ));
      assert.equal(r.stats.reversed, 2);
      assert.deepEqual(r.toRanges().map((x) => `${x.first}-${x.last}`), [
        "1.0.0.0-1.0.0.70",
        "1.0.0.72-1.0.0.80",
        "255.255.255.0-255.255.255.255",
        "::-::1",
        "2001:db8::1-2001:db8::1ff",
      ]);
      assert.equal(r.stats.entries, 10);
      assert.equal(r.ranges, 5);
    },
  );

  test("malformed lines are counted and the first few quoted with line numbers; never fatal", opts, async () => {
    const long = "x".repeat(10_000);
    const text = [
      "good:1.1.1.1-1.1.1.2",
      "1.2.3",
      "300.1.1.1",
      "1.1.1.1-::1",
      `label:1.2.3.4-${long}`,
      "2001:db8::g",
      "1.1.1.1/40",
      "1.2.3.4 - 1.2.3.5 , abc , dat with a bad level",
      "3.3.3.3",
    ].join("\n");
    const r = await parseBlocklist(enc(text), { maxMalformedSamples: 3 });
    assert.equal(r.stats.malformed, 7);
    assert.equal(r.stats.entries, 2);
    assert.deepEqual(r.stats.malformedLines.slice(0, 3).map((m) => m.line), [2, 3, 4]);
    assert.deepEqual(r.stats.malformedLines.map((m) => m.text), ["1.2.3", "300.1.1.1", "1.1.1.1-::1"]);
    const all = await parseBlocklist(enc(text), { maxMalformedSamples: 100 });
    const quoted = all.stats.malformedLines.find((m) => m.line === 5)!;
    assert.ok(quoted.text.length <= 201, "a long line is quoted cut short");
    assert.deepEqual(await ranges(text), ["1.1.1.1-1.1.1.2", "3.3.3.3-3.3.3.3"]);
    // A single line longer than the line limit with no newline at all is counted, not kept.
    const huge = await parseBlocklist(enc("1.1.1.1\n" + "y".repeat(300_000) + "\n2.2.2.2\n"));
    assert.equal(huge.stats.malformed, 1);
    assert.equal(huge.stats.entries, 2);
    assert.equal(huge.stats.lines, 3);
  });

  test("gzip and zip (stored, deflate, after a directory entry) are detected by magic bytes", opts, async () => {
    const list = enc("Org:1.2.3.0-1.2.3.255\n10.0.0.0/8\n");
    const want = await ranges(list);
    assert.deepEqual(want, ["1.2.3.0-1.2.3.255", "10.0.0.0-10.255.255.255"]);
    const cases: [string, Uint8Array, string][] = [
      ["gzip", new Uint8Array(gzipSync(list)), "gzip"],
      ["zip stored", zip("level1.p2p", list, 0), "zip"],
      ["zip deflate", zip("level1.p2p", list, 8), "zip"],
      ["zip after a directory", zip("lists/level1.p2p", list, 8, true), "zip"],
      [
        "gzip of a p2b",
        new Uint8Array(gzipSync(p2b(2, [["a", "1.2.3.0", "1.2.3.255"], ["b", "10.0.0.0", "10.255.255.255"]]))),
        "gzip",
      ],
    ];
    for (const [label, bytes, compression] of cases) {
      const r = await parseBlocklist(chunked(bytes, 7));
      assert.equal(r.stats.compression, compression, label);
      assert.deepEqual(r.toRanges().map((x) => `${x.first}-${x.last}`), want, label);
    }
    // Corrupt and truncated compressed data: BLOCKLIST_FORMAT.
    const gz = new Uint8Array(gzipSync(list));
    await rejectsCode(() => parseBlocklist(gz.subarray(0, gz.length - 6)), "BLOCKLIST_FORMAT", "truncated gzip");
    const bad = gz.slice();
    bad.fill(0xee, 12, 30);
    await rejectsCode(() => parseBlocklist(bad), "BLOCKLIST_FORMAT", "corrupt gzip");
    const z = zip("a.p2p", list, 8);
    await rejectsCode(() => parseBlocklist(z.subarray(0, 40)), "BLOCKLIST_FORMAT", "truncated zip");
    const enc2 = z.slice();
    enc2[6] |= 1;
    await rejectsCode(() => parseBlocklist(enc2), "BLOCKLIST_FORMAT", "encrypted zip");
  });

  test("any chunking gives the same result (lines, UTF-8 and gzip split anywhere)", opts, async () => {
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const a = `${(i >> 8) + 1}.${i & 255}.0.0`;
      if (i % 3 === 0) lines.push(`Örg ☃ ${i}:${a}-${(i >> 8) + 1}.${i & 255}.0.127`);
      else if (i % 3 === 1) lines.push(`${a}/25`);
      else lines.push(`${i.toString(16)}:db8::/48`);
    }
    const text = enc(lines.join("\r\n"));
    const ref = await parseBlocklist(text);
    assert.equal(ref.stats.entries, 3000);
    for (const size of [1, 3, 4093]) {
      const r = await parseBlocklist(chunked(text, size));
      assert.deepEqual(r.toRanges(), ref.toRanges(), `chunks of ${size}`);
      assert.deepEqual(r.stats.kinds, ref.stats.kinds);
    }
    const gz = await parseBlocklist(chunked(new Uint8Array(gzipSync(text)), 5));
    assert.deepEqual(gz.toRanges(), ref.toRanges());
  });

  test("a large list generated on the fly (never held whole) with a 5 MB line in it", opts, async () => {
    // 400 000 .p2p lines (~17 MB) made chunk by chunk as the parser pulls them, one 5 MB line without a
    // newline among them: the line is counted once as malformed and dropped as it streams.
    const N = 400_000;
    let i = 0, longSent = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (i >= N) return c.close();
        if (i === N / 2 && !longSent) {
          longSent = true;
          for (let k = 0; k < 5; k++) c.enqueue(new Uint8Array(1 << 20).fill(0x41));
          c.enqueue(enc("\n"));
          return;
        }
        const lines: string[] = [];
        for (const end = Math.min(N, i + 5000); i < end; i++) {
          // 2 addresses of every 4: nothing merges
          lines.push(`Org ${i}: x:${ip4(4 * i)}-${ip4(4 * i + 1)}`);
        }
        c.enqueue(enc(lines.join("\n") + "\n"));
      },
    }, { highWaterMark: 0 });
    const r = await parseBlocklist(stream);
    assert.equal(r.stats.entries, N);
    assert.equal(r.stats.lines, N + 1);
    assert.equal(r.stats.malformed, 1);
    assert.equal(r.stats.malformedLines[0].line, N / 2 + 1);
    assert.ok(r.stats.malformedLines[0].text.startsWith("AAAA"));
    assert.equal(r.ranges, N);
    const all = r.toRanges();
    assert.deepEqual(all[0], { first: "0.0.0.0", last: "0.0.0.1", access: "block" });
    assert.deepEqual(all[N - 1], { first: ip4(4 * (N - 1)), last: ip4(4 * (N - 1) + 1), access: "block" });
  });

  test(
    "not a blocklist (binary garbage, an HTML page) is BLOCKLIST_FORMAT; bad input INVALID_ARGUMENT",
    opts,
    async () => {
      const garbage = new Uint8Array(5000).map((_, i) => (i * 7919) % 251);
      await rejectsCode(() => parseBlocklist(garbage), "BLOCKLIST_FORMAT", "binary garbage");
      await rejectsCode(
        () => parseBlocklist(enc("<!doctype html>\n<html><body>Not found</body></html>\n")),
        "BLOCKLIST_FORMAT",
        "an HTML page",
      );
      // Empty or comment-only lists are fine (nothing to block).
      assert.equal((await parseBlocklist(new Uint8Array(0))).ranges, 0);
      assert.equal((await parseBlocklist(enc("# nothing yet\n"))).ranges, 0);
      await rejectsCode(() => parseBlocklist("1.2.3.4" as never), "INVALID_ARGUMENT");
      await rejectsCode(() => parseBlocklist(enc("1.1.1.1"), { maxMalformedSamples: -1 }), "INVALID_ARGUMENT");
      await rejectsCode(() => parseBlocklist(enc("1.1.1.1"), { bogus: 1 } as never), "INVALID_ARGUMENT");
      // A stream that errors: BLOCKLIST_SOURCE.
      const failing = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(enc("1.1.1.1\n"));
          c.error(new Error("disk on fire"));
        },
      });
      const e = await rejectsCode(() => parseBlocklist(failing), "BLOCKLIST_SOURCE");
      assert.match(e.message, /disk on fire/);
      const ac = new AbortController();
      ac.abort();
      await rejectsCode(() => parseBlocklist(enc("1.1.1.1\n"), { signal: ac.signal }), "ABORTED");
    },
  );
});

describe("blocklist: the plugin", () => {
  test("sources: a file, a URL, bytes and a stream at once; a report per source", opts, async () => {
    using dir = new TempDir();
    const file = dir.join("list.dat.gz");
    writeFileSync(file, gzipSync(enc("127.0.1.0 - 127.0.1.255 , 000 , file\nbroken line\n")));
    await using http = await serve(new Map([["/list.p2b", { body: p2b(3, [["url", "127.0.2.0", "127.0.2.255"]]) }]]));
    await using s = await openIsolated();
    s.ipFilter.add({ first: "127.0.9.9" }); // the user's own rule
    const bl = await s.use(blocklist({
      sources: [
        file,
        http.url("/list.p2b"),
        { bytes: enc("127.0.3.0/24\n"), name: "inline" },
        chunked(enc("127.0.3.200-127.0.4.10\n2001:db8::/64\n"), 5),
      ],
    }));
    const rep = bl.report;
    assert.equal(rep.loads, 1);
    assert.deepEqual(rep.sources.map((x) => [x.name, x.kind, x.ranges, x.compression, x.format]), [
      [file, "path", 1, "gzip", "text"],
      [http.url("/list.p2b"), "url", 1, "none", "p2b"],
      ["inline", "bytes", 1, "none", "text"],
      ["stream[3]", "stream", 2, "none", "text"],
    ]);
    assert.equal(rep.sources[0].malformed, 1);
    assert.deepEqual(rep.sources[0].malformedLines, [{ line: 2, text: "broken line" }]);
    assert.equal(rep.ranges, 2, "adjacent and overlapping ranges of different sources merged");
    assert.deepEqual(blocked(s), [
      "127.0.1.0-127.0.4.10",
      "127.0.9.9-127.0.9.9",
      "2001:db8::-2001:db8::ffff:ffff:ffff:ffff",
    ]);
    for (const a of ["127.0.1.7", "127.0.2.255", "127.0.4.10", "127.0.9.9"]) {
      assert.equal(s.ipFilter.access(a), "block", a);
    }
    assert.equal(s.ipFilter.access("127.0.4.11"), "allow");
    assert.equal(s.ipFilter.access("127.0.0.1"), "allow");
    // The loopback guard of the isolated profile still holds over the swap.
    assert.equal(s.ipFilter.access("8.8.8.8"), "block");
    assert.equal(s.ipFilter.access("2001:db9::1"), "block");
    await bl.detach();
    assert.deepEqual(blocked(s), ["127.0.9.9-127.0.9.9"], "detach removed its ranges, the user's rule stays");
    assert.equal(s.ipFilter.access("8.8.8.8"), "block", "still loopback-only");
  });

  test("refresh re-loads and swaps; a failing refresh keeps the old ranges; timed refresh", opts, async () => {
    const routes = new Map<string, { status?: number; body: string | Uint8Array }>([["/l.txt", {
      body: "127.0.5.0/24\n",
    }]]);
    await using http = await serve(routes);
    await using s = await openIsolated();
    const refreshed: { ranges: number; error?: string }[] = [];
    let wake: () => void = () => {};
    const bl = await s.use(blocklist({
      sources: { url: http.url("/l.txt"), name: "feed" },
      refreshMs: 150,
      onRefresh: (r, e) => {
        refreshed.push({ ranges: r.ranges, error: e?.code });
        wake();
      },
    }));
    assert.deepEqual(blocked(s), ["127.0.5.0-127.0.5.255"]);
    const nextRefresh = () => new Promise<void>((ok) => (wake = ok));

    // The list changes: the next timed refresh replaces the old ranges.
    routes.set("/l.txt", { body: "127.0.6.0/24\n127.0.7.1\n" });
    let n = refreshed.length;
    while (refreshed.length === n || refreshed.at(-1)!.ranges !== 2) {
      n = refreshed.length;
      await nextRefresh();
    }
    assert.deepEqual(blocked(s), ["127.0.6.0-127.0.6.255", "127.0.7.1-127.0.7.1"]);
    assert.ok(bl.report.loads >= 2);
    assert.equal(s.ipFilter.access("8.8.8.8"), "block", "the loopback guard holds over a refresh");
    assert.equal(s.ipFilter.access("2001:db9::1"), "block");

    // The source breaks: the timed refresh reports the error and keeps the ranges.
    routes.set("/l.txt", { status: 500, body: "oops" });
    n = refreshed.length;
    while (refreshed.length === n || !refreshed.at(-1)!.error) {
      n = refreshed.length;
      await nextRefresh();
    }
    assert.equal(refreshed.at(-1)!.error, "BLOCKLIST_SOURCE");
    assert.equal(bl.report.lastError?.code, "BLOCKLIST_SOURCE");
    assert.deepEqual(blocked(s), ["127.0.6.0-127.0.6.255", "127.0.7.1-127.0.7.1"], "old ranges in force");
    await rejectsCode(() => bl.refresh(), "BLOCKLIST_SOURCE");
    routes.set("/l.txt", { body: new Uint8Array(gzipSync(enc("\x00\x01garbage"))) });
    await rejectsCode(() => bl.refresh(), "BLOCKLIST_FORMAT");
    assert.deepEqual(blocked(s), ["127.0.6.0-127.0.6.255", "127.0.7.1-127.0.7.1"]);

    // Manual refresh; concurrent calls share one load.
    routes.set("/l.txt", { body: "127.0.8.0-127.0.8.9\n" });
    const hits = http.hits.get("/l.txt")!;
    const [a, b] = await Promise.all([bl.refresh(), bl.refresh()]);
    assert.equal(a.loads, b.loads);
    assert.ok(http.hits.get("/l.txt")! - hits <= 2, "at most one load beside a timed one");
    assert.deepEqual(blocked(s), ["127.0.8.0-127.0.8.9"]);
    assert.equal(bl.report.lastError, undefined);
    await bl.detach();
    assert.deepEqual(blocked(s), []);
    await rejectsCode(() => bl.refresh(), "ABORTED");
  });

  test("rules others add meanwhile survive refresh and detach; two blocklists stack", opts, async () => {
    await using s = await openIsolated();
    let version = 1;
    const a = await s.use(blocklist({
      sources: { stream: () => chunked(enc(version === 1 ? "127.1.0.0/16\n" : "127.3.0.0/16\n"), 9), name: "a" },
    }));
    const b = await s.use(blocklist({ sources: [enc("127.1.128.0-127.2.0.255\n")] }));
    s.ipFilter.add([{ first: "127.9.0.1" }, { first: "127.1.0.5", access: "allow" }]);
    assert.deepEqual(blocked(s), ["127.1.0.0-127.1.0.4", "127.1.0.6-127.2.0.255", "127.9.0.1-127.9.0.1"]);
    version = 2;
    await a.refresh();
    // a's old /16 is gone except where b covers it; the user's allow inside a's old range is kept
    // (the address is not blocked by anything now), the user's block stays.
    assert.deepEqual(blocked(s), ["127.1.128.0-127.2.0.255", "127.3.0.0-127.3.255.255", "127.9.0.1-127.9.0.1"]);
    await b.detach();
    assert.deepEqual(blocked(s), ["127.3.0.0-127.3.255.255", "127.9.0.1-127.9.0.1"]);
    s.ipFilter.add({ first: "127.3.0.7", access: "allow" });
    await a.detach();
    assert.deepEqual(blocked(s), ["127.9.0.1-127.9.0.1"]);
    await a.detach();
  });

  test("attach fails with the source's code and applies nothing; bad options are INVALID_ARGUMENT", opts, async () => {
    await using s = await openIsolated();
    using dir = new TempDir();
    await using http = await serve(new Map());
    const before = s.ipFilter.export();
    const bad: [string, unknown[], string][] = [
      ["missing file", [enc("127.0.0.9\n"), dir.join("nope.p2p")], "BLOCKLIST_SOURCE"],
      ["a directory", [dir.path], "BLOCKLIST_SOURCE"],
      ["HTTP 404", [http.url("/missing")], "BLOCKLIST_SOURCE"],
      ["connection refused", ["http://127.0.0.1:1/list"], "BLOCKLIST_SOURCE"],
      ["binary garbage", [new Uint8Array(64).fill(0)], "BLOCKLIST_FORMAT"],
    ];
    for (const [label, sources, code] of bad) {
      await rejectsCode(() => s.use(blocklist({ sources: sources as never })), code, label);
      assert.deepEqual(s.ipFilter.export(), before, `${label}: nothing applied`);
    }
    const invalid: unknown[] = [
      undefined,
      null,
      {},
      { sources: [] },
      { sources: 42 },
      { sources: [""] },
      { sources: ["ftp://127.0.0.1/x"] },
      { sources: [{ path: "a", url: "http://127.0.0.1/" }] },
      { sources: [{ bytes: "text" }] },
      { sources: [{ stream: 1 }] },
      { sources: [{ path: "a", extra: 1 }] },
      { sources: [{ path: "a", headers: {} }] },
      { sources: ["a"], refreshMs: 5 },
      { sources: ["a"], refreshMs: 1.5 },
      { sources: ["a"], fetchTimeoutMs: 0 },
      { sources: ["a"], maxMalformedSamples: 10_000 },
      { sources: ["a"], onRefresh: "no" },
      { sources: ["a"], extra: true },
    ];
    for (const o of invalid) throwsCode(() => blocklist(o as never), "INVALID_ARGUMENT", JSON.stringify(o));
    const rs = chunked(enc("1.1.1.1"), 1);
    throwsCode(() => blocklist({ sources: [rs, rs] }), "INVALID_ARGUMENT", "one stream twice");
    const e = await rejectsCode(() => s.use(blocklist({ sources: [http.url("/missing")] })), "BLOCKLIST_SOURCE");
    assert.ok(e instanceof TorrentError && /404/.test(e.message));
  });

  test("closing the session detaches the plugin and stops its refreshes", opts, async () => {
    const s = await openIsolated();
    let loads = 0;
    const bl = await s.use(blocklist({
      sources: { stream: () => (loads++, chunked(enc("127.0.0.9\n"), 4)) },
      refreshMs: 100,
    }));
    await s.close();
    assert.equal(bl.detached, true);
    const after = loads;
    await new Promise((ok) => setTimeout(ok, 350));
    assert.equal(loads, after, "no load after close");
  });
});

describe("blocklist: real connections", () => {
  test(
    "a seeder with a blocklist refuses the blocked leecher's address and serves the unblocked one",
    { timeout: TIMEOUT.transfer },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "a.bin": 150_001, "b/c.bin": 40_000 });
      await using seeder = await openSeeder(fx, { listen: "127.0.0.2:0" });
      // The seeder blocks 127.0.0.3 (a .p2p line among others) but not 127.0.0.4.
      await using bl = await seeder.use(blocklist({
        sources: [enc("# test list\nBlocked leecher:127.0.0.3-127.0.0.3\n127.0.0.100/30\n")],
      }));
      assert.equal(bl.report.ranges, 2);
      await using blockedPeer = await openIsolated({ listen: "127.0.0.3:0" });
      await using allowedPeer = await openIsolated({ listen: "127.0.0.4:0" });
      const seederEvents = seeder.events({ types: ["peer_blocked", "peer_connect"] });
      const port = seeder.listenPort;

      const tb = await blockedPeer.add({ torrent: fx.made.torrent, savePath: dir.join("blocked") });
      tb.connectPeer("127.0.0.2", port);
      const ev = await waitFor(seederEvents, (e) => e.type === "peer_blocked" || e.type === "peer_connect");
      assert.equal(ev.type, "peer_blocked", `the seeder let the blocked leecher in: ${ev.message}`);
      assert.match(ev.type === "peer_blocked" ? ev.peer : "", /^127\.0\.0\.3:\d+$/);
      assert.equal(ev.type === "peer_blocked" && ev.reason, "ip_filter");

      const seen: TorrentEvent[] = [];
      // The seeder must be the blocked leecher's only possible source: the allowed peer, once it has
      // pieces, would otherwise be free to share them with it.
      allowedPeer.ipFilter.add({ first: "127.0.0.3" });
      const allowedEvents = allowedPeer.events({ types: ["torrent_finished", "peer_connect"] });
      const ta = await allowedPeer.add({ torrent: fx.made.torrent, savePath: dir.join("allowed") });
      ta.connectPeer("127.0.0.2", port);
      await waitFor(allowedEvents, (e) => (seen.push(e), e.type === "torrent_finished" && e.torrent === ta));
      assert.ok(seen.some((e) => e.type === "peer_connect" && e.peer === `127.0.0.2:${port}`));
      assert.equal(ta.status().isFinished, true);
      const stb = tb.status();
      assert.equal(stb.totalDownload, 0, "no byte reached the blocked leecher");
      assert.ok(!seeder.torrents().some((t) => t.peers().some((p) => p.address.startsWith("127.0.0.3:"))));
      assert.equal(stb.progress, 0);
      await allowedEvents.return();
      await seederEvents.return();
      await allowedPeer.close();
      assertSameTree(fx.dataDir, dir.join("allowed", fx.name));

      // Detached: the once-blocked address now gets the data too.
      await bl.detach();
      assert.equal(seeder.ipFilter.access("127.0.0.3"), "allow");
      const blockedEvents = blockedPeer.events({ types: ["torrent_finished"] });
      tb.connectPeer("127.0.0.2", port);
      await waitFor(blockedEvents, (e) => e.type === "torrent_finished" && e.torrent === tb, "torrent_finished");
      await blockedEvents.return();
    },
  );

  test(
    "a leecher with a blocklist (from a URL) never connects to a blocked seeder",
    { timeout: TIMEOUT.transfer },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "a.bin": 60_000 });
      await using blockedSeeder = await openSeeder(fx, { listen: "127.0.0.5:0" });
      await using http = await serve(
        new Map([["/bl.dat", { body: "127.000.000.005 - 127.000.000.005 , 010 , seeder\n" }]]),
      );
      await using leecher = await openIsolated({ listen: "127.0.0.6:0" });
      await using _bl = await leecher.use(blocklist({ sources: http.url("/bl.dat") }));
      const events = leecher.events({ types: ["peer_blocked", "peer_connect"] });
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl") });
      t.connectPeer("127.0.0.5", blockedSeeder.listenPort);
      const ev = await waitFor(events, (e) => e.type === "peer_blocked" || e.type === "peer_connect");
      assert.equal(ev.type, "peer_blocked", `reached the blocked seeder: ${ev.message}`);
      assert.equal(ev.type === "peer_blocked" && ev.peer, `127.0.0.5:${blockedSeeder.listenPort}`);
      assert.equal(t.status().totalDownload, 0);
      await events.return();
    },
  );
});
