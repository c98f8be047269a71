// The streaming HTTP server plugin (plugins/http) on real sessions over
// loopback: ranged reads while the torrent downloads from a rate-limited
// seeder, seeking, many concurrent readers, the attack cases (bad Host, DNS
// rebinding, traversal, malformed Range and percent-encoding, too many
// ranges), HEAD, 416, Content-Disposition, detach; and a garbage corpus
// through the Range / path / Host parsers and the handler.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import type { Session, Torrent } from "../mod.ts";
import { type HttpServer, httpServer } from "../plugins/http/mod.ts";
import { hostName, parseRange, parseRoute } from "../plugins/http/_parse.ts";
import {
  addSeed,
  makeFixture,
  openIsolated,
  openSeeder,
  rejectsCode,
  TempDir,
  THROTTLED_SEEDER,
  throwsCode,
  TIMEOUT,
  waitFor,
} from "./_helpers.ts";

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

/** One HTTP/1.1 exchange over a raw socket: the request bytes exactly as given (no client normalisation). */
function raw(port: number, head: string): Promise<{ status: number; headers: Map<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const so = connect(port, "127.0.0.1", () => so.write(head));
    so.on("data", (c: Uint8Array) => chunks.push(c));
    so.on("error", reject);
    so.on("close", () => {
      const text = new TextDecoder().decode(Buffer.concat(chunks));
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (!m) return reject(new Error(`no HTTP status line in ${JSON.stringify(text.slice(0, 200))}`));
      const [h, ...rest] = text.split("\r\n\r\n");
      const headers = new Map<string, string>();
      for (const line of h.split("\r\n").slice(1)) {
        const i = line.indexOf(":");
        headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
      }
      resolve({ status: Number(m[1]), headers, body: rest.join("\r\n\r\n") });
    });
  });
}

/** GET `path` with `host` and extra header lines, Connection: close. */
function rawGet(port: number, path: string, host = `127.0.0.1:${port}`, extra = "", method = "GET") {
  return raw(port, `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`);
}

async function body(r: Response): Promise<Uint8Array> {
  return new Uint8Array(await r.arrayBuffer());
}

function assertBytes(got: Uint8Array, want: Uint8Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  assert.ok(Buffer.from(got).equals(Buffer.from(want)), `${what}: content differs`);
}

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fileIndex(t: Torrent, suffix: string): number {
  const f = t.files().find((x) => x.path.endsWith(suffix));
  assert.ok(f, `no file ending in ${suffix}`);
  return f.index;
}

const TRICKY = '<img src=x onerror=alert(1)> & "q"';
const UNICODE = "café ☕ 東京.mkv";
const SERVED_TREE = { "movie.mp4": 200_000, [UNICODE]: 50_000, "notes.txt": 1_000 };

/** A seeding session with the plugin: the torrent is complete, nothing moves over the network. */
async function servedFixture(dir: TempDir, options: Parameters<typeof httpServer>[0] = {}) {
  const fx = await makeFixture(dir, SERVED_TREE, { name: TRICKY });
  const session = await openIsolated();
  const t = await addSeed(session, fx);
  const http = await session.use(httpServer(options));
  const src = (name: string) => new Uint8Array(readFileSync(`${fx.dataDir}/${name}`));
  return { fx, session, t, http, src };
}

