// Interop with WebTorrent 3 (Node.js; TCP, and uTP through utp-native),
// both directions, over bittorrent-tracker and by direct address, with and
// without protocol encryption (BEP 8 MSE: WebTorrent's `secure` option), on
// torrents WebTorrent made (create-torrent) and torrents we made. Bytes are
// compared by sha256. See docs/robustness.md, "Interop".
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTorrent } from "../../mod.ts";
import { addSeed, TempDir } from "../_helpers.ts";
import {
  assertSameBytes,
  assertTransport,
  downloadAndClose,
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
  writeContent,
} from "./_interop.ts";

const PEER = "webtorrent";
const lack = missing(["node"], [
  join(NODE_DIR, "node_modules/webtorrent/package.json"),
  join(NODE_DIR, "node_modules/bittorrent-tracker/package.json"),
  join(NODE_DIR, "node_modules/utp-native/package.json"),
]);
const skip = skipUnlessPresent(PEER, lack);
const matrix = new Matrix(PEER);
if (skip) console.log(`interop matrix: ${PEER} — 0 cases ran: skipped, ${skip}`);
let version = "?";

interface WtOptions {
  mode: "seed" | "download";
  utp: boolean;
  /** 0: plaintext only; 1: MSE offered, plaintext accepted; 2: RC4 only. */
  secure: 0 | 1 | 2;
  create?: string;
  torrentOut?: string;
  torrentFile?: string;
  savePath?: string;
  announce?: string[];
  peers?: string[];
  pieceLength?: number;
}

/** Starts a WebTorrent peer; resolves once it listens (its port) — and, for a seed, seeds. */
async function startWebTorrent(o: WtOptions): Promise<{ proc: Proc; port: number; infoHash?: string }> {
  const proc = new Proc(PEER, "node", [join(NODE_DIR, "webtorrent_peer.mjs"), JSON.stringify(o)], {
    stdin: true,
  });
  try {
    const l = await proc.event<{ port: number; version: string }>("listening");
    version = l.version;
    if (o.mode === "seed") {
      const s = await proc.event<{ infoHash: string }>("seeding");
      return { proc, port: l.port, infoHash: s.infoHash };
    }
    return { proc, port: l.port };
  } catch (e) {
    await proc.stop();
    throw e;
  }
}

/** WebTorrent's own report of its connections: its "wire" lines. */
function wires(proc: Proc): { type: string; encryption: number }[] {
  return proc.lines.map((l) => JSON.parse(l)).filter((e) => e.event === "wire");
}

/**
 * Every connection WebTorrent reports (at least one) is of `type` (e.g.
 * "utpIncoming") and, by WebTorrent's account, RC4-encrypted (MSE method 2)
 * or without any MSE handshake.
 */
function assertWires(proc: Proc, type: string, encryption: "rc4" | "plaintext", what: string): void {
  const ws = wires(proc);
  const want = encryption === "rc4" ? 2 : 0;
  assert.ok(
    ws.length >= 1 && ws.every((w) => w.type === type && w.encryption === want),
    `${what}: WebTorrent's connections were ${JSON.stringify(ws)}; expected ${type} with MSE method ${want}`,
  );
}

