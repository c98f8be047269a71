// The fuzz seed corpus (fuzz/corpus/, written by fuzz/make_corpus.ts) through
// the public API: every classic bad torrent, magnet and resume file ends in a
// TorrentError with a stable code or in a torrent whose files stay inside
// its save path — never a crash or a hang.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { isAbsolute, join, normalize, sep } from "node:path";
import { spawnSync } from "node:child_process";
import { TorrentError } from "../mod.ts";
import { openIsolated, TempDir } from "./_helpers.ts";

const ROOT = join(import.meta.dirname ?? ".", "..");
const CORPUS = join(ROOT, "fuzz", "corpus");

function ensureCorpus(): void {
  if (existsSync(join(CORPUS, "torrent"))) return;
  const exe = process.execPath;
  const args = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined"
    ? ["run", "-A", join(ROOT, "fuzz", "make_corpus.ts")]
    : [join(ROOT, "fuzz", "make_corpus.ts")];
  const r = spawnSync(exe, args, { stdio: "inherit" });
  assert.equal(r.status, 0, "fuzz/make_corpus.ts failed");
}

const EXPECTED_CODES = new Set(["INVALID_TORRENT", "INVALID_MAGNET", "INVALID_RESUME", "INVALID_ARGUMENT"]);

describe("fuzz seed corpus through the public API", () => {
  for (const [kind, key] of [["torrent", "torrent"], ["magnet", "magnet"], ["resume", "resume"]] as const) {
    test(`every ${kind} seed ends in a code or a contained torrent`, async () => {
      ensureCorpus();
      using dir = new TempDir();
      await using session = await openIsolated();
      const savePath = dir.join("save");
      const files = readdirSync(join(CORPUS, kind)).sort();
      assert.ok(files.length >= 5, `the ${kind} corpus has seeds`);
      const outcome: Record<string, string> = {};
      for (const f of files) {
        const bytes = new Uint8Array(readFileSync(join(CORPUS, kind, f)));
        const value = key === "magnet" ? new TextDecoder().decode(bytes) : bytes;
        try {
          const t = await session.add({ [key]: value, savePath, paused: true } as never);
          outcome[f] = "added";
          if (t.status().hasMetadata) {
            for (const file of t.files({ includePad: true })) {
              const p = normalize(file.path);
              assert.ok(
                !isAbsolute(p) && p !== ".." && !p.startsWith(`..${sep}`),
                `${f}: file path ${file.path} escapes`,
              );
            }
          }
          await t.remove();
        } catch (e) {
          assert.ok(e instanceof TorrentError, `${f}: ${String(e)} is not a TorrentError`);
          assert.ok(EXPECTED_CODES.has(e.code), `${f}: unexpected code ${e.code} (${e.message})`);
          outcome[f] = e.code;
        }
      }
      // The seeds meant to be refused are refused.
      const mustFail = kind === "torrent"
        ? ["garbage", "empty", "truncated", "no-info", "info-not-dict", "negative-size", "zero-piece-length"]
        : kind === "magnet"
        ? ["empty", "not-magnet", "short-hash", "bad-hex"]
        : ["not-dict"];
      for (const f of mustFail) assert.notEqual(outcome[f], "added", `${f} was accepted`);
      const valid = kind === "torrent" ? ["valid-single", "valid-multi"] : kind === "magnet" ? ["valid"] : [];
      for (const f of valid) assert.equal(outcome[f], "added", `${f}: ${outcome[f]}`);
      console.log(`${kind}: ${JSON.stringify(outcome)}`);
    });
  }
});
