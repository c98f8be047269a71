/**
 * Streaming HTTP server bench (plugins/http), in the runtime that runs it:
 *
 *   deno run -A --config deno.json bench/http.ts [--size 64MiB] [--rounds 3]
 *   bun bench/http.ts [--size 64MiB] [--rounds 3]
 *
 * (a) Serving a complete file: GET of the whole file through the plugin's
 *     server, MB/s. Anchor, same run, same runtime: a plain Deno.serve /
 *     Bun.serve handler that streams the same file from disk with node:fs in
 *     the same 256 KiB chunks. Ratio plugin / anchor.
 * (b) Streaming while downloading: a loopback leecher (unthrottled) adds the
 *     torrent and a GET of the whole file starts at once. Figures: seconds
 *     until the torrent finished, until the last byte of the HTTP body, and
 *     their ratio (the stream's lag behind the download).
 * (c) Why reads wait for a flush: during a plain download of 16 KiB pieces,
 *     how many pieces were not yet in their file when piece_finished was
 *     handled (read at once and compared with the source).
 *
 * Everything is on 127.0.0.1 (isolated sessions). Ends with one JSON line.
 * @module
 */
import { mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import process from "node:process";
import { createTorrent, Session, type Torrent } from "../mod.ts";
import { httpServer } from "../plugins/http/mod.ts";
import { emit, flag, median, parseSize, runtimeName } from "./_util.ts";

const args = process.argv.slice(2);
const SIZE = parseSize(flag(args, "--size", "64MiB"));
const ROUNDS = Number(flag(args, "--rounds", "3"));
const CHUNK = 256 * 1024;
const log = (s: string) => process.stderr.write(s + "\n");

async function drain(url: string): Promise<number> {
  const r = await fetch(url);
  let n = 0;
  for await (const c of r.body!) n += c.length;
  return n;
}

type Handler = (req: Request) => Promise<Response> | Response;
function plainServer(handler: Handler): { port: number; close(): Promise<void> } {
  const g = globalThis as {
    Deno?: { serve(o: object, h: Handler): { addr: { port: number }; shutdown(): Promise<void> } };
    Bun?: { serve(o: object): { port: number; stop(force: boolean): void } };
  };
  if (g.Deno) {
    const s = g.Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
    return { port: s.addr.port, close: () => s.shutdown() };
  }
  const s = g.Bun!.serve({ hostname: "127.0.0.1", port: 0, fetch: handler, idleTimeout: 0 });
  return { port: s.port, close: () => Promise.resolve(s.stop(true)) };
}

/** The anchor: a file streamed from disk in CHUNK-byte reads, no torrent in between. */
function anchorHandler(path: string): Handler {
  return async () => {
    const fh = await open(path, "r");
    let pos = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        const n = Math.min(CHUNK, SIZE - pos);
        if (n <= 0) {
          c.close();
          await fh.close();
          return;
        }
        const buf = new Uint8Array(n);
        const r = await fh.read(buf, 0, n, pos);
        pos += r.bytesRead;
        c.enqueue(buf.subarray(0, r.bytesRead));
      },
      cancel: () => fh.close(),
    }, { highWaterMark: 0 });
    return new Response(body, { headers: { "content-length": String(SIZE) } });
  };
}

async function waitChecked(s: Session, t: Torrent): Promise<void> {
  if (t.status().isSeeding) return;
  for await (const ev of s.events({ types: ["torrent_checked"] })) if (ev.torrent === t) break;
}

