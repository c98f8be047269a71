// Storage faults under a running download, with the POSIX disk back-end
// (`diskIo: "posix"`: no memory maps, so a file that shrinks underneath
// gives an I/O error rather than SIGBUS): a read-only target, a disk that
// fills up (a 2 MiB tmpfs), a file deleted or truncated mid-download. Each
// ends in an error event and an error state in status() (never a crash);
// once the cause is fixed, clearError() (and a recheck where data was lost)
// lets the download finish with the right bytes.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  readResumeFile,
  type Session,
  type Torrent,
  type TorrentEvent,
  type TorrentStatus,
  writeResumeFile,
} from "../../mod.ts";
import { resumeTempPrefix } from "../../src/resume_file.ts";
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
} from "../_helpers.ts";
import { canMount, filesWithPrefix, report, Tmpfs } from "./_faults.ts";

const PIECE = 16384;
const ROOT = canMount();
const NEEDS_ROOT = ROOT ? undefined : "needs root to mount a tmpfs";
const counts = { faults: 0, errorEvents: 0, recovered: 0 };

type ErrorEvent = Extract<TorrentEvent, { type: "file_error" | "torrent_error" }>;

/** The torrent's error state, as status() shows it: an error, or upload mode after a failed write. */
function inError(st: TorrentStatus): boolean {
  return st.error !== null || st.uploadMode;
}

/** Waits for the torrent's first file_error / torrent_error; fails on torrent_finished first. */
function firstError(t: Torrent): Promise<ErrorEvent> {
  const events = t.events({ types: ["file_error", "torrent_error", "torrent_finished"] });
  return waitFor<ErrorEvent>(events, (ev) => {
    if (ev.type === "torrent_finished") throw new Error("the download finished despite the fault");
    return true;
  }, "an error event").finally(() => events.return());
}

/** Clears the error, rechecks, resumes, reconnects, and waits for the end; then compares the bytes. */
async function recover(t: Torrent, seeder: Session, fxDir: string, got: string): Promise<void> {
  seeder.applySettings({ upload_rate_limit: 0 }); // the fault is over: no need to go slow
  const events = t.events({ types: ["torrent_finished", "torrent_checked", "file_error", "torrent_error"] });
  t.clearError();
  // Pieces whose writes failed, or whose file went away, are found missing and fetched again.
  t.forceRecheck(); // drops the pieces in flight, whose writes may have failed
  t.resume(); // a paused torrent's recheck waits for it to run
  await waitFor(events, (ev) => ev.type === "torrent_checked", "the recheck");
  const st = t.status();
  assert.equal(st.paused, false);
  assert.equal(st.error, null, "clearError() cleared the error");
  assert.equal(st.uploadMode, false, "clearError() left upload mode");
  t.connectPeer("127.0.0.1", seeder.listenPort);
  if (!t.status().isFinished) {
    await waitFor(events, (ev) => {
      if (ev.type === "file_error" || ev.type === "torrent_error") throw new Error(`again: ${ev.message}`);
      return ev.type === "torrent_finished";
    }, "torrent_finished after recovery");
  }
  await events.return();
  await t.flushCache();
  assertSameTree(fxDir, got);
  counts.recovered++;
}

async function start(
  dir: TempDir,
  spec: Record<string, number>,
  savePath: string,
  options: { sequential?: boolean; rate?: number } = {},
): Promise<{ seeder: Session; leecher: Session; t: Torrent; fx: Awaited<ReturnType<typeof makeFixture>> }> {
  const fx = await makeFixture(dir, spec, { version: "hybrid", pieceSize: PIECE });
  const seeder = await openSeeder(fx, {
    settings: options.rate ? { upload_rate_limit: options.rate, ignore_limits_on_local_network: false } : {},
  });
  const leecher = await openIsolated({ diskIo: "posix" });
  const t = await leecher.add({ torrent: fx.made.torrent, savePath, sequential: options.sequential });
  return { seeder, leecher, t, fx };
}

