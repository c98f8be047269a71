/**
 * Crash-safe resume files: written to a temporary file beside the target,
 * flushed to the disk (fsync), then renamed over the target, so a process
 * killed mid-write (or a full disk) leaves the previous file whole.
 *
 * @module
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import process from "node:process";
import { TorrentError } from "./errors.ts";

let serial = 0;

/** The prefix of the temporary files `writeResumeFile()` makes beside `path`. */
export function resumeTempPrefix(path: string): string {
  return `.${basename(resolve(path))}.tmp-`;
}

/**
 * Writes `data` to `path` atomically: into a new temporary file in the same
 * directory (named `.<name>.tmp-<pid>-<n>`), fsync'd, then renamed over
 * `path`, then the directory fsync'd. A reader (or a restart after a crash
 * or `kill -9`) sees either the old file or the new one, never a torn mix.
 * On failure the temporary file is removed and `path` is left as it was.
 * A process killed between the temporary file's creation and the rename
 * leaves that temporary file behind (`path` still intact); it can be
 * deleted at any time.
 *
 * @example Keep resume data across crashes
 * ```ts
 * import { Session, writeResumeFile } from "./mod.ts";
 * await using session = await Session.open({ profile: "isolated" });
 * const t = await session.add({ infoHash: "0".repeat(40), savePath: "/tmp/dl", paused: true });
 * writeResumeFile("/tmp/dl.resume", await t.saveResumeData());
 * ```
 * @throws TorrentError INVALID_ARGUMENT (bad path or data); IO_ERROR when the file cannot be written (the old one stays)
 */
export function writeResumeFile(path: string, data: Uint8Array): void {
  if (typeof path !== "string" || path.length === 0 || path.includes("\0")) {
    throw new TorrentError("INVALID_ARGUMENT", "writeResumeFile: path must be a non-empty string");
  }
  if (!(data instanceof Uint8Array)) {
    throw new TorrentError("INVALID_ARGUMENT", "writeResumeFile: data must be a Uint8Array");
  }
  const target = resolve(path);
  const dir = dirname(target);
  const tmp = join(dir, `${resumeTempPrefix(target)}${process.pid}-${serial++}`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "wx", 0o644);
    for (let off = 0; off < data.length;) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch { /* already failing */ }
    }
    try {
      unlinkSync(tmp);
    } catch { /* never created, or already gone */ }
    throw new TorrentError("IO_ERROR", `writeResumeFile: ${target}: ${(e as Error).message}`, { cause: e });
  }
  // The rename is durable once the directory entry is on disk too. Not every
  // platform can fsync a directory; the file itself is already safe.
  try {
    const d = openSync(dir, "r");
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  } catch { /* best effort */ }
}

/**
 * Reads a resume file written by {@link writeResumeFile} (or any file of
 * resume data); undefined when it does not exist.
 *
 * @example Restart from the saved file, or start afresh
 * ```ts
 * import { readResumeFile, Session } from "./mod.ts";
 * await using session = await Session.open({ profile: "isolated" });
 * const resume = readResumeFile("/tmp/dl.resume");
 * const t = resume
 *   ? await session.add({ resume })
 *   : await session.add({ infoHash: "0".repeat(40), savePath: "/tmp/dl", paused: true });
 * ```
 * @throws TorrentError INVALID_ARGUMENT (bad path); IO_ERROR when it exists but cannot be read
 */
export function readResumeFile(path: string): Uint8Array | undefined {
  if (typeof path !== "string" || path.length === 0 || path.includes("\0")) {
    throw new TorrentError("INVALID_ARGUMENT", "readResumeFile: path must be a non-empty string");
  }
  try {
    return new Uint8Array(readFileSync(resolve(path)));
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return undefined;
    throw new TorrentError("IO_ERROR", `readResumeFile: ${resolve(path)}: ${(e as Error).message}`, { cause: e });
  }
}
