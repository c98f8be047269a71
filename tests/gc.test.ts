// Garbage-collection pressure: sessions and torrents created, closed or
// removed, references dropped, a full GC forced where the runtime offers it
// (Bun.gc; globalThis.gc under --expose-gc), then the surviving handles
// used: every use is a clear TorrentError, never a crash, and never an
// answer about some other torrent that took over a freed native handle.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createTorrent, type Session, type Torrent } from "../mod.ts";
import {
  forceGC,
  makeFixture,
  openIsolated,
  rejectsCode,
  TempDir,
  throwsCode,
  TIMEOUT,
  writeTree,
} from "./_helpers.ts";

/** A magnet for a random (unknown) v1 info-hash, with a display name. */
function randomMagnet(name: string): { magnet: string; hash: string } {
  const hash = randomBytes(20).toString("hex");
  return { magnet: `magnet:?xt=urn:btih:${hash}&dn=${encodeURIComponent(name)}`, hash };
}

/** Allocates and drops short-lived garbage so collections happen even without a forced GC. */
function churn(): void {
  let keep = 0;
  for (let i = 0; i < 2_000; i++) keep += new Uint8Array(4096).length + [i, { i }].length;
  assert.ok(keep > 0);
  forceGC();
}

describe("GC pressure", () => {
  test("closed sessions and their torrents, kept across a GC, throw SESSION_CLOSED and never crash", {
    timeout: TIMEOUT.transfer,
  }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "a.bin": 40_000, "b/c.bin": 3_000 }, { version: "hybrid" });
    const kept: { session: Session; torrent: Torrent; removed: Torrent }[] = [];
    for (let i = 0; i < 6; i++) {
      const session = await openIsolated();
      const torrent = await session.add({ torrent: fx.made.torrent, savePath: fx.savePath, paused: true });
      const removed = await session.add({ magnet: randomMagnet(`m${i}`).magnet, savePath: dir.join("dl") });
      // Streams left behind, never iterated nor returned.
      session.events();
      torrent.events({ types: ["torrent_finished"] });
      await removed.remove();
      await session.close();
      kept.push({ session, torrent, removed });
      churn();
    }
    // Sessions opened, used and dropped without keeping any reference.
    for (let i = 0; i < 4; i++) {
      await (async () => {
        await using s = await openIsolated();
        await s.add({ magnet: randomMagnet(`dropped${i}`).magnet, savePath: dir.join("dl") });
      })();
    }
    churn();
    churn();

    // A live session whose native handles may reuse the freed slots.
    await using live = await openIsolated();
    const fresh = await live.add({ torrent: fx.made.torrent, savePath: fx.savePath, paused: true });
    for (const { session, torrent, removed } of kept) {
      assert.equal(session.closed, true);
      throwsCode(() => session.listenPort, "SESSION_CLOSED");
      await rejectsCode(() => session.add({ torrent: fx.made.torrent, savePath: fx.savePath }), "SESSION_CLOSED");
      throwsCode(() => torrent.status(), "SESSION_CLOSED");
      throwsCode(() => torrent.pause(), "SESSION_CLOSED");
      throwsCode(() => torrent.connectPeer("127.0.0.1", 1), "SESSION_CLOSED");
      await rejectsCode(() => torrent.saveResumeData(), "SESSION_CLOSED");
      await rejectsCode(() => torrent.remove({ deleteFiles: true }), "SESSION_CLOSED");
      throwsCode(() => removed.status(), "SESSION_CLOSED");
      assert.equal((await torrent.events().next()).done, true);
      assert.deepEqual(torrent.infoHash, fx.made.infoHash, "a dead torrent still knows its own info-hash");
    }
    // The live one is unaffected, and so are the files of the dead ones' torrent.
    assert.equal(fresh.status().name, fx.name);
    assert.equal(fresh.status().paused, true);
  });

  test("removed torrents stay dead while new torrents take over their native handles", {
    timeout: TIMEOUT.quick,
  }, async () => {
    using dir = new TempDir();
    await using session = await openIsolated();
    const N = 24;
    const old: { t: Torrent; hash: string }[] = [];
    for (let i = 0; i < N; i++) {
      const m = randomMagnet(`old-${i}`);
      old.push({ t: await session.add({ magnet: m.magnet, savePath: dir.join("dl"), paused: true }), hash: m.hash });
    }
    for (const { t } of old) await t.remove();
    churn();
    const fresh: Torrent[] = [];
    for (let i = 0; i < N; i++) {
      fresh.push(
        await session.add({ magnet: randomMagnet(`new-${i}`).magnet, savePath: dir.join("dl"), paused: true }),
      );
    }
    churn();
    for (const { t, hash } of old) {
      throwsCode(() => t.status(), "TORRENT_REMOVED");
      throwsCode(() => t.resume(), "TORRENT_REMOVED");
      assert.equal(t.infoHash.v1, hash, "a removed torrent keeps its own info-hash");
    }
    for (let i = 0; i < N; i++) {
      assert.equal(fresh[i].status().name, `new-${i}`, "each live torrent answers for itself");
    }
    assert.deepEqual(session.torrents(), fresh);
  });

  test("createTorrent and status reads under allocation pressure give consistent results", {
    timeout: TIMEOUT.transfer,
  }, async () => {
    using dir = new TempDir();
    const roots = [0, 1, 2, 3].map((i) => {
      const root = dir.join("src", `t${i}`);
      writeTree(root, { "a.bin": 50_000 + i, "d/e.bin": 7_000 * (i + 1) });
      return root;
    });
    const alloc = (async () => {
      for (let i = 0; i < 5; i++) {
        churn();
        await Promise.resolve();
      }
    })();
    const made = await Promise.all(roots.map((path) => createTorrent({ path, version: "hybrid", pieceSize: 16384 })));
    await alloc;
    churn();
    // Same content → same hashes, again after GC; different content → different hashes.
    const again = await createTorrent({ path: roots[2], version: "hybrid", pieceSize: 16384 });
    assert.deepEqual(again.infoHash, made[2].infoHash);
    assert.equal(new Set(made.map((m) => m.infoHash.v2)).size, 4);
    await using session = await openIsolated();
    const ts = [];
    for (const m of made) ts.push(await session.add({ torrent: m.torrent, savePath: dir.join("src"), paused: true }));
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < ts.length; i++) {
        const st = ts[i].status();
        assert.equal(st.name, `t${i}`);
        assert.equal(st.totalWanted, 50_000 + i + 7_000 * (i + 1));
      }
      if (round % 10 === 0) churn();
    }
  });
});
