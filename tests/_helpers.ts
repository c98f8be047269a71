// Shared helpers of the TypeScript test suite. Runs unchanged under Deno and
// Bun (node:* modules only, plus the public API in mod.ts).
//
// Rules these helpers exist to enforce:
//  - real sessions, loopback only: every session is `profile: "isolated"`;
//  - no sleeps to synchronise: waits are on events that prove the state;
//  - temporary data lives under os.tmpdir() and is removed afterwards.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import {
  type CreatedTorrent,
  createTorrent,
  type EventStream,
  type EventType,
  Session,
  type SessionOptions,
  type Torrent,
  TorrentError,
  type TorrentEvent,
} from "../mod.ts";

/** Per-test time limits (ms): generous, only there so nothing hangs forever. */
export const TIMEOUT = {
  /** No network transfer. */
  quick: 20_000,
  /** A small loopback transfer. */
  transfer: 45_000,
  /** A rate-limited transfer. */
  slow: 90_000,
} as const;

/** A temporary directory under os.tmpdir(), removed on dispose (`using`). */
export class TempDir implements Disposable {
  readonly path: string;
  constructor(prefix = "torrentxt-test-") {
    this.path = mkdtempSync(join(tmpdir(), prefix));
  }
  join(...parts: string[]): string {
    return join(this.path, ...parts);
  }
  [Symbol.dispose](): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Relative path (with "/") → size in bytes. */
export type TreeSpec = Record<string, number>;

/**
 * A multi-file tree: nested directories, odd sizes (none a multiple of a
 * piece, one of a single byte, one spanning several pieces), ~0.6 MB.
 */
export const MULTI_FILE_TREE: TreeSpec = {
  "readme.txt": 1_013,
  "one-byte.bin": 1,
  "media/clip.bin": 262_147,
  "media/stills/a.bin": 65_537,
  "media/stills/b.bin": 16_383,
  "deep/er/and/deeper/payload.bin": 199_999,
  "deep/er/notes.bin": 77_777,
};

/** Writes random bytes for every file of `spec` under `root`. */
export function writeTree(root: string, spec: TreeSpec): void {
  for (const [rel, size] of Object.entries(spec)) {
    const file = join(root, ...rel.split("/"));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(size));
  }
}

/** Every regular file under `root`, as sorted relative paths with "/". */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const ent of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, ent.name);
      if (ent.isDirectory()) walk(p);
      else out.push(relative(root, p).split(sep).join("/"));
    }
  };
  walk(root);
  return out.sort();
}

/** Asserts that `actual` holds exactly the files of `expected`, byte for byte. */
export function assertSameTree(expected: string, actual: string): void {
  assert.ok(existsSync(actual), `${actual} does not exist`);
  const want = listFiles(expected);
  assert.ok(want.length > 0, `no files under ${expected}`);
  assert.deepEqual(listFiles(actual), want, "the downloaded tree has different files");
  for (const rel of want) {
    const a = readFileSync(join(expected, rel));
    const b = readFileSync(join(actual, rel));
    assert.equal(b.length, a.length, `${rel}: size differs`);
    assert.ok(a.equals(b), `${rel}: content differs`);
  }
}

/** Content to share: `dir/src/<name>/…` written, then a torrent made of it. */
export interface Fixture {
  /** The torrent's top directory (its name is the torrent's name). */
  dataDir: string;
  /** Its parent: the seeder's savePath. */
  savePath: string;
  name: string;
  made: CreatedTorrent;
}

export async function makeFixture(
  dir: TempDir,
  spec: TreeSpec = MULTI_FILE_TREE,
  options: { version?: "v1" | "v2" | "hybrid"; pieceSize?: number; name?: string } = {},
): Promise<Fixture> {
  const name = options.name ?? "content";
  const savePath = dir.join("seed");
  const dataDir = join(savePath, name);
  writeTree(dataDir, spec);
  const made = await createTorrent({
    path: dataDir,
    version: options.version ?? "hybrid",
    pieceSize: options.pieceSize ?? 16384,
  });
  return { dataDir, savePath, name, made };
}

/** Opens an isolated (loopback-only) session. */
export function openIsolated(options: Omit<SessionOptions, "profile"> = {}): Promise<Session> {
  return Session.open({ ...options, profile: "isolated" });
}

/**
 * Reads `stream` until an event satisfies `pred`; returns it. Throws if the
 * stream ends first. Uses next() (not for-await) so the stream stays
 * subscribed for later waits.
 */
export async function waitFor<T extends TorrentEvent = TorrentEvent>(
  stream: EventStream,
  pred: (ev: TorrentEvent) => boolean,
  what = "the awaited event",
): Promise<T> {
  for (;;) {
    const r = await stream.next();
    if (r.done) throw new Error(`the event stream ended before ${what}`);
    if (pred(r.value)) return r.value as T;
  }
}

