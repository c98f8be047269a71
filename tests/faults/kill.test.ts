// kill -9 survival: a child process (same runtime) downloads from a
// rate-limited seeder and saves its resume file every few hundred ms with
// writeResumeFile(); it is SIGKILLed at random moments, again and again,
// each time restarted from the resume file it left. Every restart's claim
// (the pieces it marks as had) is checked twice: by a forced recheck in the
// child, and byte for byte against the original here. The last restart
// finishes, and the bytes are compared. A second test kills a process
// rewriting a large file with writeResumeFile() and checks that the file is
// always one whole version, never a torn one.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { assertSameTree, makeFixture, openSeeder, TempDir } from "../_helpers.ts";
import { resumeTempPrefix } from "../../src/resume_file.ts";
import { ChildLines, filesWithPrefix, FULL, killAll, report, rng, SEED, spawnSame } from "./_faults.ts";

const PIECE = 16384;

/** Runs `fn`, then SIGKILLs any child it left running (when it failed half-way). */
function cleaning(fn: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await fn();
    } finally {
      killAll();
    }
  };
}

async function killAfter(c: ChildLines, ms: number): Promise<{ code: number | null; signal: string | null }> {
  const timer = setTimeout(() => c.child.kill("SIGKILL"), ms);
  const r = await c.exited;
  clearTimeout(timer);
  return r;
}

