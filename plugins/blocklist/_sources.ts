/**
 * Blocklist sources: a file path, a URL (fetched), bytes, or a stream —
 * validated once, then read as chunks on every load.
 *
 * @module
 */
import { open } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { TorrentError } from "../../mod.ts";

/** Where a blocklist comes from. A string is a file path, or a URL when it starts with `http://`, `https://` or `file://`. */
export type BlocklistSource =
  | string
  | URL
  | Uint8Array
  | ReadableStream<Uint8Array>
  | { path: string; name?: string }
  | { url: string | URL; name?: string; headers?: Record<string, string> }
  | { bytes: Uint8Array; name?: string }
  | {
    /** A stream (read once: a refresh keeps what it gave) or a function returning a fresh one per load. */
    stream: ReadableStream<Uint8Array> | (() => ReadableStream<Uint8Array> | Promise<ReadableStream<Uint8Array>>);
    name?: string;
  };

/** A validated source. @internal */
export type Source =
  | { kind: "path"; name: string; path: string }
  | { kind: "url"; name: string; url: URL; headers: Record<string, string> }
  | { kind: "bytes"; name: string; bytes: Uint8Array }
  | { kind: "stream"; name: string; stream: ReadableStream<Uint8Array> }
  | { kind: "factory"; name: string; make: () => ReadableStream<Uint8Array> | Promise<ReadableStream<Uint8Array>> };

const bad = (i: number, why: string): never => {
  throw new TorrentError("INVALID_ARGUMENT", `blocklist: source ${i}: ${why}`);
};

function fromUrl(i: number, u: URL, name: string | undefined, headers: Record<string, string> = {}): Source {
  if (u.protocol === "file:") return { kind: "path", name: name ?? u.href, path: fileURLToPath(u) };
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    return bad(i, `unsupported URL scheme "${u.protocol}" (http, https, file)`);
  }
  return { kind: "url", name: name ?? u.href, url: u, headers };
}

function checkName(i: number, name: unknown): string | undefined {
  if (name === undefined) return undefined;
  if (typeof name !== "string" || name === "") return bad(i, "name must be a non-empty string");
  return name;
}

const KEYS = new Set(["path", "url", "bytes", "stream", "name", "headers"]);

/** Validates one source. @internal */
export function toSource(s: unknown, i: number): Source {
  if (typeof s === "string") {
    if (s === "") return bad(i, "an empty path");
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
      let u: URL;
      try {
        u = new URL(s);
      } catch {
        return bad(i, `"${s}" is not a valid URL`);
      }
      return fromUrl(i, u, undefined);
    }
    return { kind: "path", name: s, path: s };
  }
  if (s instanceof URL) return fromUrl(i, s, undefined);
  if (s instanceof Uint8Array) return { kind: "bytes", name: `bytes[${i}]`, bytes: s };
  if (s instanceof ReadableStream) return { kind: "stream", name: `stream[${i}]`, stream: s };
  if (s === null || typeof s !== "object" || Array.isArray(s)) {
    return bad(i, "give a path, URL, Uint8Array, ReadableStream or { path | url | bytes | stream }");
  }
  const o = s as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.has(k)) bad(i, `unknown key "${k}"`);
  const which = ["path", "url", "bytes", "stream"].filter((k) => o[k] !== undefined);
  if (which.length !== 1) return bad(i, "give exactly one of path, url, bytes, stream");
  const name = checkName(i, o.name);
  if (o.headers !== undefined && which[0] !== "url") bad(i, "headers go with url only");
  switch (which[0]) {
    case "path":
      if (typeof o.path !== "string" || o.path === "") return bad(i, "path must be a non-empty string");
      return { kind: "path", name: name ?? o.path, path: o.path };
    case "url": {
      let u: URL;
      try {
        u = o.url instanceof URL ? o.url : new URL(String(o.url));
      } catch {
        return bad(i, `"${o.url}" is not a valid URL`);
      }
      if (typeof o.url !== "string" && !(o.url instanceof URL)) bad(i, "url must be a string or URL");
      const h = o.headers ?? {};
      if (
        h === null || typeof h !== "object" || Array.isArray(h) ||
        Object.values(h).some((v) => typeof v !== "string")
      ) return bad(i, "headers must be an object of strings");
      return fromUrl(i, u, name, h as Record<string, string>);
    }
    case "bytes":
      if (!(o.bytes instanceof Uint8Array)) return bad(i, "bytes must be a Uint8Array");
      return { kind: "bytes", name: name ?? `bytes[${i}]`, bytes: o.bytes };
    default:
      if (o.stream instanceof ReadableStream) return { kind: "stream", name: name ?? `stream[${i}]`, stream: o.stream };
      if (typeof o.stream === "function") {
        return {
          kind: "factory",
          name: name ?? `stream[${i}]`,
          make: o.stream as () => ReadableStream<Uint8Array>,
        };
      }
      return bad(i, "stream must be a ReadableStream or a function returning one");
  }
}

