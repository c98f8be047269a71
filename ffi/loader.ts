/**
 * Finds and opens libtorrentxt for the running runtime, then checks its ABI
 * version. Search order: the TORRENTXT_LIB environment variable, the bundled
 * build (dist/native/<platform>/), the bundle embedded in a compiled
 * executable (extracted to a per-version cache directory on first run), the
 * local CMake build (native/build/).
 *
 * A compiled executable carries the bundle as embedded files: `deno compile
 * --include dist/native/linux-x64` puts them in Deno's in-memory file system
 * (at the bundled path), `bun build --compile … dist/native/linux-x64/*.so*
 * --asset-naming="[name].[ext]"` in `Bun.embeddedFiles`. Neither can be
 * handed to the dynamic loader as it is (and libtorrentxt.so finds its
 * libtorrent through RUNPATH $ORIGIN, a real directory), so they are written
 * to `<cache>/<version>/<platform>/` — `$TORRENTXT_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/torrentxt`, else `~/.cache/torrentxt` — into a temporary
 * directory renamed into place, and reused while their bytes match.
 *
 * @module
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { NativeLib } from "./symbols.ts";

/** The ABI version this TypeScript layer speaks (BTX_ABI_VERSION). */
export const ABI_VERSION = 2;

/** The package version (deno.json and package.json carry the same; tests/distribution.test.ts checks). */
export const PACKAGE_VERSION = "0.1.0";

