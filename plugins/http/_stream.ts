/**
 * Streaming a torrent's file while it downloads: per-torrent piece waits,
 * piece deadlines shared by readers, the disk gate (a piece is read from its
 * file only once libtorrent has written it), and the body stream of one
 * request. Uses only the public API.
 *
 * Why reads go through the file on disk, and why they are sound: see
 * docs/http.md ("Where the bytes come from").
 *
 * @module
 */
import { type FileHandle, open } from "node:fs/promises";
import { constants } from "node:fs";
import { isAbsolute, join, resolve, sep } from "node:path";
import { type FileEntry, type PieceSet, type Torrent, TorrentError } from "../../mod.ts";

/** Milliseconds between the deadlines of consecutive pieces of a read-ahead window. */
export const DEADLINE_STEP_MS = 100;
/** Deadline (ms) of a media file's first and last pieces. */
export const EARLY_DEADLINE_MS = 500;
/** Most bytes read from disk and queued per chunk. */
export const CHUNK_BYTES = 256 * 1024;

const abortError = () => new TorrentError("ABORTED", "the request was closed");

interface Waiter {
  wake(): void;
  fail(e: unknown): void;
}

/**
 * One torrent as the server sees it: who waits for which piece, which
 * pieces have deadlines (and how many readers want each), and which pieces
 * are known to be on disk.
 */
export class TorrentWatch {
  readonly torrent: Torrent;
  #pieceWaiters = new Map<number, Set<Waiter>>();
  #anyWaiters = new Set<Waiter>();
  #gone: TorrentError | undefined;
  #rejectGone!: (e: TorrentError) => void;
  readonly #goneP: Promise<never>;
  #holds = new Map<number, { count: number; due: number }>();
  // The disk gate: `#safe` is the set of pieces had when the last completed
  // flush started; `#flush` the flush in flight (with its snapshot);
  // `#next` the flush queued behind it, shared by every reader that needs it.
  #safe: PieceSet | undefined;
  #flush: { snap: PieceSet; done: Promise<void> } | undefined;
  #next: Promise<void> | undefined;

  constructor(torrent: Torrent) {
    this.torrent = torrent;
    this.#goneP = new Promise<never>((_, rej) => this.#rejectGone = rej);
    this.#goneP.catch(() => {});
  }

  /** Pieces with a deadline held by some reader. */
  get held(): number {
    return this.#holds.size;
  }

