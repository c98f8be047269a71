// Interop with aria2 (Debian's aria2c): both directions over TCP (aria2 has
// no uTP), with and without protocol encryption (BEP 8 MSE: aria2's
// --bt-require-crypto / --bt-min-crypto-level), through bittorrent-tracker
// and by direct address, by .torrent and by magnet
// link (aria2 fetching the metadata from us, BEP 9). aria2 cannot create
// torrents: every torrent here is ours (v1). Bytes compared by sha256.
//
// Each case is its own aria2c process; the cases run concurrently (aria2
// chokes and unchokes in rounds of several seconds), each of our sessions
// on its own 127.0.0.x address. See docs/robustness.md, "Interop".
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { createTorrent } from "../../mod.ts";
import { addSeed, TempDir } from "../_helpers.ts";
import {
  assertSameBytes,
  assertTransport,
  type Case,
  downloadAndClose,
  freePort,
  IndependentTracker,
  INTEROP_TIMEOUT,
  Matrix,
  missing,
  NODE_DIR,
  openPinned,
  PIECE_SIZE,
  Proc,
  requirePeer,
  skipUnlessPresent,
  stopAll,
  subdir,
  versionOf,
  writeContent,
} from "./_interop.ts";

const PEER = "aria2";
const lack = missing(["aria2c", "node"], [join(NODE_DIR, "node_modules/bittorrent-tracker/package.json")]);
const skip = skipUnlessPresent(PEER, lack);
const matrix = new Matrix(PEER);
if (skip) console.log(`interop matrix: ${PEER} — 0 cases ran: skipped, ${skip}`);

/**
 * aria2c kept on loopback: every socket bound to 127.0.0.1 (--interface),
 * no IPv6, no DHT (v4 or v6), no LSD, no PEX, no config file; NOTICE log
 * lines on stdout (the "listening on TCP port" line is what we wait on).
 */
function aria2(
  name: string,
  args: string[],
  o: { port: number; dir: string; encryption: "rc4" | "plaintext"; seed: boolean },
): Proc {
  const crypto = o.encryption === "rc4"
    ? ["--bt-require-crypto=true", "--bt-min-crypto-level=arc4"]
    : ["--bt-require-crypto=false", "--bt-min-crypto-level=plain"];
  return new Proc(name, "aria2c", [
    "--no-conf",
    "--interface=127.0.0.1",
    "--disable-ipv6=true",
    "--enable-dht=false",
    "--enable-dht6=false",
    "--bt-enable-lpd=false",
    "--enable-peer-exchange=false",
    `--listen-port=${o.port}`,
    `--dir=${o.dir}`,
    "--file-allocation=none",
    "--show-console-readout=false",
    "--summary-interval=0",
    "--console-log-level=error",
    "--log=-",
    "--log-level=notice",
    ...crypto,
    // A seed: check the data (-V), then seed until stopped. A download: exit once complete.
    ...(o.seed ? ["--check-integrity=true", "--seed-ratio=0.0"] : ["--seed-time=0"]),
    ...args,
  ]);
}

function aria2Version(): string {
  return versionOf("aria2c", ["--version"], /aria2 version (\S+)/);
}

/** Waits until aria2 listens; returns its port. */
async function listening(p: Proc): Promise<number> {
  const l = await p.line((l) => /listening on TCP port \d+/.test(l), "aria2 listening");
  return Number(/listening on TCP port (\d+)/.exec(l)![1]);
}

/** Waits until an aria2 download exits, and asserts it succeeded. */
async function completed(p: Proc): Promise<void> {
  const code = await p.exited();
  assert.equal(code, 0, `aria2 exited ${code}\n${p.tail()}`);
  assert.ok(p.lines.some((l) => /Download complete/.test(l)), `aria2 reported no complete download\n${p.tail()}`);
}

interface Shared {
  dir: TempDir;
  tracker: IndependentTracker;
}

/** A case returns the matrix row it proved, or undefined when it checked a documented refusal instead. */
type CaseFn = (x: Shared & { host: string }, dir: string) => Promise<Omit<Case, "peer"> | undefined>;