/** Why the library could not be loaded: every path tried, and the cause. */
export class LibraryLoadError extends Error {
  override name = "LibraryLoadError";
  constructor(
    message: string,
    readonly code: "LIBRARY_NOT_FOUND" | "ABI_MISMATCH",
    readonly tried: string[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

declare const Bun: unknown;

function runtime(): "deno" | "bun" {
  if (typeof Bun !== "undefined") return "bun";
  if (typeof (globalThis as { Deno?: unknown }).Deno !== "undefined") return "deno";
  throw new LibraryLoadError("TorrentXT runs on Deno or Bun; this runtime is neither", "LIBRARY_NOT_FOUND", []);
}

function env(name: string): string | undefined {
  try {
    // Both runtimes provide process.env through node compatibility.
    return (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[name];
  } catch {
    return undefined; // Deno without --allow-env
  }
}

function fileExists(path: string): boolean {
  try {
    const g = globalThis as { Deno?: { statSync(p: string): { isFile: boolean } } };
    if (g.Deno) return g.Deno.statSync(path).isFile;
    // deno-lint-ignore no-explicit-any
    const fs = (globalThis as any).process?.getBuiltinModule?.("node:fs");
    return fs ? fs.statSync(path).isFile() : false;
  } catch {
    return false;
  }
}

function platformDir(): string {
  const g = globalThis as {
    Deno?: { build: { os: string; arch: string } };
    process?: { platform: string; arch: string };
  };
  const os = g.Deno?.build.os ?? g.process?.platform ?? "linux";
  const arch = g.Deno?.build.arch ?? g.process?.arch ?? "x64";
  const a = arch === "x86_64" || arch === "x64" ? "x64" : arch === "aarch64" || arch === "arm64" ? "arm64" : arch;
  return `${os}-${a}`;
}

function libName(): string {
  const g = globalThis as { Deno?: { build: { os: string } }; process?: { platform: string } };
  const os = g.Deno?.build.os ?? g.process?.platform ?? "linux";
  return os === "darwin"
    ? "libtorrentxt.dylib"
    : os === "windows" || os === "win32"
    ? "torrentxt.dll"
    : "libtorrentxt.so";
}

/** One file of an embedded bundle. */
interface EmbeddedFile {
  name: string;
  bytes(): Promise<Uint8Array>;
}

/** Shared libraries of a bundle: libtorrentxt and what it links. */
const LIBRARY_FILE = /\.(so(\.\d+)*|dylib|dll)$/;

function bundledDir(): string {
  return new URL(`../dist/native/${platformDir()}/`, import.meta.url).pathname;
}

/**
 * The bundle embedded in a compiled executable, or undefined when this is
 * not one (or it carries no bundle).
 */
function embeddedBundle(): { from: string; files: EmbeddedFile[] } | undefined {
  const g = globalThis as {
    Bun?: { embeddedFiles?: readonly (Blob & { name?: string })[] };
    Deno?: { build: { standalone?: boolean } };
  };
  const name = libName();
  const blobs = g.Bun?.embeddedFiles;
  if (blobs?.some((b) => b.name === name)) {
    const files = blobs.filter((b) => b.name && LIBRARY_FILE.test(b.name)).map((b) => ({
      name: b.name!,
      bytes: async () => new Uint8Array(await b.arrayBuffer()),
    }));
    return { from: "the executable (Bun.embeddedFiles)", files };
  }
  if (g.Deno?.build.standalone) {
    const dir = bundledDir();
    try {
      const names = readdirSync(dir).filter((n) => LIBRARY_FILE.test(n));
      if (!names.includes(name)) return undefined;
      const files = names.map((n) => ({
        name: n,
        bytes: () => Promise.resolve(new Uint8Array(readFileSync(join(dir, n)))),
      }));
      return { from: `the executable (${dir})`, files };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Where an embedded bundle is extracted: `<cache>/<version>/<platform>/`. */
export function extractDir(): string {
  const base = env("TORRENTXT_CACHE_DIR") ||
    join(env("XDG_CACHE_HOME") || join(env("HOME") || homedir(), ".cache"), "torrentxt");
  return join(base, PACKAGE_VERSION, platformDir());
}

function sameBytes(path: string, want: Uint8Array): boolean {
  try {
    if (statSync(path).size !== want.length) return false;
    const have = readFileSync(path);
    return have.equals(want);
  } catch {
    return false;
  }
}

/**
 * Writes the embedded bundle to `dest` unless it is there already with the
 * same bytes: into a temporary directory beside it, renamed into place, so
 * a concurrent first run never sees half a bundle.
 */
async function extractBundle(files: EmbeddedFile[], dest: string): Promise<void> {
  const contents = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: await f.bytes() })));
  if (contents.every((f) => sameBytes(join(dest, f.name), f.bytes))) return;
  const suffix = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const tmp = `${dest}.tmp-${suffix}`;
  mkdirSync(tmp, { recursive: true });
  try {
    for (const f of contents) writeFileSync(join(tmp, f.name), f.bytes, { mode: 0o755 });
    try {
      renameSync(tmp, dest);
    } catch {
      // dest exists: another run extracted it meanwhile (then use that), or it is stale (replace it).
      if (contents.every((f) => sameBytes(join(dest, f.name), f.bytes))) return;
      const old = `${dest}.old-${suffix}`;
      renameSync(dest, old);
      renameSync(tmp, dest);
      rmSync(old, { recursive: true, force: true }); // a running process keeps its mapped copy
    }
  } finally {
    if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
  }
}

/** The candidate paths, in search order. */
export function candidatePaths(): string[] {
  const out: string[] = [];
  const override = env("TORRENTXT_LIB");
  if (override) out.push(override);
  const name = libName();
  out.push(bundledDir() + name);
  if (embeddedBundle()) out.push(join(extractDir(), name));
  out.push(new URL(`../native/build/${name}`, import.meta.url).pathname);
  return out;
}

let cached: NativeLib | undefined;

/** Loads the library once per process; later calls return the same one. */
export async function loadNative(): Promise<NativeLib> {
  if (cached) return cached;
  const rt = runtime();
  const adapter = rt === "deno" ? await import("./deno.ts") : await import("./bun.ts");
  const tried: string[] = [];
  const override = env("TORRENTXT_LIB");
  const embedded = embeddedBundle();
  const extracted = embedded ? join(extractDir(), libName()) : undefined;
  let lastError: unknown;
  for (const path of candidatePaths()) {
    tried.push(path === extracted ? `${path} (extracted from ${embedded!.from})` : path);
    if (path === extracted) {
      try {
        await extractBundle(embedded!.files, extractDir());
      } catch (e) {
        lastError = e;
        continue;
      }
    }
    // Only the explicit override is opened without checking it exists first,
    // so its own error message (wrong architecture, missing dependency) shows.
    if (path !== override && !fileExists(path)) continue;
    let lib: NativeLib;
    try {
      lib = adapter.open(path);
    } catch (e) {
      lastError = e;
      if (path === override) break;
      continue;
    }
    const version = lib.symbols.btx_abi_version();
    if (version !== ABI_VERSION) {
      throw new LibraryLoadError(
        `libtorrentxt at ${path} has ABI version ${version}, but this TorrentXT needs ABI version ${ABI_VERSION}; ` +
          `rebuild it (scripts/build_native.sh) or point TORRENTXT_LIB at a matching build`,
        "ABI_MISMATCH",
        tried,
      );
    }
    cached = lib;
    return lib;
  }
  throw new LibraryLoadError(
    `could not load libtorrentxt under ${rt}. Tried:\n  ${tried.join("\n  ")}\n` +
      `Build it with scripts/build_native.sh, or set TORRENTXT_LIB to its path.` +
      (lastError ? `\nLast error: ${(lastError as Error).message ?? lastError}` : ""),
    "LIBRARY_NOT_FOUND",
    tried,
    { cause: lastError },
  );
}
