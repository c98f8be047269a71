// createTorrent: the info-hashes it reports are those of the bytes it
// returns, the options shape the torrent, and a single file works too.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createTorrent } from "../mod.ts";
import { addSeed, openIsolated, TempDir, TIMEOUT, writeTree } from "./_helpers.ts";

/** The byte range of the value of `key` in the top-level bencoded dictionary. */
function dictValueRange(b: Uint8Array, key: string): [number, number] {
  const skip = (i: number): number => {
    const c = String.fromCharCode(b[i]);
    if (c === "i") return b.indexOf(0x65, i) + 1; // 'e'
    if (c === "l" || c === "d") {
      i++;
      while (b[i] !== 0x65) i = skip(i);
      return i + 1;
    }
    const colon = b.indexOf(0x3a, i); // ':'
    return colon + 1 + Number(new TextDecoder().decode(b.subarray(i, colon)));
  };
  assert.equal(b[0], 0x64, "a .torrent is a dictionary");
  let i = 1;
  while (b[i] !== 0x65) {
    const keyEnd = skip(i);
    const k = new TextDecoder().decode(b.subarray(b.indexOf(0x3a, i) + 1, keyEnd));
    const valueEnd = skip(keyEnd);
    if (k === key) return [keyEnd, valueEnd];
    i = valueEnd;
  }
  throw new Error(`no "${key}" in the dictionary`);
}

const opts = { timeout: TIMEOUT.quick };

describe("createTorrent", () => {
  for (const version of ["v1", "v2", "hybrid"] as const) {
    test(`a ${version} torrent's reported info-hashes are the hashes of its info dictionary`, opts, async () => {
      using dir = new TempDir();
      writeTree(dir.join("c"), { "a.bin": 70_000, "x/y.bin": 3 });
      const made = await createTorrent({ path: dir.join("c"), version, pieceSize: 32768 });
      const [from, to] = dictValueRange(made.torrent, "info");
      const info = made.torrent.subarray(from, to);
      const sha1 = createHash("sha1").update(info).digest("hex");
      const sha256 = createHash("sha256").update(info).digest("hex");
      assert.equal(made.infoHash.v1, version === "v2" ? undefined : sha1);
      assert.equal(made.infoHash.v2, version === "v1" ? undefined : sha256);
      // The magnet names the same hashes.
      if (made.infoHash.v1) assert.ok(made.magnet.includes(`xt=urn:btih:${sha1}`), made.magnet);
      if (made.infoHash.v2) assert.ok(made.magnet.includes(`xt=urn:btmh:1220${sha256}`), made.magnet);
      assert.match(made.magnet, /dn=c(&|$)/);
    });
  }

  test("the piece size and the content size show in the added torrent's status", opts, async () => {
    using dir = new TempDir();
    writeTree(dir.join("seed", "c"), { "a.bin": 100_000, "b.bin": 1_234 });
    const made = await createTorrent({ path: dir.join("seed", "c"), version: "v1", pieceSize: 65536 });
    await using session = await openIsolated();
    const t = await addSeed(session, { dataDir: dir.join("seed", "c"), savePath: dir.join("seed"), name: "c", made });
    const st = t.status();
    assert.equal(st.pieceSize, 65536);
    assert.equal(st.totalWanted, 101_234);
    assert.equal(st.pieceCount, Math.ceil(101_234 / 65536));
  });

  test("a single file can be shared, not only a directory", opts, async () => {
    using dir = new TempDir();
    writeTree(dir.path, { "lone.bin": 40_001 });
    const made = await createTorrent({ path: dir.join("lone.bin"), version: "hybrid" });
    await using session = await openIsolated();
    const t = await addSeed(session, { dataDir: dir.join("lone.bin"), savePath: dir.path, name: "lone.bin", made });
    assert.equal(t.status().name, "lone.bin");
    assert.equal(t.status().totalWanted, 40_001);
  });

  test("the same content and options give the same torrent", opts, async () => {
    using dir = new TempDir();
    writeTree(dir.join("c"), { "a.bin": 20_000 });
    const a = await createTorrent({ path: dir.join("c"), version: "hybrid", pieceSize: 16384, comment: "x" });
    const b = await createTorrent({ path: dir.join("c"), version: "hybrid", pieceSize: 16384, comment: "x" });
    assert.deepEqual(a.infoHash, b.infoHash);
    const c = await createTorrent({ path: dir.join("c"), version: "hybrid", pieceSize: 16384, private: true });
    assert.notDeepEqual(c.infoHash, a.infoHash, "private is part of the info dictionary");
  });
});