const dir = mkdtempSync(join(tmpdir(), "torrentxt-bench-http-"));
try {
  mkdirSync(join(dir, "seed", "content"), { recursive: true });
  const file = join(dir, "seed", "content", "movie.mp4");
  const block = randomBytes(1024 * 1024);
  const fd = openSync(file, "w");
  for (let off = 0; off < SIZE; off += block.length) {
    block.writeUInt32LE(off / block.length, 0); // no two pieces alike
    writeFileSync(fd, block.subarray(0, Math.min(block.length, SIZE - off)));
  }
  const made = await createTorrent({ path: join(dir, "seed", "content"), version: "v1", pieceSize: 1024 * 1024 });
  await using seeder = await Session.open({ profile: "isolated" });
  const seed = await seeder.add({ torrent: made.torrent, savePath: join(dir, "seed") });
  await waitChecked(seeder, seed);

  // (a) complete file: plugin vs anchor, interleaved.
  await using http = await seeder.use(httpServer());
  const anchor = plainServer(anchorHandler(file));
  const fileUrl = http.fileUrl(seed, 0);
  const anchorUrl = `http://127.0.0.1:${anchor.port}/`;
  await drain(fileUrl); // warm-up (page cache, first flush)
  await drain(anchorUrl);
  const plug: number[] = [], anch: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    for (const [url, out] of [[fileUrl, plug], [anchorUrl, anch]] as const) {
      const t0 = performance.now();
      const n = await drain(url);
      if (n !== SIZE) throw new Error(`short body: ${n}`);
      out.push(SIZE / 1e6 / ((performance.now() - t0) / 1000));
    }
  }
  await anchor.close();
  const a = { pluginMBps: median(plug), anchorMBps: median(anch), ratio: median(plug) / median(anch) };
  log(
    `(a) complete file ${SIZE / 1048576} MiB: plugin ${a.pluginMBps.toFixed(0)} MB/s, ` +
      `anchor (plain fs stream) ${a.anchorMBps.toFixed(0)} MB/s, ratio ${a.ratio.toFixed(2)}`,
  );

  // (b) streaming while the torrent downloads; anchor: the same download with no reader, interleaved.
  const lag: { finished: number; lastByte: number; ratio: number }[] = [];
  const alone: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    {
      await using leecher = await Session.open({ profile: "isolated" });
      const t = await leecher.add({ torrent: made.torrent, savePath: join(dir, `dl-a${i}`) });
      const events = t.events({ types: ["torrent_finished"] });
      const t0 = performance.now();
      t.connectPeer("127.0.0.1", seeder.listenPort);
      await events.next();
      alone.push((performance.now() - t0) / 1000);
      await events.return();
    }
    await using leecher = await Session.open({ profile: "isolated" });
    const t = await leecher.add({ torrent: made.torrent, savePath: join(dir, `dl-b${i}`) });
    await using lh = await leecher.use(httpServer());
    const events = t.events({ types: ["torrent_finished"] });
    const t0 = performance.now();
    const finished = (async () => {
      await events.next();
      return (performance.now() - t0) / 1000;
    })();
    const read = drain(lh.fileUrl(t, 0)).then((n) => {
      if (n !== SIZE) throw new Error(`short body: ${n}`);
      return (performance.now() - t0) / 1000;
    });
    t.connectPeer("127.0.0.1", seeder.listenPort);
    const [f, l] = await Promise.all([finished, read]);
    await events.return();
    lag.push({ finished: f, lastByte: l, ratio: l / f });
  }
  const b = {
    aloneS: median(alone),
    finishedS: median(lag.map((x) => x.finished)),
    lastByteS: median(lag.map((x) => x.lastByte)),
    ratio: median(lag.map((x) => x.ratio)),
  };
  log(
    `(b) download alone (anchor) ${b.aloneS.toFixed(2)} s; with a reader streaming it: torrent finished ` +
      `${b.finishedS.toFixed(2)} s (ratio ${(b.finishedS / b.aloneS).toFixed(2)}), HTTP last byte ` +
      `${b.lastByteS.toFixed(2)} s (ratio to its own download ${b.ratio.toFixed(2)})`,
  );

  // (c) pieces not yet on disk at piece_finished.
  mkdirSync(join(dir, "seed16", "c"), { recursive: true });
  const small = Math.min(SIZE, 64 * 1024 * 1024);
  const src = randomBytes(small);
  writeFileSync(join(dir, "seed16", "c", "f.bin"), src);
  const made16 = await createTorrent({ path: join(dir, "seed16", "c"), version: "v1", pieceSize: 16384 });
  const s16 = await seeder.add({ torrent: made16.torrent, savePath: join(dir, "seed16") });
  await waitChecked(seeder, s16);
  await using leecher = await Session.open({ profile: "isolated" });
  const t16 = await leecher.add({ torrent: made16.torrent, savePath: join(dir, "dl-c") });
  const ev = t16.events({ types: ["piece_finished", "torrent_finished"] });
  t16.connectPeer("127.0.0.1", seeder.listenPort);
  let rfd = -1, notOnDisk = 0, pieces = 0;
  const buf = new Uint8Array(16384);
  for await (const e of ev) {
    if (e.type === "torrent_finished") break;
    if (e.type !== "piece_finished") continue;
    pieces++;
    try {
      if (rfd < 0) rfd = openSync(join(dir, "dl-c", "c", "f.bin"), "r");
    } catch {
      notOnDisk++;
      continue;
    }
    const off = e.piece * 16384, len = Math.min(16384, small - off);
    const got = readSync(rfd, buf, 0, len, off);
    if (got !== len || !Buffer.from(buf.subarray(0, len)).equals(src.subarray(off, off + len))) notOnDisk++;
  }
  const c = { pieces, notOnDisk };
  log(`(c) ${pieces} pieces of 16 KiB: ${notOnDisk} not yet in their file when piece_finished was handled`);
  emit({ bench: "http", runtime: runtimeName(), sizeBytes: SIZE, rounds: ROUNDS, a, b, c });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