  /** The torrent is gone (removed, or the server detached): every wait fails with `e`. */
  dispose(e: TorrentError): void {
    if (this.#gone) return;
    this.#gone = e;
    this.#rejectGone(e);
    for (const set of [...this.#pieceWaiters.values(), this.#anyWaiters]) for (const w of [...set]) w.fail(e);
    this.#pieceWaiters.clear();
    this.#anyWaiters.clear();
    this.releaseAll();
  }

  /** Piece `piece` passed its hash check. */
  pieceFinished(piece: number): void {
    const set = this.#pieceWaiters.get(piece);
    if (set) { for (const w of [...set]) w.wake(); }
  }

  /** Something else changed (metadata, a check, dropped events…): every waiter looks again. */
  wakeAll(): void {
    for (const set of [...this.#pieceWaiters.values(), this.#anyWaiters]) for (const w of [...set]) w.wake();
  }

  /**
   * Waits for a wake-up about `piece` (or, with undefined, about the
   * torrent). Resolves true when woken, false after `timeoutMs`; rejects
   * when `signal` aborts or the torrent is gone.
   */
  wait(piece: number | undefined, signal: AbortSignal, timeoutMs?: number): Promise<boolean> {
    if (this.#gone) return Promise.reject(this.#gone);
    if (signal.aborted) return Promise.reject(abortError());
    return new Promise<boolean>((resolve, reject) => {
      let set = piece === undefined ? this.#anyWaiters : this.#pieceWaiters.get(piece);
      if (set === undefined) this.#pieceWaiters.set(piece!, set = new Set());
      const s = set;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const cleanup = () => {
        s.delete(w);
        if (piece !== undefined && s.size === 0 && this.#pieceWaiters.get(piece) === s) {
          this.#pieceWaiters.delete(piece);
        }
        signal.removeEventListener("abort", onAbort);
        if (timer !== undefined) clearTimeout(timer);
      };
      const w: Waiter = {
        wake: () => {
          cleanup();
          resolve(true);
        },
        fail: (e) => {
          cleanup();
          reject(e);
        },
      };
      const onAbort = () => w.fail(abortError());
      s.add(w);
      signal.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          resolve(false);
        }, timeoutMs);
      }
    });
  }

  /** Resolves true once the torrent has its metadata; false after `timeoutMs` ms. */
  async waitMetadata(signal: AbortSignal, timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (this.torrent.status().hasMetadata) return true;
      const left = until - Date.now();
      if (left <= 0) return false;
      await this.wait(undefined, signal, left);
    }
  }

  /** Asks for `piece` within `ms` ms on behalf of one more reader. */
  hold(piece: number, ms: number): void {
    const due = Date.now() + ms;
    const h = this.#holds.get(piece);
    if (h === undefined) this.#holds.set(piece, { count: 1, due });
    else {
      h.count++;
      if (due >= h.due) return;
      h.due = due;
    }
    try {
      this.torrent.setPieceDeadline(piece, ms);
    } catch { /* removed meanwhile: the read fails on its own */ }
  }

  /** One reader less wants `piece`; the last one drops its deadline. */
  release(piece: number): void {
    const h = this.#holds.get(piece);
    if (h === undefined) return;
    if (--h.count > 0) return;
    this.#holds.delete(piece);
    this.#reset(piece);
  }

  /** Drops every deadline this watch set. */
  releaseAll(): void {
    for (const p of this.#holds.keys()) this.#reset(p);
    this.#holds.clear();
  }

  #reset(piece: number): void {
    try {
      if (!this.torrent.removed) this.torrent.resetPieceDeadline(piece);
    } catch { /* removed or closed meanwhile: nothing left to clear */ }
  }

  /**
   * Resolves once piece `piece` is had and its bytes are in the files on
   * disk. libtorrent counts a piece once its hash passed, which can be
   * before its blocks are written; `flushCache()` is a fence behind every
   * write queued before it, so a piece had when a flush starts is on disk
   * when that flush completes.
   */
  async onDisk(piece: number, signal: AbortSignal): Promise<void> {
    for (;;) {
      if (this.#gone) throw this.#gone;
      if (signal.aborted) throw abortError();
      if (this.#safe?.has(piece)) return;
      if (!this.torrent.pieces().has(piece)) {
        await this.wait(piece, signal);
        continue;
      }
      await this.#abortable(this.#flushCovering(piece), signal);
    }
  }

  /** A flush whose snapshot holds `piece` (had now): the one in flight if it does, else the next. */
  #flushCovering(piece: number): Promise<void> {
    const run = this.#flush;
    if (run === undefined) return this.#startFlush();
    if (run.snap.has(piece)) return run.done;
    return this.#next ??= run.done.catch(() => {}).then(() => {
      this.#next = undefined;
      return this.#flush?.done ?? this.#startFlush();
    });
  }

  #startFlush(): Promise<void> {
    let snap: PieceSet;
    try {
      snap = this.torrent.pieces();
    } catch (e) {
      return Promise.reject(e);
    }
    const done = (async () => {
      try {
        await Promise.race([this.torrent.flushCache(), this.#goneP]);
        this.#safe = snap;
      } finally {
        this.#flush = undefined;
      }
    })();
    this.#flush = { snap, done };
    return done;
  }

  #abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) return Promise.reject(abortError());
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(abortError());
      signal.addEventListener("abort", onAbort, { once: true });
      p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }
}

/** What a {@link FileReader} serves. */
export interface ReadSpec {
  watch: TorrentWatch;
  file: FileEntry;
  /** The torrent's save path (status().savePath). */
  savePath: string;
  /** Bytes per piece. */
  pieceSize: number;
  /** First byte of the file to send. */
  start: number;
  /** Last byte of the file to send (inclusive); >= start. */
  end: number;
  /** Bytes ahead of the read position that get deadlines. */
  readAhead: number;
  /** Fetch the file's first and last pieces early. */
  media: boolean;
}

/** The on-disk path of `file` under `savePath`; undefined if its path would leave `savePath`. */
export function diskPath(savePath: string, file: FileEntry): string | undefined {
  const parts = file.path.split("/");
  if (isAbsolute(file.path) || parts.some((p) => p === "" || p === "." || p === ".." || p.includes("\\"))) {
    return undefined;
  }
  const root = resolve(savePath);
  const full = resolve(join(root, ...parts));
  return full.startsWith(root + sep) ? full : undefined;
}

// O_NOFOLLOW where the runtime has it: a symbolic link planted at a file's
// place is not followed.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

/**
 * The body of one file response: reads `[start, end]` piece by piece as the
 * pieces reach the disk, keeping deadlines on the read-ahead window.
 * `close()` (the request ended, was aborted, or the server detached) drops
 * this reader's deadlines.
 */
export class FileReader {
  readonly stream: ReadableStream<Uint8Array>;
  readonly #s: ReadSpec;
  readonly #path: string;
  readonly #ac = new AbortController();
  readonly #mine = new Set<number>();
  readonly #early = new Set<number>();
  readonly #lastPiece: number;
  readonly #windowPieces: number;
  readonly #onClose: (r: FileReader) => void;
  #pos: number;
  #fh: FileHandle | undefined;
  #closed = false;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;

