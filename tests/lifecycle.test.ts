// Lifetimes: a removed torrent and a closed session fail with clear codes;
// close() is idempotent; `await using` closes; pending work settles at close.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Session, type Torrent, TorrentError } from "../mod.ts";
import { addSeed, makeFixture, openIsolated, rejectsCode, TempDir, throwsCode, TIMEOUT } from "./_helpers.ts";

const opts = { timeout: TIMEOUT.quick };

/** Every Torrent method, called; sync ones wrapped so rejections and throws look alike. */
function torrentCalls(t: Torrent): [string, () => unknown][] {
  return [
    ["status()", () => t.status()],
    ["pause()", () => t.pause()],
    ["resume()", () => t.resume()],
    ["connectPeer()", () => t.connectPeer("127.0.0.1", 6881)],
    ["remove()", () => t.remove()],
    ["remove({ deleteFiles })", () => t.remove({ deleteFiles: true })],
    ["saveResumeData()", () => t.saveResumeData()],
  ];
}

describe("lifecycle", () => {
  test("a torrent used after remove() throws TORRENT_REMOVED from every method", opts, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "a.bin": 33_333 }, { version: "v1", pieceSize: 16384 });
    await using session = await openIsolated();
    const t = await addSeed(session, fx);
    const ih = t.infoHash;
    await t.remove();
    assert.equal(t.removed, true);
    for (const [name, call] of torrentCalls(t)) await rejectsCode(call, "TORRENT_REMOVED", name);
    // Sync methods throw synchronously, not via a rejected promise.
    throwsCode(() => t.status(), "TORRENT_REMOVED");
    // What is cached stays readable.
    assert.deepEqual(t.infoHash, ih);
    // The session is fine, and the same torrent added again is a new, live object.
    const again = await session.add({ torrent: fx.made.torrent, savePath: fx.savePath, paused: true });
    assert.notEqual(again, t);
    assert.equal(again.status().name, fx.name);
    throwsCode(() => t.status(), "TORRENT_REMOVED", "the old object stays dead after a re-add");
  });

  test("a session used after close() throws SESSION_CLOSED, and so do its torrents", opts, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "a.bin": 20_000 }, { version: "hybrid", pieceSize: 16384 });
    const session = await openIsolated();
    const t = await addSeed(session, fx);
    await session.close();
    assert.equal(session.closed, true);
    assert.equal(t.removed, true, "a torrent of a closed session reports removed");
    await rejectsCode(() => session.add({ torrent: fx.made.torrent, savePath: fx.savePath }), "SESSION_CLOSED", "add");
    throwsCode(() => session.listenPort, "SESSION_CLOSED", "listenPort");
    throwsCode(() => session.torrents(), "SESSION_CLOSED", "torrents()");
    throwsCode(() => session.applySettings({ upload_rate_limit: 0 }), "SESSION_CLOSED", "applySettings");
    for (const [name, call] of torrentCalls(t)) await rejectsCode(call, "SESSION_CLOSED", `torrent.${name}`);
    // Event streams of a closed session are over at once.
    assert.equal((await session.events().next()).done, true);
    assert.equal((await t.events().next()).done, true);
  });

  test("close() twice is harmless, and concurrent closes share one closing", opts, async () => {
    const session = await openIsolated();
    const port = session.listenPort;
    assert.ok(port > 0);
    const [a, b] = [session.close(), session.close()];
    await Promise.all([a, b]);
    await session.close();
    assert.equal(session.closed, true);
    // Another session opens and works afterwards.
    await using other = await openIsolated();
    assert.ok(other.listenPort > 0);
  });

  test("await using closes the session at the end of the block", opts, async () => {
    let escaped: Session | undefined;
    {
      await using session = await Session.open({ profile: "isolated" });
      escaped = session;
      assert.equal(session.closed, false);
      assert.ok(session.listenPort > 0);
    }
    assert.equal(escaped.closed, true);
    throwsCode(() => escaped.listenPort, "SESSION_CLOSED");
  });

  test("await using closes the session when the block throws", opts, async () => {
    let escaped: Session | undefined;
    await assert.rejects(async () => {
      await using session = await openIsolated();
      escaped = session;
      throw new Error("boom");
    }, /boom/);
    assert.equal(escaped?.closed, true);
  });

  test("saveResumeData() pending when the session closes settles instead of hanging", opts, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "a.bin": 20_000 }, { version: "v1", pieceSize: 16384 });
    const session = await openIsolated();
    const t = await addSeed(session, fx);
    const pending = t.saveResumeData();
    const removal = t.remove();
    await session.close();
    for (const [name, p] of [["saveResumeData()", pending], ["remove()", removal]] as const) {
      const [r] = await Promise.allSettled([p]);
      if (r.status === "rejected") {
        assert.ok(r.reason instanceof TorrentError, `${name}: ${r.reason}`);
        assert.ok(["SESSION_CLOSED", "TORRENT_REMOVED"].includes(r.reason.code), `${name}: ${r.reason.code}`);
      }
    }
  });

  test("closing one session leaves another untouched", opts, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "a.bin": 20_000, "b.bin": 1 }, { version: "v2", pieceSize: 16384 });
    await using keep = await openIsolated();
    const t = await addSeed(keep, fx);
    const drop = await openIsolated();
    await drop.close();
    assert.equal(keep.closed, false);
    assert.equal(t.status().isSeeding, true);
    assert.deepEqual(keep.torrents(), [t]);
  });
});
