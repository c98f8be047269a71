/**
 * The main demo: a two-session swarm on loopback.
 *
 * 1. makes sample data (a folder of files of assorted sizes),
 * 2. creates a hybrid (v1 + v2) torrent of it and seeds it from one session,
 * 3. downloads it by magnet with a second session — metadata comes from the
 *    seeder — with a progress bar,
 * 4. verifies every downloaded byte against the source.
 *
 * Nothing leaves the machine: both sessions use the isolated profile.
 *
 *   deno run -A --config deno.json examples/local_swarm.ts [--size-mb N] [--keep]
 *   bun run examples/local_swarm.ts [--size-mb N] [--keep]
 *
 * @module
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import process from "node:process";
import { createTorrent, Session, TorrentError } from "../mod.ts";

const args = process.argv.slice(2);
const sizeMb = Number(args[args.indexOf("--size-mb") + 1] ?? 0) || 256;
const keep = args.includes("--keep");
const tty = process.stdout.isTTY === true;

function fmtBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

/** Writes `total` bytes across a nested folder of files of assorted sizes. */
function makeSampleData(root: string, total: number): void {
  const shares = [0.5, 0.25, 0.125, 0.0625, 0.0625];
  const names = ["video.bin", "album/track-01.bin", "album/track-02.bin", "docs/readme.txt", "docs/deep/notes.bin"];
  const block = new Uint8Array(1 << 20);
  crypto.getRandomValues(block.subarray(0, 65536));
  for (let i = 65536; i < block.length; i += 65536) block.copyWithin(i, 0, 65536);
  names.forEach((name, i) => {
    const path = join(root, name);
    mkdirSync(join(path, ".."), { recursive: true });
    const size = Math.floor(total * shares[i]) + i * 7919; // odd sizes: pieces straddle files
    const buf = new Uint8Array(size);
    for (let off = 0; off < size; off += block.length) {
      const chunk = block.subarray(0, Math.min(block.length, size - off));
      buf.set(chunk, off);
      // Vary every MiB so no two pieces are alike.
      new DataView(buf.buffer).setUint32(off, (off / block.length) ^ (i << 24), true);
    }
    writeFileSync(path, buf);
  });
}

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function bar(progress: number, width = 30): string {
  const full = Math.round(progress * width);
  return "█".repeat(full) + "░".repeat(width - full);
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "torrentxt-demo-"));
  const data = join(work, "seed", "sample");
  const out = join(work, "download");
  try {
    console.log(`TorrentXT local swarm demo — ${sizeMb} MiB on 127.0.0.1 (work dir ${work})`);
    mkdirSync(data, { recursive: true });
    makeSampleData(data, sizeMb << 20);
    const files = listFiles(data);
    console.log(
      `  made ${files.length} files, ${fmtBytes(files.reduce((s, f) => s + statSync(join(data, f)).size, 0))}`,
    );

    let t0 = performance.now();
    const made = await createTorrent({ path: data, version: "hybrid", comment: "TorrentXT demo" });
    console.log(`  created a hybrid torrent in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    console.log(`    v1 ${made.infoHash.v1}\n    v2 ${made.infoHash.v2}`);

    await using seeder = await Session.open({ profile: "isolated" });
    const seed = await seeder.add({ torrent: made.torrent, savePath: join(work, "seed") });
    // The seeder checks its files first; wait until it is seeding.
    for await (const ev of seed.events({ types: ["state_changed", "torrent_error"] })) {
      if (ev.type === "torrent_error") throw new Error(`seeder: ${ev.error}`);
      if (ev.type === "state_changed" && ev.state === "seeding") break;
    }
    console.log(`  seeder ready on 127.0.0.1:${seeder.listenPort}`);

    await using leecher = await Session.open({ profile: "isolated" });
    const t = await leecher.add({ magnet: made.magnet, savePath: out });
    t.connectPeer("127.0.0.1", seeder.listenPort);
    t0 = performance.now();
    let lastDraw = 0;
    const draw = (final = false) => {
      const s = t.status();
      const secs = (performance.now() - t0) / 1000;
      const line = `  ${bar(s.progress)} ${(s.progress * 100).toFixed(1).padStart(5)}%  ` +
        `${fmtBytes(s.totalWantedDone).padStart(10)}  ${fmtBytes(s.downloadRate).padStart(10)}/s  ` +
        `peers ${s.numPeers}  eta ${s.eta === null ? "?" : `${s.eta}s`}  ${secs.toFixed(1)}s`;
      if (tty) process.stdout.write(`\r${line}${final ? "\n" : ""}`);
      else if (final || performance.now() - lastDraw > 1000) console.log(line);
      lastDraw = performance.now();
    };
    for await (const ev of leecher.events({ torrent: t })) {
      if (ev.type === "metadata_received") {
        if (tty) process.stdout.write("\n");
        console.log(`  metadata received from the peer: "${t.status().name}"`);
      } else if (ev.type === "piece_finished" && performance.now() - lastDraw > 100) {
        draw();
      } else if (ev.type === "torrent_error" || ev.type === "file_error") {
        throw new Error(`download failed: ${ev.message}`);
      } else if (ev.type === "torrent_finished") {
        draw(true);
        break;
      }
    }
    const secs = (performance.now() - t0) / 1000;
    const s = t.status();
    console.log(
      `  downloaded ${fmtBytes(s.totalWanted)} in ${secs.toFixed(2)} s (${
        (s.totalWanted / 1e6 / secs).toFixed(0)
      } MB/s)`,
    );

    // Verify every byte.
    let bad = 0;
    for (const f of files) {
      if (sha256(join(data, f)) !== sha256(join(out, "sample", f))) {
        console.log(`  MISMATCH ${f}`);
        bad++;
      }
    }
    if (bad) throw new Error(`${bad} of ${files.length} files differ`);
    console.log(`  verified: all ${files.length} files identical (SHA-256)`);
  } finally {
    if (!keep) rmSync(work, { recursive: true, force: true });
  }
}

try {
  await main();
  console.log("demo: ok");
} catch (e) {
  console.error(`demo failed: ${e instanceof TorrentError ? `[${e.code}] ` : ""}${(e as Error).message}`);
  process.exit(1);
}