describe("interop: WebTorrent", { skip }, () => {
  after(async () => {
    await stopAll();
    console.log(matrix.summary(version));
  });

  test(
    "WebTorrent seeds a torrent it made (create-torrent); we find it through bittorrent-tracker and download over TCP, plaintext",
    {
      timeout: INTEROP_TIMEOUT,
    },
    async () => {
      requirePeer(PEER, lack);
      using dir = new TempDir("torrentxt-interop-");
      await using tracker = await IndependentTracker.start();
      const src = writeContent(dir.path, "wt-made");
      const torrentFile = dir.join("wt-made.torrent");
      const wt = await startWebTorrent({
        mode: "seed",
        utp: false,
        secure: 0,
        create: src,
        torrentOut: torrentFile,
        announce: [tracker.httpUrl],
        pieceLength: PIECE_SIZE,
      });
      await using _wt = wt.proc;
      await tracker.announceFrom(wt.port, wt.infoHash!, "start");

      const out = subdir(dir, "ours");
      const s = await openPinned("tcp", "plaintext");
      const t = await s.add({ torrent: readFileSync(torrentFile), savePath: out });
      assert.equal(t.infoHash.v1, wt.infoHash, "the same info-hash on both sides");
      await downloadAndClose(s, t, { transport: "tcp", encryption: "plaintext" });
      assertSameBytes(src, join(out, "wt-made"), "we (from WebTorrent)");
      assertWires(wt.proc, "tcpIncoming", "plaintext", "WebTorrent accepted TCP");
      matrix.add({
        direction: "peer→us",
        transport: "tcp",
        encryption: "plaintext",
        madeBy: "webtorrent",
        discovery: "tracker",
      });
    },
  );

  test("WebTorrent seeds a torrent it made; we connect to it by address over uTP, RC4-encrypted (MSE), and download", {
    timeout: INTEROP_TIMEOUT,
  }, async () => {
    requirePeer(PEER, lack);
    using dir = new TempDir("torrentxt-interop-");
    const src = writeContent(dir.path, "wt-made-utp");
    const torrentFile = dir.join("wt.torrent");
    const wt = await startWebTorrent({
      mode: "seed",
      utp: true,
      secure: 1,
      create: src,
      torrentOut: torrentFile,
      pieceLength: PIECE_SIZE,
    });
    await using _wt = wt.proc;

    const out = subdir(dir, "ours");
    // Forced RC4 and uTP only: a byte over plaintext or TCP is impossible.
    const s = await openPinned("utp", "rc4");
    const t = await s.add({ torrent: readFileSync(torrentFile), savePath: out });
    t.connectPeer("127.0.0.1", wt.port);
    await downloadAndClose(s, t, { transport: "utp", encryption: "rc4" });
    assertSameBytes(src, join(out, "wt-made-utp"), "we (from WebTorrent)");
    assertWires(wt.proc, "utpIncoming", "rc4", "WebTorrent accepted uTP");
    matrix.add({
      direction: "peer→us",
      transport: "utp",
      encryption: "rc4",
      madeBy: "webtorrent",
      discovery: "direct",
    });
  });

  test(
    "we seed a v1 torrent we made; WebTorrent finds us through bittorrent-tracker (UDP announces) and downloads over TCP, RC4-encrypted",
    {
      timeout: INTEROP_TIMEOUT,
    },
    async () => {
      requirePeer(PEER, lack);
      using dir = new TempDir("torrentxt-interop-");
      await using tracker = await IndependentTracker.start();
      const src = writeContent(dir.join("seed"), "ours-v1");
      const made = await createTorrent({ path: src, version: "v1", pieceSize: PIECE_SIZE, trackers: [tracker.udpUrl] });
      const torrentFile = dir.join("ours.torrent");
      writeFileSync(torrentFile, made.torrent);

      await using s = await openPinned("tcp", "rc4");
      const seed = await addSeed(s, { dataDir: src, savePath: dir.join("seed"), name: "ours-v1", made });
      await tracker.announceFrom(s.listenPort, made.infoHash.v1!, "start");
      assert.equal(seed.status().isSeeding, true);

      const out = subdir(dir, "theirs");
      const wt = await startWebTorrent({
        mode: "download",
        utp: false,
        secure: 2, // RC4 only on WebTorrent's side too
        torrentFile,
        savePath: out,
        announce: [tracker.udpUrl],
      });
      await using _wt = wt.proc;
      const done = await wt.proc.event<{ infoHash: string }>("done");
      await assertTransport(s, "tcp", "upload");
      assert.equal(done.infoHash, made.infoHash.v1);
      assertSameBytes(src, join(out, "ours-v1"), "WebTorrent (from us)");
      assertWires(wt.proc, "tcpOutgoing", "rc4", "WebTorrent connected to us over TCP");
      matrix.add({
        direction: "us→peer",
        transport: "tcp",
        encryption: "rc4",
        madeBy: "torrentxt",
        discovery: "tracker",
      });
    },
  );

  test("we seed a v1 torrent we made; WebTorrent connects to us by address over uTP, plaintext, and downloads", {
    timeout: INTEROP_TIMEOUT,
  }, async () => {
    requirePeer(PEER, lack);
    using dir = new TempDir("torrentxt-interop-");
    const src = writeContent(dir.join("seed"), "ours-utp");
    const made = await createTorrent({ path: src, version: "v1", pieceSize: PIECE_SIZE });
    const torrentFile = dir.join("ours.torrent");
    writeFileSync(torrentFile, made.torrent);

    await using s = await openPinned("utp", "plaintext");
    await addSeed(s, { dataDir: src, savePath: dir.join("seed"), name: "ours-utp", made });

    const out = subdir(dir, "theirs");
    const wt = await startWebTorrent({
      mode: "download",
      utp: true,
      secure: 0,
      torrentFile,
      savePath: out,
      peers: [`127.0.0.1:${s.listenPort}`],
    });
    await using _wt = wt.proc;
    await wt.proc.event("done");
    await assertTransport(s, "utp", "upload");
    assertSameBytes(src, join(out, "ours-utp"), "WebTorrent (from us)");
    assertWires(wt.proc, "utpOutgoing", "plaintext", "WebTorrent connected to us over uTP");
    matrix.add({
      direction: "us→peer",
      transport: "utp",
      encryption: "plaintext",
      madeBy: "torrentxt",
      discovery: "direct",
    });
  });
  test(
    "we seed a hybrid (v1 + v2) torrent we made; WebTorrent, a v1-only client, connects to us by address and downloads it over TCP, RC4-encrypted",
    {
      timeout: INTEROP_TIMEOUT,
    },
    async () => {
      requirePeer(PEER, lack);
      using dir = new TempDir("torrentxt-interop-");
      const src = writeContent(dir.join("seed"), "ours-hybrid");
      const made = await createTorrent({ path: src, version: "hybrid", pieceSize: PIECE_SIZE });
      assert.ok(made.infoHash.v1 && made.infoHash.v2, "a hybrid torrent has both info-hashes");
      const torrentFile = dir.join("ours.torrent");
      writeFileSync(torrentFile, made.torrent);

      await using s = await openPinned("tcp", "rc4");
      await addSeed(s, { dataDir: src, savePath: dir.join("seed"), name: "ours-hybrid", made });

      const out = subdir(dir, "theirs");
      const wt = await startWebTorrent({
        mode: "download",
        utp: false,
        secure: 1,
        torrentFile,
        savePath: out,
        peers: [`127.0.0.1:${s.listenPort}`],
      });
      await using _wt = wt.proc;
      const done = await wt.proc.event<{ infoHash: string }>("done");
      await assertTransport(s, "tcp", "upload");
      assert.equal(done.infoHash, made.infoHash.v1, "WebTorrent knows it by its v1 info-hash");
      // WebTorrent does not know BEP 47 pad files: it writes them out (zeros).
      const pads = assertSameBytes(src, join(out, "ours-hybrid"), "WebTorrent (from us)", { pads: true });
      assert.ok(pads > 0, "a hybrid torrent of several files has pad files");
      assertWires(wt.proc, "tcpOutgoing", "rc4", "WebTorrent connected to us over TCP");
      matrix.add({
        direction: "us→peer",
        transport: "tcp",
        encryption: "rc4",
        madeBy: "torrentxt-hybrid",
        discovery: "direct",
      });
    },
  );
});
