// SessionCore: what a Session and its Torrents share — the native handle,
// the torrent table, the event hub and the drain that turns the shim's
// records into typed events. Internal.
import type { WaitLoop } from "../ffi/symbols.ts";
import { check, type Native, STR_BYTES, STR_LIST, takeBlob, utf8 } from "./_native.ts";
import { TorrentError } from "./errors.ts";
import { EventHub, stateName, type TorrentEvent } from "./events.ts";
import type { Torrent } from "./torrent.ts";
import { noteStorageEvent } from "./_disk_error.ts";

const BTX_E_BUFFER_TOO_SMALL = 8;
const LATIN1 = new TextDecoder("latin1");
/** Drain buffers (64 KiB, about a thousand events each) handled per wake-up. */
const DRAIN_BATCHES_PER_TURN = 8;

interface Listener {
  onEvent(ev: TorrentEvent): void;
  onClose(): void;
}
const SAVE_RESUME = "save_resume_data";

export class SessionCore {
  readonly native: Native;
  readonly handle: number;
  readonly hub: EventHub = new EventHub();
  readonly torrents: Map<number, Torrent> = new Map();
  closed = false;
  #buf = new Uint8Array(1 << 16);
  #f64 = new Float64Array(this.#buf.buffer);
  #u32 = new Uint32Array(this.#buf.buffer);
  #out = new Uint32Array(3);
  #loop: WaitLoop | undefined;
  /** Callers awaiting an engine event (waitFor promises, pending event-stream reads). */
  #holds = 0;
  /** Internal listeners (promises waiting for an event); run before streams. */
  #listeners = new Set<Listener>();
  /** The same, for events about one torrent only: found by the event's torrent, not by a scan. */
  #byTorrent = new Map<Torrent, Set<Listener>>();
  #engineGone = false;

  constructor(native: Native, handle: number) {
    this.native = native;
    this.handle = handle;
  }