const CHUNK = 256 * 1024;

async function* fileChunks(path: string, name: string): AsyncGenerator<Uint8Array> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch (e) {
    throw new TorrentError("BLOCKLIST_SOURCE", `${name}: cannot open: ${(e as Error).message}`, { cause: e });
  }
  try {
    for (;;) {
      const buf = new Uint8Array(CHUNK);
      let n: number;
      try {
        n = (await fh.read(buf, 0, CHUNK, null)).bytesRead;
      } catch (e) {
        throw new TorrentError("BLOCKLIST_SOURCE", `${name}: cannot read: ${(e as Error).message}`, { cause: e });
      }
      if (n === 0) return;
      yield n === CHUNK ? buf : buf.subarray(0, n);
    }
  } finally {
    await fh.close().catch(() => {});
  }
}

async function* bytesChunks(b: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < b.length; off += 1 << 20) yield b.subarray(off, Math.min(b.length, off + (1 << 20)));
}

async function* streamChunks(rs: ReadableStream<Uint8Array>, name: string): AsyncGenerator<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = rs.getReader();
  } catch (e) {
    throw new TorrentError("BLOCKLIST_SOURCE", `${name}: the stream cannot be read (locked or used)`, { cause: e });
  }
  let done = false;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) {
        done = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

async function* urlChunks(
  src: Extract<Source, { kind: "url" }>,
  signal: AbortSignal,
  timeoutMs: number,
): AsyncGenerator<Uint8Array> {
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => ctl.abort(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
  try {
    let res: Response;
    try {
      res = await fetch(src.url, { signal: ctl.signal, headers: src.headers, redirect: "follow" });
    } catch (e) {
      if (signal.aborted) throw new TorrentError("ABORTED", `${src.name}: aborted`);
      const why = ctl.signal.aborted ? String((ctl.signal.reason as Error)?.message ?? ctl.signal.reason) : (e as Error)
        ?.message;
      throw new TorrentError("BLOCKLIST_SOURCE", `${src.name}: fetch failed: ${why}`, { cause: e });
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => {});
      throw new TorrentError("BLOCKLIST_SOURCE", `${src.name}: HTTP ${res.status} ${res.statusText}`.trimEnd());
    }
    try {
      yield* streamChunks(res.body, src.name);
    } catch (e) {
      if (e instanceof TorrentError) throw e;
      if (signal.aborted) throw new TorrentError("ABORTED", `${src.name}: aborted`);
      const why = ctl.signal.aborted ? String((ctl.signal.reason as Error)?.message ?? ctl.signal.reason) : (e as Error)
        ?.message;
      throw new TorrentError("BLOCKLIST_SOURCE", `${src.name}: download failed: ${why}`, { cause: e });
    }
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

/** The chunks of a source, for one load. @internal */
export async function chunksOf(
  src: Source,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<AsyncIterable<Uint8Array>> {
  switch (src.kind) {
    case "path":
      return fileChunks(src.path, src.name);
    case "url":
      return urlChunks(src, signal, timeoutMs);
    case "bytes":
      return bytesChunks(src.bytes);
    case "stream":
      return streamChunks(src.stream, src.name);
    case "factory": {
      let rs: unknown;
      try {
        rs = await src.make();
      } catch (e) {
        throw new TorrentError(
          "BLOCKLIST_SOURCE",
          `${src.name}: the stream function failed: ${(e as Error)?.message}`,
          {
            cause: e,
          },
        );
      }
      if (!(rs instanceof ReadableStream)) {
        throw new TorrentError("BLOCKLIST_SOURCE", `${src.name}: the stream function did not return a ReadableStream`);
      }
      return streamChunks(rs, src.name);
    }
  }
}