/** waitFor an event of `type` about `torrent`. */
export function waitForType<K extends EventType>(
  stream: EventStream,
  type: K,
  torrent?: Torrent,
): Promise<Extract<TorrentEvent, { type: K }>> {
  return waitFor(
    stream,
    (ev) => ev.type === type && (torrent === undefined || (ev as { torrent?: Torrent }).torrent === torrent),
    `"${type}"`,
  );
}

/**
 * Waits until `torrent` turns to seeding. Note that neither this nor
 * `torrent_finished` proves every byte is on disk: libtorrent counts a piece
 * once its hash passed, which can be before its last blocks are written.
 * Close the session (joining its disk threads) before reading the files.
 */
export function waitForSeeding(stream: EventStream, torrent: Torrent): Promise<TorrentEvent> {
  return waitFor(stream, (ev) => {
    if (ev.torrent !== torrent) return false;
    if (ev.type === "torrent_error" || ev.type === "file_error") throw new Error(`${ev.type}: ${ev.message}`);
    return ev.type === "state_changed" && ev.state === "seeding";
  }, "state seeding");
}

/**
 * Adds the fixture's .torrent to `session` over its existing data and waits
 * until the check is over and the torrent is seeding.
 */
export async function addSeed(session: Session, fx: Fixture): Promise<Torrent> {
  const events = session.events({ types: ["torrent_checked", "state_changed", "torrent_error", "file_error"] });
  try {
    const t = await session.add({ torrent: fx.made.torrent, savePath: fx.savePath });
    await waitFor(events, (ev) => {
      if ((ev.type === "torrent_error" || ev.type === "file_error") && ev.torrent === t) {
        throw new Error(`seeder failed: ${ev.type}: ${ev.message}`);
      }
      return ev.torrent === t &&
        (ev.type === "torrent_checked" || (ev.type === "state_changed" && ev.state === "seeding"));
    }, "the seeder's check");
    const st = t.status();
    assert.ok(st.isSeeding, `seeder is not seeding after its check (state ${st.state}, progress ${st.progress})`);
    return t;
  } finally {
    await events.return();
  }
}

/** An isolated session seeding the fixture. */
export async function openSeeder(fx: Fixture, options: Omit<SessionOptions, "profile"> = {}): Promise<Session> {
  const s = await openIsolated(options);
  try {
    await addSeed(s, fx);
    return s;
  } catch (e) {
    await s.close();
    throw e;
  }
}

/** Asserts that `fn` throws (or rejects with) a TorrentError of `code`. */
export async function rejectsCode(fn: () => unknown, code: string, label = ""): Promise<TorrentError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `${label ? label + ": " : ""}expected TorrentError ${code}, but nothing was thrown`);
  assert.ok(
    caught instanceof TorrentError,
    `${label ? label + ": " : ""}expected TorrentError ${code}, got ${(caught as Error)?.name}: ${
      (caught as Error)?.message
    }`,
  );
  assert.equal(caught.code, code, `${label ? label + ": " : ""}wrong code (message: ${caught.message})`);
  assert.ok(caught.message.length > 0, "a TorrentError must carry a message");
  return caught;
}

/** Synchronous twin of rejectsCode, for APIs that must throw (not reject). */
export function throwsCode(fn: () => unknown, code: string, label = ""): TorrentError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `${label ? label + ": " : ""}expected TorrentError ${code}, but nothing was thrown`);
  assert.ok(
    caught instanceof TorrentError,
    `${label ? label + ": " : ""}expected TorrentError ${code}, got ${(caught as Error)?.name}: ${
      (caught as Error)?.message
    }`,
  );
  assert.equal(caught.code, code, `${label ? label + ": " : ""}wrong code (message: ${caught.message})`);
  return caught;
}

/** Forces a full garbage collection when the runtime offers one; returns whether it did. */
export function forceGC(): boolean {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun?.gc) {
    g.Bun.gc(true);
    return true;
  }
  if (typeof g.gc === "function") {
    g.gc();
    return true;
  }
  return false;
}

/** Size of a file, or -1 when it does not exist. */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}

/**
 * Seeder settings that make a loopback transfer slow enough to act on in
 * the middle: libtorrent exempts local peers (127.0.0.0/8 included) from
 * rate limits unless `ignore_limits_on_local_network` is off.
 */
export const THROTTLED_SEEDER = {
  settings: { upload_rate_limit: 200_000, ignore_limits_on_local_network: false },
} as const;

/**
 * Waits `ms` of wall-clock time. Only for observing that nothing happens
 * over a window (absence cannot be awaited as an event) — never to wait
 * for something to happen.
 */
export function observeWindow(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