/** Content and a v1 torrent we made of it (with the trackers given). */
async function ourTorrent(dir: string, name: string, trackers: string[] = [], version: "v1" | "hybrid" = "v1") {
  const src = writeContent(join(dir, "seed"), name);
  const made = await createTorrent({ path: src, version, pieceSize: PIECE_SIZE, trackers });
  const torrentFile = join(dir, `${name}.torrent`);
  writeFileSync(torrentFile, made.torrent);
  return { src, made, torrentFile, savePath: join(dir, "seed") };
}

const ALL_CASES: [name: string, run: CaseFn][] = [
  [
    "aria2 seeds (after checking the data); we connect to it by address and download over TCP, RC4-encrypted (MSE)",
    async ({ host }, dir) => {
      const c = await ourTorrent(dir, "a2-seed");
      await using a2 = aria2("aria2 seed", [c.torrentFile], {
        port: await freePort(),
        dir: c.savePath,
        encryption: "rc4",
        seed: true,
      });
      const port = await listening(a2);
      const out = join(dir, "ours");
      const s = await openPinned("tcp", "rc4", host);
      const t = await s.add({ torrent: c.made.torrent, savePath: out });
      t.connectPeer("127.0.0.1", port);
      await downloadAndClose(s, t, { transport: "tcp", encryption: "rc4" });
      assertSameBytes(c.src, join(out, "a2-seed"), "we (from aria2)");
      return { direction: "peer→us", transport: "tcp", encryption: "rc4", madeBy: "torrentxt", discovery: "direct" };
    },
  ],
  [
    "aria2 seeds; we find it through bittorrent-tracker and download over TCP, plaintext",
    async ({ tracker, host }, dir) => {
      // HTTP: aria2 announces to UDP trackers only with its DHT on.
      const c = await ourTorrent(dir, "a2-seed-http", [tracker.httpUrl]);
      await using a2 = aria2("aria2 seed", [c.torrentFile], {
        port: await freePort(),
        dir: c.savePath,
        encryption: "plaintext",
        seed: true,
      });
      const port = await listening(a2);
      await tracker.announceFrom(port, c.made.infoHash.v1!, "start");
      const out = join(dir, "ours");
      const s = await openPinned("tcp", "plaintext", host);
      const t = await s.add({ torrent: c.made.torrent, savePath: out });
      await downloadAndClose(s, t, { transport: "tcp", encryption: "plaintext" });
      assertSameBytes(c.src, join(out, "a2-seed-http"), "we (from aria2)");
      return {
        direction: "peer→us",
        transport: "tcp",
        encryption: "plaintext",
        madeBy: "torrentxt",
        discovery: "tracker",
      };
    },
  ],
  [
    "we seed; aria2 gets a magnet link, finds us through bittorrent-tracker, fetches the metadata from us (BEP 9) and downloads over TCP, plaintext",
    async ({ tracker, host }, dir) => {
      const c = await ourTorrent(dir, "ours-magnet", [tracker.httpUrl]);
      await using s = await openPinned("tcp", "plaintext", host);
      await addSeed(s, { dataDir: c.src, savePath: c.savePath, name: "ours-magnet", made: c.made });
      await tracker.announceFrom(s.listenPort, c.made.infoHash.v1!, "start");
      const out = join(dir, "theirs");
      const magnet = `magnet:?xt=urn:btih:${c.made.infoHash.v1}&tr=${encodeURIComponent(tracker.httpUrl)}`;
      await using a2 = aria2("aria2 download", [magnet], {
        port: await freePort(),
        dir: out,
        encryption: "plaintext",
        seed: false,
      });
      await completed(a2);
      await assertTransport(s, "tcp", "upload");
      assertSameBytes(c.src, join(out, "ours-magnet"), "aria2 (from us)");
      return {
        direction: "us→peer",
        transport: "tcp",
        encryption: "plaintext",
        madeBy: "torrentxt",
        discovery: "tracker",
      };
    },
  ],
  [
    "we seed; we connect to aria2 by address and it downloads the .torrent over TCP, RC4-encrypted",
    async ({ host }, dir) => {
      const c = await ourTorrent(dir, "ours-direct");
      await using s = await openPinned("tcp", "rc4", host);
      const seed = await addSeed(s, { dataDir: c.src, savePath: c.savePath, name: "ours-direct", made: c.made });
      const out = join(dir, "theirs");
      await using a2 = aria2("aria2 download", [c.torrentFile], {
        port: await freePort(),
        dir: out,
        encryption: "rc4",
        seed: false,
      });
      seed.connectPeer("127.0.0.1", await listening(a2));
      await completed(a2);
      await assertTransport(s, "tcp", "upload");
      assertSameBytes(c.src, join(out, "ours-direct"), "aria2 (from us)");
      return { direction: "us→peer", transport: "tcp", encryption: "rc4", madeBy: "torrentxt", discovery: "direct" };
    },
  ],
  [
    "we seed a hybrid (v1 + v2) torrent we made: aria2 1.36 miscomputes its info-hash; a later aria2 finds us through bittorrent-tracker and downloads it by its v1 info-hash over TCP, plaintext",
    async ({ tracker, host }, dir) => {
      const c = await ourTorrent(dir, "ours-hybrid", [tracker.httpUrl], "hybrid");
      assert.ok(c.made.infoHash.v1 && c.made.infoHash.v2, "a hybrid torrent has both info-hashes");
      const shown = spawnSync("aria2c", ["--show-files=true", c.torrentFile], { encoding: "utf8" }).stdout ?? "";
      const theirs = /Info Hash: ([0-9a-f]{40})/.exec(shown)?.[1];
      assert.ok(theirs, `aria2 -S printed no info-hash:\n${shown}`);
      if (aria2Version() === "1.36.0") {
        // aria2 1.36 reads the v1 part, but the info-hash it computes is not
        // the SHA-1 of the info dictionary's bytes: it announces and
        // handshakes with a hash no other client has ("Unknown info hash").
        assert.notEqual(theirs, c.made.infoHash.v1, "aria2 1.36 computes another info-hash for a hybrid torrent");
        return undefined;
      }
      assert.equal(theirs, c.made.infoHash.v1, "aria2 knows the torrent by its v1 info-hash");
      await using s = await openPinned("tcp", "plaintext", host);
      await addSeed(s, { dataDir: c.src, savePath: c.savePath, name: "ours-hybrid", made: c.made });
      await tracker.announceFrom(s.listenPort, c.made.infoHash.v1!, "start");
      const out = join(dir, "theirs");
      await using a2 = aria2("aria2 download", [c.torrentFile], {
        port: await freePort(),
        dir: out,
        encryption: "plaintext",
        seed: false,
      });
      await completed(a2);
      await assertTransport(s, "tcp", "upload");
      // Pad files (BEP 47), if aria2 writes them out, hold zeros.
      assertSameBytes(c.src, join(out, "ours-hybrid"), "aria2 (from us)", { pads: true });
      return {
        direction: "us→peer",
        transport: "tcp",
        encryption: "plaintext",
        madeBy: "torrentxt-hybrid",
        discovery: "tracker",
      };
    },
  ],
];

