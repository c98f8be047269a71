// A torrent's storage error as TorrentXT tracks it beside libtorrent's (see
// Torrent.clearError): kept here, with no value imports, so that _status.ts and
// _core.ts reach it without an import cycle through torrent.ts. Internal.
import type { TorrentEvent } from "./events.ts";
import type { Torrent, TorrentStatus } from "./torrent.ts";

type DiskError = NonNullable<TorrentStatus["error"]>;
const errors = new WeakMap<Torrent, DiskError>();
let hook: ((t: Torrent, ev: TorrentEvent) => void) | undefined;

/** The error TorrentXT set after a failed read of the torrent's data, or null. */
export function diskErrorOf(t: Torrent): TorrentStatus["error"] {
  const e = errors.get(t);
  return e ? { ...e } : null;
}

/** Sets (or, with null, clears) the torrent's storage error. */
export function setDiskError(t: Torrent, e: DiskError | null): void {
  if (e) errors.set(t, e);
  else errors.delete(t);
}

/** Installs the handler of file_error / torrent_checked events (torrent.ts does). */
export function onStorageEvent(fn: (t: Torrent, ev: TorrentEvent) => void): void {
  hook = fn;
}

/** Called by the session for every file_error and torrent_checked event, before anyone else sees it. */
export function noteStorageEvent(t: Torrent, ev: TorrentEvent): void {
  hook?.(t, ev);
}
