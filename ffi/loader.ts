/**
 * Finds and opens libtorrentxt for the running runtime, then checks its ABI
 * version. Search order: the TORRENTXT_LIB environment variable, the bundled
 * build (dist/native/<platform>/), the local CMake build (native/build/).
 *
 * @module
 */
import type { NativeLib } from "./symbols.ts";

/** The ABI version this TypeScript layer speaks (BTX_ABI_VERSION). */
export const ABI_VERSION = 1;

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

/** The candidate paths, in search order. */
export function candidatePaths(): string[] {
  const out: string[] = [];
  const override = env("TORRENTXT_LIB");
  if (override) out.push(override);
  const name = libName();
  out.push(new URL(`../dist/native/${platformDir()}/${name}`, import.meta.url).pathname);
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
  let lastError: unknown;
  for (const path of candidatePaths()) {
    tried.push(path);
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