describe("kill -9", () => {
  test(
    "a download killed at random moments, again and again, resumes each time from its resume file and ends with the right bytes",
    { timeout: FULL ? 900_000 : 240_000 },
    cleaning(async () => {
      const KILLS = FULL ? 100 : 20;
      const SIZE = FULL ? 6_000_000 : 2_000_000;
      const RATE = FULL ? 300_000 : 150_000;
      const random = rng(SEED);
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "payload.bin": SIZE }, { version: "hybrid", pieceSize: PIECE });
      const original = readFileSync(join(fx.dataDir, "payload.bin"));
      const torrentFile = dir.join("t.torrent");
      writeFileSync(torrentFile, fx.made.torrent);
      await using seeder = await openSeeder(fx, {
        settings: { upload_rate_limit: RATE, ignore_limits_on_local_network: false },
      });
      const savePath = dir.join("dl");
      const resumePath = dir.join("t.resume");
      const downloaded = join(savePath, fx.name, "payload.bin");
      const env = (finish: boolean) => ({
        FAULT_CHILD: JSON.stringify({
          mode: "download",
          torrentFile,
          savePath,
          resumePath,
          seederPort: seeder.listenPort,
          saveEveryMs: 200,
          finish,
        }),
      });
      const figures = {
        seed: SEED,
        kills: 0,
        restartsFromResume: 0,
        claimsChecked: 0,
        piecesClaimed: 0,
        recheckLost: 0,
        bytesWrong: 0,
        hashFailed: 0,
        killedBeforeClaim: 0,
        killedAfterFinish: 0,
        tempFilesLeft: 0,
        maxPiecesBeforeFinal: 0,
      };
      const pieceBytes = (i: number) => original.subarray(i * PIECE, Math.min(SIZE, (i + 1) * PIECE));
      for (let k = 0; k < KILLS; k++) {
        const t0 = Date.now();
        const c = new ChildLines(spawnSame("_kill_child.ts", env(false)));
        // A random moment: a third of the kills hit start-up (runtime and
        // engine starting, resume file read, recheck), the rest land within
        // 1.5 s after a save that holds new pieces (mid-transfer, mid-save),
        // whatever the machine's speed.
        // (The 4 s cap only bounds a cycle whose transfer is slow to start.)
        let cap: ReturnType<typeof setTimeout> | undefined;
        const saw = random() >= 1 / 3 && await Promise.race([
              c.wait((l) =>
                l.ev === "error" || l.ev === "finished" ||
                (l.ev === "saved" && (l.pieces as number) > ((c.of("claimed")?.pieces as number[]) ?? []).length)
              ),
              new Promise((resolve) => cap = setTimeout(resolve, 4000)),
            ]) !== null;
        clearTimeout(cap);
        const r = await killAfter(c, random() * (saw ? 1500 : 600));
        if (process.env.FAULTS_DEBUG) console.log(k, c.lines.map((l) => `${l.ev}@${(l.at as number) - t0}`).join(" "));
        figures.kills++;
        const err = c.of("error");
        assert.equal(err, undefined, `child ${k} failed: ${err?.message}\n${c.stderr}`);
        assert.equal(r.signal, "SIGKILL", `child ${k} exited on its own (${r.code}): ${c.stderr}`);
        if (c.of("added")?.fromResume) figures.restartsFromResume++;
        figures.hashFailed += c.lines.filter((l) => l.ev === "hash_failed").length;
        if (c.of("finished")) figures.killedAfterFinish++;
        const claimed = c.of("claimed")?.pieces as number[] | undefined;
        if (!claimed) {
          figures.killedBeforeClaim++;
        } else {
          figures.claimsChecked++;
          figures.piecesClaimed += claimed.length;
          const verified = c.of("verified")?.pieces as number[] | undefined;
          if (verified) {
            const ok = new Set(verified);
            figures.recheckLost += claimed.filter((p) => !ok.has(p)).length;
          }
          // What the restart claimed is on disk now (the child is dead, the file still).
          const disk = claimed.length > 0 ? readFileSync(downloaded) : Buffer.alloc(0);
          for (const p of claimed) {
            const want = pieceBytes(p);
            if (!disk.subarray(p * PIECE, p * PIECE + want.length).equals(want)) figures.bytesWrong++;
          }
        }
        const last = c.lines.filter((l) => l.ev === "saved").at(-1);
        if (last) figures.maxPiecesBeforeFinal = Math.max(figures.maxPiecesBeforeFinal, last.pieces as number);
        // A kill between a temporary file's creation and its rename leaves it behind; the resume file is whole.
        const temps = existsSync(dir.path) ? filesWithPrefix(dir.path, resumeTempPrefix(resumePath)) : [];
        figures.tempFilesLeft += temps.length;
        for (const t of temps) rmSync(dir.join(t));
      }
      // The last restart runs to the end.
      const c = new ChildLines(spawnSame("_kill_child.ts", env(true)));
      const r = await c.exited;
      assert.equal(r.code, 0, `the final run failed: ${JSON.stringify(c.of("error"))}\n${c.stderr}`);
      assert.ok(c.of("done"));
      figures.hashFailed += c.lines.filter((l) => l.ev === "hash_failed").length;
      const claimed = c.of("claimed")!.pieces as number[];
      const verified = new Set(c.of("verified")!.pieces as number[]);
      figures.recheckLost += claimed.filter((p) => !verified.has(p)).length;
      assertSameTree(fx.dataDir, join(savePath, fx.name));
      report("kill -9 download", { ...figures, pieces: Math.ceil(SIZE / PIECE), finalClaimed: claimed.length });
      assert.equal(figures.kills, KILLS);
      assert.equal(figures.recheckLost, 0, "a piece a restart marked as had failed its recheck");
      assert.equal(figures.bytesWrong, 0, "a piece a restart marked as had holds wrong bytes");
      assert.equal(figures.hashFailed, 0, "hash failures during the download");
      assert.ok(figures.restartsFromResume >= KILLS / 2, "most restarts came from the resume file");
      assert.ok(figures.piecesClaimed > 0, "some restart claimed pieces (else the claims were never tested)");
    }),
  );

  test(
    "a process killed while rewriting a resume file with writeResumeFile() leaves a whole version every time",
    { timeout: FULL ? 600_000 : 120_000 },
    cleaning(async () => {
      const KILLS = FULL ? 100 : 20;
      const random = rng(SEED + 1);
      using dir = new TempDir();
      const path = dir.join("big.resume");
      const figures = { seed: SEED, kills: 0, tempFilesLeft: 0, versionsSeen: new Set<number>(), lastVersion: 0 };
      for (let k = 0; k < KILLS; k++) {
        const c = new ChildLines(
          spawnSame("_kill_child.ts", {
            FAULT_CHILD: JSON.stringify({ mode: "writer", resumePath: path, blobSize: 4 << 20 }),
          }),
        );
        // Once the first version is out, kill within a few writes.
        const first = await c.wait((l) => l.ev === "first" || l.ev === "error");
        assert.equal(first?.ev, "first", `writer ${k} failed: ${JSON.stringify(first)}\n${c.stderr}`);
        const r = await killAfter(c, random() * 150);
        assert.equal(r.signal, "SIGKILL");
        figures.kills++;
        const bytes = readFileSync(path);
        const digest = createHash("sha256").update(bytes.subarray(32)).digest();
        assert.ok(digest.equals(bytes.subarray(0, 32)), `kill ${k}: the resume file is torn (${bytes.length} bytes)`);
        const version = bytes.readUInt32LE(32);
        assert.ok(version >= 1);
        figures.versionsSeen.add(version);
        const temps = filesWithPrefix(dir.path, resumeTempPrefix(path));
        figures.tempFilesLeft += temps.length;
        for (const t of temps) rmSync(dir.join(t));
      }
      report("kill -9 resume writer", {
        seed: SEED,
        kills: figures.kills,
        killedMidWrite: figures.tempFilesLeft,
        distinctVersions: figures.versionsSeen.size,
      });
      assert.equal(figures.kills, KILLS);
    }),
  );
});