describe("storage faults", () => {
  test("a read-only target directory: error event and state; writable again → clearError() → the download finishes", {
    timeout: TIMEOUT.slow,
    skip: NEEDS_ROOT,
  }, async () => {
    using dir = new TempDir();
    const target = dir.join("dl");
    mkdirSync(target);
    using fs = new Tmpfs(target, "ro,size=16m");
    const { seeder, leecher, t, fx } = await start(dir, { "a.bin": 300_000, "b/c.bin": 100_000 }, target);
    await using _s = seeder;
    await using _l = leecher;
    const failed = firstError(t);
    t.connectPeer("127.0.0.1", seeder.listenPort);
    const ev = await failed;
    counts.faults++;
    counts.errorEvents++;
    assert.match(ev.message, /read-only|no such file/i);
    assert.ok(inError(t.status()), `status() shows no error: ${JSON.stringify(t.status().error)}`);
    fs.remount("rw");
    await recover(t, seeder, fx.dataDir, join(target, fx.name));
  });

  test("a disk that fills up: file_error (no space), upload mode; more space → clearError() → the download finishes", {
    timeout: TIMEOUT.slow,
    skip: NEEDS_ROOT,
  }, async () => {
    using dir = new TempDir();
    const target = dir.join("dl");
    mkdirSync(target);
    using fs = new Tmpfs(target, "size=2m");
    // A resume file on the same disk, written while there was room.
    const resumePath = join(target, "t.resume");
    const good = new Uint8Array(1000).fill(7);
    writeResumeFile(resumePath, good);
    const { seeder, leecher, t, fx } = await start(dir, { "a.bin": 2_500_000, "b.bin": 700_000 }, target);
    await using _s = seeder;
    await using _l = leecher;
    const failed = firstError(t);
    t.connectPeer("127.0.0.1", seeder.listenPort);
    const ev = await failed;
    counts.faults++;
    counts.errorEvents++;
    assert.equal(ev.type, "file_error");
    assert.match(ev.message, /no space/i);
    const st = t.status();
    assert.ok(inError(st), "status() shows the error state");
    assert.equal(st.uploadMode, true, "libtorrent stops requesting after a failed write (upload mode)");
    // The full disk cannot take a new resume file: the old one stays whole, no temporary file is left.
    await rejectsCode(() => writeResumeFile(resumePath, new Uint8Array(1 << 20)), "IO_ERROR");
    assert.deepEqual(new Uint8Array(readFileSync(resumePath)), good);
    assert.deepEqual(filesWithPrefix(target, resumeTempPrefix(resumePath)), []);
    counts.faults++;
    fs.remount("size=16m");
    await recover(t, seeder, fx.dataDir, join(target, fx.name));
  });

  for (const fault of ["deleted", "truncated"] as const) {
    test(
      `a file ${fault} under a running download: the next read of it fails (error event and state); clearError() + recheck → the download finishes`,
      {
        timeout: TIMEOUT.slow,
      },
      async () => {
        using dir = new TempDir();
        const target = dir.join("dl");
        // Sequential, rate-limited: a.bin completes while b.bin is still coming.
        const { seeder, leecher, t, fx } = await start(
          dir,
          { "a.bin": 600_000, "b.bin": 900_000 },
          target,
          { sequential: true, rate: 300_000 },
        );
        await using _s = seeder;
        await using _l = leecher;
        // A second, slow downloader that fetches from the leecher only: its
        // requests make the leecher read a.bin back from disk.
        await using other = await openIsolated({
          settings: { download_rate_limit: 60_000, ignore_limits_on_local_network: false },
        });
        const o = await other.add({ torrent: fx.made.torrent, savePath: dir.join("other"), paused: true });
        // It wants a.bin only, so it keeps asking the leecher for a.bin pieces.
        const indexOf = (name: string) => o.files().find((f) => f.path.endsWith(name))!.index;
        await o.setFilePriority(indexOf("b.bin"), 0);
        o.resume();
        const events = t.events({ types: ["file_completed", "torrent_finished"] });
        t.connectPeer("127.0.0.1", seeder.listenPort);
        o.connectPeer("127.0.0.1", leecher.listenPort);
        await waitFor(events, (ev) => {
          if (ev.type === "torrent_finished") throw new Error("finished before the fault: the seeder is too fast");
          return ev.type === "file_completed" && ev.file === indexOf("a.bin");
        }, "a.bin complete");
        await events.return();
        assert.equal(t.status().isFinished, false);
        const failed = firstError(t);
        const file = join(target, fx.name, "a.bin");
        if (fault === "deleted") unlinkSync(file);
        else truncateSync(file, 1000);
        counts.faults++;
        const ev = await failed;
        counts.errorEvents++;
        const st = t.status();
        assert.ok(inError(st), `status() shows no error after ${ev.type}: ${ev.message}`);
        await recover(t, seeder, fx.dataDir, join(target, fx.name));
        report(`storage fault (${fault})`, { event: ev.type, message: JSON.stringify(ev.message) });
      },
    );
  }

  test("writeResumeFile(): bad input is INVALID_ARGUMENT; a failed write is IO_ERROR and leaves the old file", () => {
    using dir = new TempDir();
    const path = dir.join("a.resume");
    throwsCode(() => writeResumeFile("", new Uint8Array(1)), "INVALID_ARGUMENT");
    throwsCode(() => writeResumeFile(path, "text" as never), "INVALID_ARGUMENT");
    throwsCode(() => writeResumeFile(5 as never, new Uint8Array(1)), "INVALID_ARGUMENT");
    throwsCode(() => readResumeFile(""), "INVALID_ARGUMENT");
    assert.equal(readResumeFile(path), undefined, "no file yet");
    writeResumeFile(path, new Uint8Array([1, 2, 3]));
    writeResumeFile(path, new Uint8Array([4, 5]));
    assert.deepEqual(readResumeFile(path), new Uint8Array([4, 5]), "replaced whole");
    // A directory where the file should go, and a missing directory: IO_ERROR, nothing left behind.
    mkdirSync(dir.join("d.resume"));
    throwsCode(() => writeResumeFile(dir.join("d.resume"), new Uint8Array(4)), "IO_ERROR");
    throwsCode(() => writeResumeFile(dir.join("missing", "x.resume"), new Uint8Array(4)), "IO_ERROR");
    throwsCode(() => readResumeFile(dir.join("d.resume")), "IO_ERROR");
    assert.deepEqual(filesWithPrefix(dir.path, ".").filter((n) => n.includes(".tmp-")), []);
    // A stale temporary file of a killed writer is harmless: the next write goes on.
    writeFileSync(dir.join(`${resumeTempPrefix(path)}999999-0`), "torn");
    writeResumeFile(path, new Uint8Array([6]));
    assert.deepEqual(readResumeFile(path), new Uint8Array([6]));
    if (!ROOT) {
      chmodSync(dir.path, 0o500);
      throwsCode(() => writeResumeFile(path, new Uint8Array(9)), "IO_ERROR");
      chmodSync(dir.path, 0o700);
      assert.deepEqual(readResumeFile(path), new Uint8Array([6]));
    }
  });

  test("storage fault counts", () => {
    report("storage faults", counts);
  });
});
