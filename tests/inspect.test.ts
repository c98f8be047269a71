// Inspection of a torrent: peers(), pieces(), pieceAvailability(), files()
// and the extended status record, over real loopback transfers.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Torrent } from "../mod.ts";
import { ST } from "../src/_status.ts";
import { RECORD_FIELDS } from "../src/inspect.ts";
import {
  makeFixture,
  openIsolated,
  openSeeder,
  TempDir,
  throwsCode,
  TIMEOUT,
  waitFor,
  waitForSeeding,
} from "./_helpers.ts";

/** Seeders slow enough (per peer) that a small download is caught mid-way. */
const SLOW_SEEDER = { settings: { upload_rate_limit: 50_000, ignore_limits_on_local_network: false } } as const;

/** Bytes of pieces we have, from the bitfield: every piece is pieceSize but the last. */
function bytesOfHadPieces(t: Torrent): number {
  const st = t.status(), ps = t.pieces();
  const total = t.files({ includePad: true }).reduce((a, f) => a + f.size, 0);
  let bytes = 0;
  for (let i = 0; i < ps.count; i++) {
    if (ps.has(i)) bytes += Math.min(st.pieceSize, total - i * st.pieceSize);
  }
  return bytes;
}

describe("inspection", () => {
  test("peers() of a two-session transfer shows the other side on both ends", { timeout: TIMEOUT.slow }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "a.bin": 300_000, "b.bin": 40_000 }, { version: "hybrid" });
    await using seeder = await openSeeder(fx, SLOW_SEEDER);
    await using leecher = await openIsolated();
    const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl") });
    const events = t.events();
    t.connectPeer("127.0.0.1", seeder.listenPort);
    let pieces = 0;
    await waitFor(events, (ev) => ev.type === "piece_finished" && ++pieces >= 2, "two pieces");

    const peers = t.peers();
    assert.equal(peers.length, 1, "the leecher has exactly one connection");
    const p = peers[0];
    assert.equal(p.address, `127.0.0.1:${seeder.listenPort}`, "the leecher's peer is the seeder's listen address");
    assert.equal(p.flags.outgoing, true);
    assert.equal(p.flags.incoming, false);
    assert.equal(p.flags.seed, true, "the seeder has every piece");
    assert.equal(p.flags.interesting, true, "we want the seeder's pieces");
    assert.equal(p.flags.connecting, false);
    assert.equal(p.flags.handshake, false);
    assert.equal(p.progress, 1);
    assert.equal(p.numPieces, t.status().pieceCount);
    assert.ok(p.totalDownload >= 2 * 16384, `payload received from it: ${p.totalDownload}`);
    assert.equal(p.totalUpload, 0, "a leecher uploads nothing to a seed");
    assert.equal(p.connectionType, "bittorrent");
    assert.match(p.client, /libtorrent/i, "libtorrent announces itself in the extension handshake");
    assert.equal(p.source.incoming, false);
    for (const [k, v] of Object.entries(p.flags)) assert.equal(typeof v, "boolean", `flags.${k}`);
    assert.equal(p.flags.encrypted, p.flags.rc4 || p.flags.plaintextEncrypted);
    assert.ok(p.downloadRate >= 0 && p.uploadRate >= 0 && p.rtt >= 0);

    const back = seeder.torrents()[0].peers();
    assert.equal(back.length, 1, "the seeder sees the leecher");
    const q = back[0];
    assert.match(q.address, /^127\.0\.0\.1:\d+$/);
    assert.equal(q.flags.incoming, true);
    assert.equal(q.source.incoming, true);
    assert.equal(q.flags.seed, false);
    assert.equal(q.flags.remoteInterested, true, "the leecher wants the seeder's pieces");
    assert.ok(q.progress > 0 && q.progress < 1, `the leecher's progress as the seeder sees it: ${q.progress}`);
    assert.ok(q.totalUpload >= 2 * 16384, `payload sent to it: ${q.totalUpload}`);
    assert.equal(q.flags.utp, p.flags.utp, "both ends agree on the transport");
    await events.return();
  });

  test(
    "pieces(), files() and status() agree mid-download and after it; totalSize excludes pad files",
    { timeout: TIMEOUT.slow },
    async () => {
      using dir = new TempDir();
      // Hybrid: libtorrent aligns files to pieces with pad files.
      const spec = { "one.bin": 100_003, "two/three.bin": 70_001, "four.bin": 9_999 };
      const fx = await makeFixture(dir, spec, { version: "hybrid" });
      await using seeder = await openSeeder(fx, SLOW_SEEDER);
      await using leecher = await openIsolated();
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl") });
      const events = t.events();

      const realSize = Object.values(spec).reduce((a, b) => a + b, 0);
      const st0 = t.status();
      assert.equal(st0.totalSize, realSize, "totalSize is the sum of the real files (pad files excluded)");
      const all = t.files({ includePad: true });
      const pads = all.filter((f) => f.pad);
      assert.ok(pads.length > 0, "a hybrid multi-file torrent has pad files (else this test proves nothing)");
      assert.ok(all.reduce((a, f) => a + f.size, 0) > realSize);
      const files = t.files();
      assert.equal(files.length, 3, "pad files are left out by default");
      assert.deepEqual(
        files.map((f) => f.path).sort(),
        Object.keys(spec).map((p) => `${fx.name}/${p}`).sort(),
      );
      for (const f of files) {
        assert.equal(f.size, spec[f.path.slice(fx.name.length + 1) as keyof typeof spec]);
        assert.equal(f.pad, false);
        assert.equal(f.priority, 4);
        assert.equal(f.progress, 0);
        assert.deepEqual(all.find((g) => g.index === f.index), f, "same record with or without pads");
      }
      assert.equal(t.pieces().numHave, 0);

      // Mid-download, paused so nothing moves while we compare.
      t.connectPeer("127.0.0.1", seeder.listenPort);
      let pieces = 0;
      await waitFor(events, (ev) => ev.type === "piece_finished" && ++pieces >= 3, "3 pieces");
      t.pause();
      await waitFor(events, (ev) => ev.type === "torrent_paused", "torrent_paused");
      const ps = t.pieces();
      const st = t.status();
      assert.equal(ps.count, st.pieceCount);
      assert.equal(ps.bitfield.length, Math.ceil(ps.count / 8));
      assert.equal(ps.numHave, st.numPieces, "the bitfield has as many pieces as status().numPieces");
      assert.ok(ps.numHave >= 3 && ps.numHave < ps.count, `mid-download: ${ps.numHave} of ${ps.count}`);
      assert.deepEqual(ps.toArray().filter(Boolean).length, ps.numHave);
      assert.equal(ps.has(-1), false);
      assert.equal(ps.has(ps.count), false);
      // Unused low bits of the last byte stay 0.
      const spare = ps.bitfield.length * 8 - ps.count;
      assert.equal(ps.bitfield[ps.bitfield.length - 1] & ((1 << spare) - 1), 0);
      // Piece granularity: file progress is exactly the bytes of the pieces had.
      const withPads = t.files({ includePad: true });
      assert.equal(withPads.reduce((a, f) => a + f.progress, 0), bytesOfHadPieces(t));
      const precise = t.files({ precise: true });
      for (const f of precise) {
        const coarse = t.files().find((g) => g.index === f.index)!;
        assert.ok(f.progress >= coarse.progress && f.progress <= f.size, `${f.path}: precise ≥ piece granularity`);
      }

      t.resume();
      t.connectPeer("127.0.0.1", seeder.listenPort);
      await waitForSeeding(events, t);
      const done = t.pieces();
      assert.equal(done.numHave, done.count);
      for (let i = 0; i < done.count; i++) assert.ok(done.has(i), `piece ${i}`);
      for (const f of t.files()) assert.equal(f.progress, f.size, `${f.path} complete`);
      const end = t.status();
      assert.equal(end.totalSize, realSize);
      assert.equal(end.totalWanted, realSize);
      assert.equal(end.progress, 1);
      assert.deepEqual(t.pieceAvailability(), new Int32Array(0), "a seed keeps no piece picker");
      await events.return();
    },
  );

  test("pieceAvailability() counts both seeders of a leecher", { timeout: TIMEOUT.slow }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "a.bin": 300_000, "b.bin": 40_000 }, { version: "hybrid" });
    await using s1 = await openSeeder(fx, SLOW_SEEDER);
    await using s2 = await openSeeder(fx, SLOW_SEEDER);
    await using leecher = await openIsolated();
    const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl") });
    const events = t.events();
    assert.deepEqual([...t.pieceAvailability()].filter((x) => x !== 0), [], "no peer, no availability");
    t.connectPeer("127.0.0.1", s1.listenPort);
    t.connectPeer("127.0.0.1", s2.listenPort);
    // Each seeder's bitfield arrives after its connection: check on every event.
    await waitFor(events, () => {
      const a = t.pieceAvailability();
      return a.length > 0 && a.every((x) => x === 2);
    }, "availability 2 on every piece");
    const avail = t.pieceAvailability();
    assert.equal(avail.length, t.status().pieceCount);
    assert.equal(t.peers().filter((p) => p.flags.seed).length, 2);
    await events.return();
  });

  test("the extended status record has sane values", { timeout: TIMEOUT.quick }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "x.bin": 50_000 }, { version: "v1" });
    await using session = await openSeeder(fx);
    const st = session.torrents()[0].status();
    assert.equal(st.currentTracker, "", "no tracker");
    assert.equal(st.storageMode, "sparse");
    assert.equal(st.movingStorage, false);
    assert.equal(st.blockSize, 16384);
    assert.equal(st.progressPpm, 1_000_000);
    assert.equal(st.secondsSinceDownload, null, "a seed that never downloaded");
    assert.equal(st.totalFailedBytes, 0);
    assert.equal(st.totalRedundantBytes, 0);
    assert.ok(st.connectionsLimit === -1 || st.connectionsLimit > 0);
    assert.ok(st.uploadsLimit === -1 || st.uploadsLimit > 0);
    for (const k of ["nextAnnounce", "totalReceived", "totalSent", "receiveRate", "sendRate", "seedRank"] as const) {
      assert.equal(typeof st[k], "number", k);
      assert.ok(Number.isFinite(st[k]), k);
    }
  });

  test("bad input and gone torrents give stable codes", { timeout: TIMEOUT.quick }, async () => {
    using dir = new TempDir();
    await using session = await openIsolated();
    const m = await session.add({
      magnet: "magnet:?xt=urn:btih:00112233445566778899aabbccddeeff00112233",
      savePath: dir.path,
      paused: true,
    });
    throwsCode(() => m.files(), "NO_METADATA", "files() without metadata");
    throwsCode(() => m.pieces(), "NO_METADATA", "pieces() without metadata");
    throwsCode(() => m.pieceAvailability(), "NO_METADATA", "pieceAvailability() without metadata");
    assert.deepEqual(m.peers(), [], "no peers");
    throwsCode(() => m.files({ precise: "yes" } as never), "INVALID_ARGUMENT");
    throwsCode(() => m.files({ bogus: true } as never), "INVALID_ARGUMENT");
    await m.remove();
    for (const f of [() => m.peers(), () => m.files(), () => m.pieces(), () => m.pieceAvailability()]) {
      throwsCode(f, "TORRENT_REMOVED");
    }
    const n = await session.add({
      magnet: "magnet:?xt=urn:btih:ffeeddccbbaa99887766554433221100ffeeddcc",
      savePath: dir.path,
      paused: true,
    });
    await session.close();
    for (const f of [() => n.peers(), () => n.files(), () => n.pieces(), () => n.pieceAvailability()]) {
      throwsCode(f, "SESSION_CLOSED");
    }
    throwsCode(() => n.status(), "SESSION_CLOSED");
  });

  test("record layouts match btx.h", { timeout: TIMEOUT.quick }, () => {
    const header = readFileSync(
      join(fileURLToPath(new URL(".", import.meta.url)), "..", "native", "include", "btx.h"),
      "utf8",
    );
    // Names of an enum's members in order, from `first` to `last` (inclusive).
    const members = (first: string, last: string): string[] => {
      const start = header.indexOf(first);
      const end = header.indexOf(last, start);
      assert.ok(start >= 0 && end > start, `${first}..${last} in btx.h`);
      const text = header.slice(start, end + last.length).replace(/\/\*[\s\S]*?\*\//g, "");
      return [...text.matchAll(/\b(BTX_[A-Z0-9_]+)\s*(?:=[^,]*)?,?/g)].map((m) => m[1]);
    };
    const status = [
      ...members("BTX_ST_STATE = 0", "BTX_STATUS_NUM_FIELDS"),
      ...members("BTX_STX_NEXT_ANNOUNCE", "BTX_STATUS_EX_NUM_FIELDS"),
    ].filter((n) => n !== "BTX_STATUS_NUM_FIELDS");
    const ts = Object.entries(ST).sort((a, b) => a[1] - b[1]).map(([k]) => k);
    assert.equal(status.length - 1, ST.COUNT, "one index per field, then the count");
    for (let i = 0; i < ST.COUNT; i++) {
      assert.equal(status[i].replace(/^BTX_STX?_/, ""), ts[i], `status field ${i}`);
    }
    assert.equal(members("BTX_PEER_FLAGS = 0", "BTX_PEER_NUM_FIELDS").length - 1, RECORD_FIELDS.peer);
    assert.equal(members("BTX_FILE_INDEX = 0", "BTX_FILE_NUM_FIELDS").length - 1, RECORD_FIELDS.file);
  });
});