describe("plugins/http: a complete torrent", () => {
  test("index (escaped, strict CSP), JSON listing, playlist, HEAD, full and ranged GET, 416, dispositions", {
    timeout: TIMEOUT.quick,
  }, async () => {
    using dir = new TempDir();
    const { session, t, http, src } = await servedFixture(dir);
    await using _s = session;
    assert.match(http.url!, /^http:\/\/127\.0\.0\.1:\d+$/);
    const movie = src("movie.mp4");
    const mi = fileIndex(t, "movie.mp4"), ui = fileIndex(t, ".mkv"), ni = fileIndex(t, "notes.txt");

    // HTML index: names escaped, strict CSP, no-sniff.
    let r = await fetch(`${http.url}/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type")!, /^text\/html/);
    assert.match(r.headers.get("content-security-policy")!, /default-src 'none'/);
    assert.equal(r.headers.get("x-content-type-options"), "nosniff");
    const html = await r.text();
    assert.ok(!html.includes("<img"), "a torrent name went into the page unescaped");
    assert.ok(html.includes("&#60;img src=x onerror=alert(1)&#62; &#38; &#34;q&#34;"), "escaped name missing");

    // JSON listing.
    r = await fetch(`${http.url}/torrents.json`);
    assert.equal(r.status, 200);
    const listing = await r.json() as {
      torrents: { id: string; name: string; files: { index: number; url: string }[] }[];
    };
    assert.equal(listing.torrents.length, 1);
    assert.equal(listing.torrents[0].name, TRICKY);
    assert.equal(listing.torrents[0].id, t.infoHash.v1);
    assert.deepEqual(listing.torrents[0].files.map((f) => f.index).sort(), [mi, ui, ni].sort());
    assert.equal(listing.torrents[0].files.find((f) => f.index === mi)!.url, http.fileUrl(t, mi));

    // Playlist: the two media files, absolute URLs that serve them.
    for (const url of [http.playlistUrl(), http.playlistUrl(t)]) {
      r = await fetch(url);
      assert.equal(r.status, 200);
      const lines = (await r.text()).trim().split("\n");
      assert.equal(lines[0], "#EXTM3U");
      const urls = lines.filter((l) => l.startsWith("http://"));
      assert.deepEqual(urls.sort(), [http.fileUrl(t, mi), http.fileUrl(t, ui)].sort());
      assert.ok(lines.includes(`#EXTINF:-1,${UNICODE}`));
    }

    // HEAD: headers, no body.
    r = await fetch(http.fileUrl(t, mi), { method: "HEAD" });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-length"), "200000");
    assert.equal(r.headers.get("accept-ranges"), "bytes");
    assert.equal(r.headers.get("content-type"), "video/mp4");
    assert.equal((await body(r)).length, 0);

    // Full GET and ranges, byte for byte.
    r = await fetch(http.fileUrl(t, mi));
    assert.equal(r.status, 200);
    assertBytes(await body(r), movie, "full body");
    const ranges: [string, number, number][] = [
      ["bytes=1000-1999", 1000, 1999],
      ["bytes=-500", 199_500, 199_999],
      ["bytes=199990-", 199_990, 199_999],
      ["bytes=0-0", 0, 0],
      ["bytes=150000-999999999", 150_000, 199_999],
      ["bytes=0-9, 100-109", 0, 109], // several ranges: served as one spanning part
      ["bytes=300000-,10-19", 10, 19], // an unsatisfiable one among them is dropped
    ];
    for (const [h, a, b] of ranges) {
      r = await fetch(http.fileUrl(t, mi), { headers: { range: h } });
      assert.equal(r.status, 206, h);
      assert.equal(r.headers.get("content-range"), `bytes ${a}-${b}/200000`, h);
      // Bun sends a streamed body chunked, without Content-Length (oven-sh/bun#10507).
      if (!isBun) assert.equal(r.headers.get("content-length"), String(b - a + 1), h);
      assertBytes(await body(r), movie.subarray(a, b + 1), h);
    }

    // 416 with the size.
    for (const h of ["bytes=200000-", "bytes=200000-200010", "bytes=-0"]) {
      r = await fetch(http.fileUrl(t, mi), { headers: { range: h } });
      assert.equal(r.status, 416, h);
      assert.equal(r.headers.get("content-range"), "bytes */200000", h);
      await r.body?.cancel();
    }

    // ETag, If-None-Match, If-Range.
    r = await fetch(http.fileUrl(t, mi), { method: "HEAD" });
    const etag = r.headers.get("etag")!;
    assert.ok(etag);
    r = await fetch(http.fileUrl(t, mi), { headers: { "if-none-match": etag } });
    assert.equal(r.status, 304);
    r = await fetch(http.fileUrl(t, mi), { headers: { range: "bytes=0-9", "if-range": etag } });
    assert.equal(r.status, 206);
    await r.body?.cancel();
    r = await fetch(http.fileUrl(t, mi), { headers: { range: "bytes=0-9", "if-range": '"other"' } });
    assert.equal(r.status, 200, "a stale If-Range gets the whole file");
    assert.equal((await body(r)).length, 200_000);

    // Content-Disposition with an RFC 5987 name; ?download makes it an attachment.
    r = await fetch(http.fileUrl(t, ui), { method: "HEAD" });
    assert.equal(r.headers.get("content-type"), "video/x-matroska");
    const cd = r.headers.get("content-disposition")!;
    assert.match(cd, /^inline; filename="[\x20-\x7e]+"; filename\*=UTF-8''/);
    assert.equal(decodeURIComponent(/filename\*=UTF-8''(.+)$/.exec(cd)![1]), UNICODE);
    assert.ok(http.fileUrl(t, ui).endsWith("/" + encodeURIComponent(UNICODE)));
    r = await fetch(http.fileUrl(t, ui) + "?download", { method: "HEAD" });
    assert.match(r.headers.get("content-disposition")!, /^attachment; /);
    r = await fetch(http.fileUrl(t, ni));
    assert.equal(r.headers.get("content-type"), "text/plain; charset=utf-8");
    assertBytes(await body(r), src("notes.txt"), "notes.txt");

    // The name segment is cosmetic; the file is addressed by index only.
    r = await fetch(http.fileUrl(t, mi).replace(/[^/]+$/, "anything.bin"), { headers: { range: "bytes=0-9" } });
    assertBytes(await body(r), movie.subarray(0, 10), "any name");

    // fileUrl refuses what is not a file.
    throwsCode(() => http.fileUrl(t, 99), "INVALID_ARGUMENT");
    throwsCode(() => http.fileUrl(t, -1), "INVALID_ARGUMENT");
    throwsCode(() => http.fileUrl(t, 1.5), "INVALID_ARGUMENT");
    assert.equal(http.activeStreams, 0);
    assert.equal(http.heldDeadlines, 0, "a complete torrent needs no deadlines");
  });

  test("attack cases are refused with 4xx and the server keeps serving", { timeout: TIMEOUT.quick }, async () => {
    using dir = new TempDir();
    const secret = "TOP-SECRET-" + Math.random().toString(36).slice(2);
    writeFileSync(dir.join("secret.txt"), secret);
    const { session, t, http, src } = await servedFixture(dir);
    writeFileSync(dir.join("seed", "secret.txt"), secret);
    await using _s = session;
    const port = Number(new URL(http.url!).port);
    const ih = t.infoHash.v1!;
    const mi = fileIndex(t, "movie.mp4");
    const good = `/t/${ih}/${mi}/movie.mp4`;

    // Host allow-list: DNS rebinding (a foreign name resolving to 127.0.0.1) is refused.
    for (const host of [`evil.example:${port}`, `127.0.0.1.nip.io:${port}`, `localhost.evil.example`, "attacker"]) {
      const r = await rawGet(port, good, host);
      assert.equal(r.status, 421, `Host ${host}`);
      assert.ok(!r.headers.has("access-control-allow-origin"));
    }
    for (const host of ["127.0.0.1:abc", "127.0.0.1:1:2", "[::1", "a b", "@evil", ""]) {
      const r = await rawGet(port, good, host);
      assert.ok(r.status >= 400 && r.status < 500, `Host ${JSON.stringify(host)}: ${r.status}`);
    }
    {
      // No Host at all (no browser sends that, so it is no rebinding vector): the runtime's own 400,
      // or judged by the URL the runtime made from its own address.
      const r = await raw(port, `GET ${good} HTTP/1.1\r\nRange: bytes=0-0\r\nConnection: close\r\n\r\n`);
      assert.ok(r.status === 400 || r.status === 206, `no Host: ${r.status}`);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST`]) {
      assert.equal((await rawGet(port, good, host, "Range: bytes=0-0\r\n")).status, 206, `Host ${host}`);
    }

    // No path on disk is addressable: traversal attempts get 400/404 and never the secret.
    const traversal = [
      "/../../../../../../etc/passwd",
      "/secret.txt",
      "/seed/secret.txt",
      `/t/${ih}/../secret.txt`,
      `/t/${ih}/..%2f..%2fsecret.txt`,
      `/t/${ih}/${mi}/..%2f..%2f..%2fsecret.txt`,
      `/t/${ih}/${mi}/..%5c..%5csecret.txt`,
      `/t/${ih}/${mi}/%2e%2e`,
      `/t/%2e%2e/%2e%2e/secret.txt`,
      `/%2e%2e/%2e%2e/secret.txt`,
      `//etc/passwd`,
      `/t/${ih}/${mi}%00`,
      `/t/${ih}/%00/secret.txt`,
      `/t/${ih}/-1`,
      `/t/${ih}/1e2`,
      `/t/${ih}/00`,
      `/t/${ih}/0x1`,
      `/t/${ih}/99999999999`,
      `/t/${ih}/${mi}/a/b`,
      `/t/${ih.slice(1)}/${mi}`,
      `/t/${"0".repeat(40)}/0`,
      `/t/${ih}/${mi}/secret.txt/..`,
      `/t/${ih}/%252e%252e/secret.txt`,
      "/torrents.json/../secret.txt",
      `http://127.0.0.1:${port}/../secret.txt`,
    ];
    for (const p of traversal) {
      const r = await rawGet(port, p);
      assert.ok(r.status === 400 || r.status === 404, `${p}: ${r.status}`);
      assert.ok(!r.body.includes(secret), `${p} leaked the secret`);
    }

    // Bad percent-encoding: 400.
    for (const p of [`/t/%zz/${mi}`, `/t/${ih}/${mi}/%E0%A4%A`, `/t/${ih}/${mi}/%C0%AE%C0%AE`, `/t/${ih}/%`, "/%ff"]) {
      assert.equal((await rawGet(port, p)).status, 400, p);
    }

    // Malformed Range: 400; too many ranges: 416.
    const malformed = [
      "bytes=abc",
      "bytes=5-1",
      "bytes 0-1",
      "items=0-1",
      "bytes=--1",
      "bytes=1-2-3",
      "bytes=",
      "bytes=,",
      "bytes=0x10-20",
      "bytes=+1-2",
      "bytes=1 - 2",
      "bytes=-",
      "bytes=1.5-2",
      "=0-1",
      "bytes=0-1;2-3",
      "bytes=" + "9".repeat(5000),
    ];
    for (const h of malformed) {
      const r = await rawGet(port, good, undefined, `Range: ${h}\r\n`);
      assert.equal(r.status, 400, `Range: ${h.slice(0, 40)}`);
    }
    const nine = Array.from({ length: 9 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(",");
    const many = Array.from({ length: 500 }, (_, i) => `${i}-${i}`).join(",");
    for (const h of [`bytes=${nine}`, `bytes=${many}`]) {
      const r = await rawGet(port, good, undefined, `Range: ${h}\r\n`);
      assert.equal(r.status, 416, "ranges over the cap");
      assert.equal(r.headers.get("content-range"), "bytes */200000");
    }

    // Methods: only GET and HEAD.
    for (const m of ["POST", "PUT", "DELETE", "OPTIONS", "TRACE"]) {
      const r = await rawGet(port, good, undefined, "Content-Length: 0\r\n", m);
      assert.equal(r.status, 405, m);
    }

    // The Origin is never reflected.
    {
      const r = await rawGet(port, good, undefined, "Origin: http://evil.example\r\nRange: bytes=0-0\r\n");
      assert.equal(r.status, 206);
      assert.ok(!r.headers.has("access-control-allow-origin"), "Origin reflected");
    }

    // Still serving, byte for byte.
    const r = await fetch(`${http.url}${good}`, { headers: { range: "bytes=10-29" } });
    assertBytes(await body(r), src("movie.mp4").subarray(10, 30), "after the attacks");
    assert.equal(http.activeStreams, 0);
  });

  test("allowOrigin is sent as configured, never the request's Origin; allowedHosts extends the list", {
    timeout: TIMEOUT.quick,
  }, async () => {
    using dir = new TempDir();
    const { session, t, http } = await servedFixture(dir, {
      allowOrigin: "http://app.example",
      allowedHosts: ["media.home.arpa"],
      maxRanges: 2,
    });
    await using _s = session;
    const port = Number(new URL(http.url!).port);
    const path = new URL(http.fileUrl(t, fileIndex(t, "movie.mp4"))).pathname;
    let r = await rawGet(port, path, undefined, "Origin: http://evil.example\r\nRange: bytes=0-0\r\n");
    assert.equal(r.headers.get("access-control-allow-origin"), "http://app.example");
    r = await rawGet(port, path, `media.home.arpa:${port}`, "Range: bytes=0-0\r\n");
    assert.equal(r.status, 206);
    r = await rawGet(port, path, undefined, "Range: bytes=0-0,2-2,4-4\r\n");
    assert.equal(r.status, 416, "maxRanges 2");
    r = await rawGet(port, path, undefined, "Origin: http://app.example\r\nContent-Length: 0\r\n", "OPTIONS");
    assert.equal(r.status, 204);
    assert.equal(r.headers.get("access-control-allow-origin"), "http://app.example");
  });

  test("serve: false gives a handler to mount (under a basePath) in your own server", {
    timeout: TIMEOUT.quick,
  }, async () => {
    using dir = new TempDir();
    const { session, t, http, src } = await servedFixture(dir, { serve: false, basePath: "/media" });
    await using _s = session;
    assert.equal(http.url, undefined);
    const mi = fileIndex(t, "movie.mp4");
    assert.equal(http.fileUrl(t, mi), `/media/t/${t.infoHash.v1}/${mi}/movie.mp4`);
    const app = (req: Request) =>
      new URL(req.url).pathname.startsWith("/media/") ? http.handler(req) : Promise.resolve(new Response("mine"));
    const g = globalThis as {
      Deno?: { serve(o: object, h: typeof app): { addr: { port: number }; shutdown(): Promise<void> } };
      Bun?: { serve(o: object): { port: number; stop(force: boolean): void } };
    };
    let port: number, stop: () => Promise<void>;
    if (g.Deno) {
      const s = g.Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app);
      port = s.addr.port;
      stop = () => s.shutdown();
    } else {
      const s = g.Bun!.serve({ hostname: "127.0.0.1", port: 0, fetch: app });
      port = s.port;
      stop = () => Promise.resolve(s.stop(true));
    }
    try {
      const base = `http://127.0.0.1:${port}`;
      assert.equal(await (await fetch(`${base}/`)).text(), "mine");
      const r = await fetch(base + http.fileUrl(t, mi), { headers: { range: "bytes=5-14" } });
      assert.equal(r.status, 206);
      assertBytes(await body(r), src("movie.mp4").subarray(5, 15), "mounted");
      const pl = await (await fetch(`${base}/media/playlist.m3u`)).text();
      assert.ok(pl.includes(`${base}/media/t/${t.infoHash.v1}/${mi}/movie.mp4`), pl);
      assert.equal((await fetch(`${base}/media/`)).status, 200);
      assert.equal((await fetch(`${base}/media/t/${t.infoHash.v1}`)).status, 404);
    } finally {
      await stop();
    }
    // In process, without any server.
    const r = await http.handler(new Request(`http://localhost/media/t/${t.infoHash.v1}/${mi}`, { method: "HEAD" }));
    assert.equal(r.status, 200);
    assert.equal((await http.handler(new Request("http://evil.example/media/"))).status, 421);
  });

  test("bad options: INVALID_ARGUMENT; a port in use: LISTEN_FAILED", { timeout: TIMEOUT.quick }, async () => {
    for (
      const bad of [
        { port: -1 },
        { port: 70000 },
        { readAhead: -5 },
        { maxRanges: 0 },
        { allowOrigin: "http://a.example, http://b.example" },
        { basePath: "/x/" },
        { basePath: "../x" },
        { nope: 1 },
      ]
    ) {
      throwsCode(() => httpServer(bad as never), "INVALID_ARGUMENT", JSON.stringify(bad));
    }
    await using session = await openIsolated();
    await using a = await session.use(httpServer());
    const port = Number(new URL(a.url!).port);
    await rejectsCode(() => session.use(httpServer({ port })), "LISTEN_FAILED");
  });
});

describe("plugins/http: streaming while the torrent downloads", () => {
  test(
    "a ranged read finishes before the torrent does; a later range is served first; an open media stream " +
      "fetches first and last pieces early; a closed request drops its deadlines; detach closes the server",
    { timeout: TIMEOUT.slow },
    async () => {
      using dir = new TempDir();
      const SIZE = 3 * 1024 * 1024; // ~16 s at the seeder's 200 kB/s
      const fx = await makeFixture(dir, { "movie.mp4": SIZE }, { version: "hybrid", pieceSize: 16384 });
      const movie = new Uint8Array(readFileSync(`${fx.dataDir}/movie.mp4`));
      await using seeder = await openSeeder(fx, THROTTLED_SEEDER);
      await using leecher = await openIsolated();
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("download") });
      const events = t.events({ types: ["piece_finished"] });
      const http = await leecher.use(httpServer({ readAhead: 64 * 1024 }));
      const f = t.files().find((x) => x.path.endsWith("movie.mp4"))!;
      const pieceSize = t.status().pieceSize;
      const pieceOf = (pos: number) => Math.floor((f.offset + pos) / pieceSize);
      t.connectPeer("127.0.0.1", seeder.listenPort);
      const url = http.fileUrl(t, f.index);

      // 1. A range in the middle, byte for byte, done while the torrent is not.
      const a1 = 1_000_000, b1 = 1_099_999;
      let r = await fetch(url, { headers: { range: `bytes=${a1}-${b1}` } });
      assert.equal(r.status, 206);
      assertBytes(await body(r), movie.subarray(a1, b1 + 1), "range 1");
      let st = t.status();
      assert.ok(st.progress < 1, `the torrent finished before the read (progress ${st.progress})`);

      // 2. Seeking: a later range is served while pieces between the two are still missing.
      const a2 = SIZE - 300_000, b2 = SIZE - 200_001; // short of the last piece (step 3 waits for it)
      r = await fetch(url, { headers: { range: `bytes=${a2}-${b2}` } });
      assertBytes(await body(r), movie.subarray(a2, b2 + 1), "range 2");
      const have = t.pieces();
      let missing = 0;
      for (let p = pieceOf(b1) + 1; p < pieceOf(a2); p++) if (!have.has(p)) missing++;
      assert.ok(missing > 0, "every piece before the later range was already had: it was not served first");
      st = t.status();
      assert.ok(st.progress < 1, `progress ${st.progress}`);

      // 3. An open-ended stream of the media file: its first and last pieces get deadlines and arrive
      //    while the torrent is incomplete; cancelling the body drops every deadline.
      const first = pieceOf(0), last = pieceOf(SIZE - 1);
      const ac = new AbortController();
      const a3 = 1_600_000;
      r = await fetch(url, { headers: { range: `bytes=${a3}-` }, signal: ac.signal });
      assert.equal(r.status, 206);
      assert.equal(r.headers.get("content-range"), `bytes ${a3}-${SIZE - 1}/${SIZE}`);
      const reader = r.body!.getReader();
      const chunk = await reader.read();
      assert.ok(chunk.value && chunk.value.length > 0);
      assertBytes(chunk.value, movie.subarray(a3, a3 + chunk.value.length), "stream start");
      assert.ok(http.activeStreams >= 1 && http.heldDeadlines > 0, "an open stream holds deadlines");
      const both = () => t.pieces().has(first) && t.pieces().has(last);
      if (!both()) await waitFor(events, (ev) => ev.type === "piece_finished" && both(), "first and last pieces");
      st = t.status();
      assert.ok(st.progress < 1, `the first and last pieces came only with the rest (progress ${st.progress})`);
      ac.abort();
      await reader.cancel().catch(() => {});
      await http.idle();
      assert.equal(http.activeStreams, 0);
      assert.equal(http.heldDeadlines, 0, "a closed request left deadlines behind");

      // 4. detach ends open streams and closes the server.
      const ac4 = new AbortController();
      r = await fetch(url, { headers: { range: `bytes=${a3}-` }, signal: ac4.signal });
      const reader4 = r.body!.getReader();
      await reader4.read();
      const serverUrl = http.url!;
      await http.detach();
      assert.equal(http.activeStreams, 0);
      assert.equal(http.heldDeadlines, 0);
      await assert.rejects(async () => {
        for (;;) if ((await reader4.read()).done) break;
      }, "a detached server's stream ends with an error");
      await assert.rejects(fetch(`${serverUrl}/`), "the server still answers after detach");
      await events.return();
      assert.ok(t.status().progress < 1, "this test ran while the torrent was downloading");
    },
  );

  test("20 concurrent range readers of a magnet's file, started before metadata, are all byte-exact", {
    timeout: TIMEOUT.transfer,
  }, async () => {
    using dir = new TempDir();
    const SIZE = 4 * 1024 * 1024 + 12_345;
    const fx = await makeFixture(dir, { "clip.webm": SIZE, "other.bin": 100_000 }, { pieceSize: 32768 });
    const clip = new Uint8Array(readFileSync(`${fx.dataDir}/clip.webm`));
    await using seeder = await openSeeder(fx);
    await using leecher = await openIsolated();
    const t = await leecher.add({ magnet: fx.made.magnet, savePath: dir.join("download") });
    await using http = await leecher.use(httpServer({ readAhead: 256 * 1024 }));
    assert.equal(t.status().hasMetadata, false);
    // The file index is not known without metadata: clip.webm sorts first in the torrent (index 0).
    const url = http.fileUrl(t, 0);
    const rnd = prng(42);
    const reads = Array.from({ length: 20 }, (_, i) => {
      const a = Math.floor(rnd() * (SIZE - 1));
      const len = i === 0 ? SIZE - a : 1 + Math.floor(rnd() * 400_000);
      const b = Math.min(SIZE - 1, a + len - 1);
      return { a, b };
    });
    const pending = reads.map(async ({ a, b }) => {
      const r = await fetch(url, { headers: { range: `bytes=${a}-${b}` } });
      assert.equal(r.status, 206);
      assert.equal(r.headers.get("content-range"), `bytes ${a}-${b}/${SIZE}`);
      assertBytes(await body(r), clip.subarray(a, b + 1), `bytes=${a}-${b}`);
    });
    t.connectPeer("127.0.0.1", seeder.listenPort);
    await Promise.all(pending);
    assert.equal(t.files()[0].path.endsWith("clip.webm"), true);
    await http.idle();
    assert.equal(http.heldDeadlines, 0);
  });

  test("a skipped file (priority 0) is switched to low priority when streamed, and served byte for byte", {
    timeout: TIMEOUT.transfer,
  }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "a.mp3": 300_000, "b.bin": 100_000 }, { pieceSize: 16384 });
    await using seeder = await openSeeder(fx);
    await using leecher = await openIsolated();
    const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("download") });
    const ai = fileIndex(t, "a.mp3"), bi = fileIndex(t, "b.bin");
    await t.setFilePriority(ai, 0);
    await using http = await leecher.use(httpServer());
    t.connectPeer("127.0.0.1", seeder.listenPort);
    const r = await fetch(http.fileUrl(t, ai));
    assert.equal(r.status, 200);
    assertBytes(await body(r), new Uint8Array(readFileSync(`${fx.dataDir}/a.mp3`)), "a skipped file");
    assert.equal(t.filePriority(ai), 1);
    assert.equal(t.filePriority(bi), 4);
  });

  test("a file of a torrent without metadata: 504 after metadataTimeout; a removed torrent: 404", {
    timeout: TIMEOUT.quick,
  }, async () => {
    using dir = new TempDir();
    await using session = await openIsolated();
    const t = await session.add({
      magnet: "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567",
      savePath: dir.path,
    });
    await using http = await session.use(httpServer({ metadataTimeout: 200 }));
    let r = await fetch(http.fileUrl(t, 0));
    assert.equal(r.status, 504);
    await r.body?.cancel();
    r = await fetch(http.playlistUrl(t));
    assert.equal(r.status, 504);
    await r.body?.cancel();
    const listing = await (await fetch(`${http.url}/torrents.json`)).json() as { torrents: { hasMetadata: boolean }[] };
    assert.equal(listing.torrents[0].hasMetadata, false);
    const url = http.fileUrl(t, 0);
    await t.remove();
    r = await fetch(url);
    assert.equal(r.status, 404);
    await r.body?.cancel();
  });

  test("closing the session detaches the server", { timeout: TIMEOUT.quick }, async () => {
    const session: Session = await openIsolated();
    const http: HttpServer & { detached: boolean } = await session.use(httpServer());
    assert.equal((await fetch(`${http.url}/`)).status, 200);
    await session.close();
    assert.equal(http.detached, true);
    await assert.rejects(fetch(`${http.url}/`));
  });
});