const CASES = process.env.TORRENTXT_INTEROP_ONLY
  ? ALL_CASES.filter((_, i) => process.env.TORRENTXT_INTEROP_ONLY!.split(",").includes(String(i)))
  : ALL_CASES;

describe("interop: aria2", { skip }, () => {
  let shared: Shared | undefined;
  const results = new Map<string, Promise<Omit<Case, "peer"> | undefined>>();

  before(async () => {
    if (lack.length > 0) return; // each test fails in requirePeer
    const dir = new TempDir("torrentxt-interop-");
    shared = { dir, tracker: await IndependentTracker.start() };
    CASES.forEach(([name, run], i) => {
      const p = run({ ...shared!, host: `127.0.0.${i + 2}` }, subdir(dir, `case${i}`));
      p.catch(() => {}); // awaited by its test
      results.set(name, p);
    });
  });

  after(async () => {
    await stopAll(); // ends what a timed-out case still waits on
    await Promise.allSettled(results.values());
    if (shared) {
      await shared.tracker.proc.stop();
      shared.dir[Symbol.dispose]();
    }
    console.log(matrix.summary(lack.length ? "?" : aria2Version()));
  });

  for (const [name] of CASES) {
    test(name, { timeout: INTEROP_TIMEOUT }, async () => {
      requirePeer(PEER, lack);
      const started = results.get(name);
      assert.ok(started, "the case never started: the shared set-up (before) failed");
      const row = await started;
      if (row) matrix.add(row);
      else matrix.note("hybrid .torrent: aria2 1.36 computes another info-hash, cannot join");
    });
  }
});