  /**
   * @param onClose called once when the read ends. A client that goes away
   * is seen through the body stream's cancel(), which both Deno and Bun call
   * when the connection closes (even while a read waits for a piece).
   */
  constructor(spec: ReadSpec, path: string, onClose: (r: FileReader) => void) {
    this.#s = spec;
    this.#path = path;
    this.#pos = spec.start;
    this.#onClose = onClose;
    this.#lastPiece = this.#pieceOf(spec.end);
    this.#windowPieces = 1 + Math.ceil(spec.readAhead / spec.pieceSize);
    if (spec.media && spec.file.size > 0) {
      for (const p of [this.#pieceOf(0), this.#pieceOf(spec.file.size - 1)]) {
        if (this.#early.has(p)) continue;
        this.#early.add(p);
        this.#mine.add(p);
        spec.watch.hold(p, EARLY_DEADLINE_MS);
      }
    }
    this.stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#controller = c;
      },
      pull: (c) => this.#pull(c),
      cancel: () => this.close(),
    }, { highWaterMark: 0 });
  }

  #pieceOf(pos: number): number {
    return Math.floor((this.#s.file.offset + pos) / this.#s.pieceSize);
  }

  async #pull(c: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    try {
      if (this.#closed) return;
      const s = this.#s;
      const piece = this.#pieceOf(this.#pos);
      this.#window(piece);
      await s.watch.onDisk(piece, this.#ac.signal);
      const pieceEnd = (piece + 1) * s.pieceSize - s.file.offset - 1; // last byte of the piece, file coordinates
      const stop = Math.min(s.end, pieceEnd, this.#pos + CHUNK_BYTES - 1);
      const n = stop - this.#pos + 1;
      const buf = new Uint8Array(n);
      if (this.#fh === undefined) {
        const fh = await open(this.#path, OPEN_FLAGS);
        if (this.#closed) return void fh.close().catch(() => {});
        this.#fh = fh;
      }
      const fh = this.#fh;
      let got = 0;
      while (got < n) {
        const r = await fh.read(buf, got, n - got, this.#pos + got);
        if (r.bytesRead === 0) throw new TorrentError("ENGINE", `short read from ${this.#path}`);
        got += r.bytesRead;
      }
      if (this.#closed) return;
      this.#pos += n;
      c.enqueue(buf);
      if (this.#pos > s.end) {
        c.close();
        this.close();
      }
    } catch (e) {
      if (!this.#closed) {
        try {
          c.error(e);
        } catch { /* already closed */ }
      }
      this.close();
    }
  }

  /** Deadlines on `[cur, cur + window)` within the range; pieces behind `cur` are let go. */
  #window(cur: number): void {
    const s = this.#s;
    const last = Math.min(this.#lastPiece, cur + this.#windowPieces - 1);
    let have: PieceSet | undefined;
    for (let p = cur, k = 0; p <= last; p++, k++) {
      if (this.#mine.has(p)) continue;
      have ??= s.watch.torrent.pieces();
      if (have.has(p)) continue;
      this.#mine.add(p);
      s.watch.hold(p, k * DEADLINE_STEP_MS);
    }
    for (const p of this.#mine) {
      if (p < cur && !this.#early.has(p)) {
        this.#mine.delete(p);
        s.watch.release(p);
      }
    }
  }

  /** Ends the read with `e` as the body's error (server detached). */
  abort(e: unknown): void {
    if (this.#closed) return;
    try {
      this.#controller?.error(e);
    } catch { /* already closed */ }
    this.close();
  }

  /** Ends the read: deadlines dropped, file closed. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ac.abort();
    for (const p of this.#mine) this.#s.watch.release(p);
    this.#mine.clear();
    const fh = this.#fh;
    this.#fh = undefined;
    fh?.close().catch(() => {});
    this.#onClose(this);
  }
}