describe("plugins/http: parsers on garbage", () => {
  const ALPHABET = [
    "bytes",
    "BYTES",
    "=",
    "-",
    ",",
    " ",
    "\t",
    "0",
    "1",
    "9",
    "42",
    "99999999999999999999",
    "+",
    ".",
    "e",
    "x",
    "%",
    "%2e",
    "%2F",
    "%zz",
    "%C0%AE",
    "..",
    "/",
    "\\",
    "\0",
    "t",
    "0123456789abcdef0123456789abcdef01234567",
    "ü",
    "☕",
    "\ud800",
    ":",
    "[",
    "]",
    "playlist.m3u",
    "torrents.json",
  ];
  const garbage = (rnd: () => number) =>
    Array.from({ length: Math.floor(rnd() * 12) }, () => ALPHABET[Math.floor(rnd() * ALPHABET.length)]).join("");

  test("parseRange, parseRoute and hostName never throw and return consistent results", () => {
    const rnd = prng(7);
    for (let i = 0; i < 20_000; i++) {
      const g = garbage(rnd);
      const size = Math.floor(rnd() * 1000);
      const r = parseRange(g, size, 1 + Math.floor(rnd() * 8));
      assert.ok(["none", "range", "unsatisfiable", "too_many", "malformed"].includes(r.kind));
      if (r.kind === "range") {
        assert.ok(Number.isInteger(r.start) && Number.isInteger(r.end) && 0 <= r.start && r.start <= r.end);
        assert.ok(r.end < size, `${JSON.stringify(g)} → ${r.start}-${r.end} of ${size}`);
      }
      const route = parseRoute("/" + g);
      if (route.kind === "error") assert.ok(route.status === 400 || route.status === 404);
      if (route.kind === "file") {
        assert.match(route.infoHash, /^[0-9a-f]{40}$|^[0-9a-f]{64}$/);
        assert.ok(Number.isInteger(route.index) && route.index >= 0);
      }
      const h = hostName(g);
      assert.ok(h === undefined || (typeof h === "string" && h.length > 0));
    }
    assert.deepEqual(parseRange("bytes=0-0", 0, 8), { kind: "unsatisfiable" });
    assert.deepEqual(parseRange("bytes=5-", 10, 8), { kind: "range", start: 5, end: 9 });
    assert.deepEqual(parseRange("bytes=-3", 10, 8), { kind: "range", start: 7, end: 9 });
    assert.deepEqual(parseRange("bytes=-30", 10, 8), { kind: "range", start: 0, end: 9 });
    assert.deepEqual(parseRange(null, 10, 8), { kind: "none" });
    assert.equal(parseRange("bytes=0-1,2-3", 10, 1).kind, "too_many");
    assert.equal(hostName("LocalHost:8080"), "localhost");
    assert.equal(hostName("[::1]:80"), "[::1]");
    assert.equal(hostName("127.0.0.1:"), undefined);
  });

  test("the handler answers garbage paths and Range headers with 4xx (or a valid 2xx), never 5xx", {
    timeout: TIMEOUT.quick,
  }, async () => {
    using dir = new TempDir();
    const { session, t, http } = await servedFixture(dir, { serve: false });
    await using _s = session;
    const ih = t.infoHash.v1!;
    const mi = fileIndex(t, "movie.mp4");
    const rnd = prng(99);
    const seen = new Map<number, number>();
    for (let i = 0; i < 1500; i++) {
      const g = garbage(rnd);
      const kind = i % 3;
      const path = kind === 0 ? `/${g}` : kind === 1 ? `/t/${ih}/${g}` : `/t/${ih}/${mi}`;
      let req: Request;
      try {
        req = new Request(`http://127.0.0.1${path}`, kind === 2 ? { headers: { range: g } } : {});
      } catch {
        continue; // not even a URL or a header value: no server would see it
      }
      const r = await http.handler(req);
      seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
      assert.ok(r.status < 500, `${path} range ${JSON.stringify(g)}: ${r.status}`);
      if (r.status < 300) assert.ok(kind === 2 || r.status === 200, `${path}: ${r.status}`);
      await r.body?.cancel();
    }
    assert.ok((seen.get(400) ?? 0) > 0 && (seen.get(404) ?? 0) > 0, JSON.stringify([...seen]));
    await http.idle();
    assert.equal(http.activeStreams, 0);
  });
});