  start(): void {
    this.#loop = this.native.lib.waitLoop(this.handle, () => this.drain());
    this.hub.onHold = (d) => this.hold(d);
    if (this.#holds > 0) this.#loop.ref?.();
  }

  /**
   * Counts callers awaiting an engine event. While there is one, the wait
   * loop keeps the process alive (Bun: its worker is ref'd), so a script
   * whose only pending work is `for await (… of session.events())` or an
   * awaited request does not exit before the event arrives.
   */
  hold(delta: 1 | -1): void {
    const before = this.#holds;
    this.#holds = Math.max(0, before + delta);
    if (before === 0 && this.#holds > 0) this.#loop?.ref?.();
    else if (before > 0 && this.#holds === 0) this.#loop?.unref?.();
  }

  /** Throws SESSION_CLOSED once close() began. */
  ensureOpen(): void {
    if (this.closed) throw new TorrentError("SESSION_CLOSED", "the session is closed");
  }

  /** Throws for a non-zero native status, with this session's error text. */
  check(rc: number, context?: string): void {
    if (rc !== 0) check(this.native.sym, rc, this.handle, context);
  }

  /**
   * Drains pending records and dispatches the events: at most `batches`
   * buffers' worth per call, so consumers run between turns (the rest is
   * left in the shim and the wait loop is woken to come back for it).
   */
  drain(batches = DRAIN_BATCHES_PER_TURN): void {
    if (this.#engineGone) return;
    const sym = this.native.sym;
    const out = this.#out;
    for (let n = 0;; n++) {
      if (n >= batches) {
        sym.btx_session_wake(this.handle);
        return;
      }
      const rc = sym.btx_session_drain(this.handle, this.#buf, this.#buf.length, out);
      if (rc === BTX_E_BUFFER_TOO_SMALL) {
        this.#grow(out[0]);
        continue;
      }
      if (rc !== 0) return; // closed underneath us
      this.#dispatch(out[0]);
      if (!out[2]) return;
    }
  }

  #grow(need: number): void {
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    this.#buf = new Uint8Array(size);
    this.#f64 = new Float64Array(this.#buf.buffer);
    this.#u32 = new Uint32Array(this.#buf.buffer);
  }

  /** True when the batch holds a record the session itself acts on (storage errors, checks) for some torrent. */
  #storage(bytes: number): boolean {
    const buf = this.#buf, u32 = this.#u32, schema = this.native.schema;
    for (let off = 0; off < bytes;) {
      const name = schema[buf[off + 4] | (buf[off + 5] << 8)]?.name;
      if ((name === "file_error" || name === "torrent_checked") && u32[(off + 8) >> 2] !== 0) return true;
      off += u32[off >> 2];
    }
    return false;
  }

  #dispatch(bytes: number): void {
    const buf = this.#buf, u32 = this.#u32, f64 = this.#f64, schema = this.native.schema;
    if (this.#listeners.size === 0 && this.#byTorrent.size === 0 && this.hub.size === 0 && !this.#storage(bytes)) {
      // Nobody to deliver to: make no event objects (adding thousands of
      // torrents would leave thousands behind), only free what records own.
      for (let off = 0; off < bytes;) {
        const size = u32[off >> 2];
        const type = buf[off + 4] | (buf[off + 5] << 8);
        if (schema[type]?.name === SAVE_RESUME && u32[(off + 12) >> 2] > 0) {
          this.native.sym.btx_blob_free(f64[(off + 16) >> 3]);
        }
        off += size;
      }
      return;
    }
    // The batch as Latin-1 text (one character per byte), made on first use:
    // one decoder call for every ASCII string of the batch.
    let latin1: string | undefined;
    let off = 0;
    while (off < bytes) {
      const size = u32[off >> 2];
      const type = buf[off + 4] | (buf[off + 5] << 8);
      const nstr = buf[off + 6] | (buf[off + 7] << 8);
      const tid = u32[(off + 8) >> 2];
      const nnum = u32[(off + 12) >> 2];
      const rec = schema[type];
      const torrent = tid !== 0 ? this.torrents.get(tid) : undefined;
      let p = off + 16;
      const numBase = p >> 3;
      p += 8 * nnum;
      // String 0: the message.
      let word = u32[p >> 2];
      let len = word & 0x7fffffff;
      const message = nstr === 0
        ? ""
        : word >>> 31
        ? (latin1 ??= LATIN1.decode(buf.subarray(0, bytes))).substring(p + 4, p + 4 + len)
        : utf8(buf, p + 4, len);
      if (nstr > 0) p += 4 + ((len + 3) & ~3);
      // deno-lint-ignore no-explicit-any
      let ev: any;
      if (rec === undefined) ev = { type: `alert_${type}`, message, torrent };
      else if (rec.name === SAVE_RESUME) {
        ev = {
          type: SAVE_RESUME,
          message,
          torrent,
          resumeData: takeBlob(this.native.sym, f64[numBase], f64[numBase + 1]),
        };
      } else if (nnum === rec.nums.length) ev = rec.make(message, torrent, f64, numBase);
      else {
        // A record shorter than the schema (should not happen): field by field.
        ev = { type: rec.name, message, torrent };
        for (let i = 0; i < nnum && i < rec.nums.length; i++) ev[rec.nums[i]] = f64[numBase + i];
      }
      for (let i = 1; i < nstr; i++) {
        word = u32[p >> 2];
        len = word & 0x7fffffff;
        const s0 = p + 4;
        if (rec && i - 1 < rec.strs.length) {
          const kind = rec.kinds[i - 1];
          if (kind === STR_BYTES) ev[rec.strs[i - 1]] = buf.slice(s0, s0 + len);
          else {
            // Bit 31: all ASCII, so a slice of the batch's Latin-1 text is the string.
            const str = word >>> 31
              ? (latin1 ??= LATIN1.decode(buf.subarray(0, bytes))).substring(s0, s0 + len)
              : utf8(buf, s0, len);
            ev[rec.strs[i - 1]] = kind === STR_LIST ? (len ? str.split(",") : []) : str;
          }
        }
        p += 4 + ((len + 3) & ~3);
      }
      if (rec?.name === "state_changed") {
        ev.state = stateName(ev.state);
        ev.prevState = stateName(ev.prevState);
      }
      off += size;
      this.#emit(ev as TorrentEvent);
    }
  }

  #emit(ev: TorrentEvent): void {
    if (ev.torrent && (ev.type === "file_error" || ev.type === "torrent_checked")) noteStorageEvent(ev.torrent, ev);
    for (const l of this.#listeners) {
      try {
        l.onEvent(ev);
      } catch { /* a listener's own bug must not stop the drain */ }
    }
    const mine = ev.torrent && this.#byTorrent.get(ev.torrent);
    if (mine) {
      for (const l of mine) {
        try {
          l.onEvent(ev);
        } catch { /* as above */ }
      }
    }
    this.hub.publish(ev);
  }

  /**
   * Resolves with the first event for which `pred` returns true; rejects
   * with `reject(ev)`'s error when that returns one, or SESSION_CLOSED.
   * With `about`, only events about that torrent are looked at (a map
   * lookup per event instead of a call per waiter: thousands of removals
   * can wait at once).
   */
  waitFor<T extends TorrentEvent>(
    pred: (ev: TorrentEvent) => boolean,
    reject?: (ev: TorrentEvent) => TorrentError | undefined,
    about?: Torrent,
  ): Promise<T> {
    return new Promise<T>((resolve, fail) => {
      let set = this.#listeners;
      if (about) {
        let s = this.#byTorrent.get(about);
        if (!s) this.#byTorrent.set(about, s = new Set());
        set = s;
      }
      const done = () => {
        set.delete(l);
        if (about && set.size === 0 && this.#byTorrent.get(about) === set) this.#byTorrent.delete(about);
      };
      const l: Listener = {
        onEvent: (ev) => {
          if (pred(ev)) {
            done();
            this.hold(-1);
            resolve(ev as T);
            return;
          }
          const err = reject?.(ev);
          if (err) {
            done();
            this.hold(-1);
            fail(err);
          }
        },
        onClose: () => {
          this.hold(-1);
          fail(new TorrentError("SESSION_CLOSED", "the session closed before the awaited event"));
        },
      };
      set.add(l);
      this.hold(1);
    });
  }

  /** Delivers the last events, stops waiting, destroys the engine. */
  async close(): Promise<void> {
    this.closed = true;
    this.drain(Infinity);
    this.#engineGone = true;
    this.#loop?.stop();
    const rc = await this.native.sym.btx_session_close(this.handle);
    for (const l of this.#listeners) l.onClose();
    this.#listeners.clear();
    for (const set of this.#byTorrent.values()) for (const l of set) l.onClose();
    this.#byTorrent.clear();
    this.hub.close();
    this.torrents.clear();
    if (rc !== 0 && rc !== 1 /* already closed */) this.check(rc, "close");
  }
}
