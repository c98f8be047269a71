/**
 * The one error class of TorrentXT and its stable codes.
 *
 * @module
 */

/**
 * Stable error codes. The first group mirrors the native status codes
 * (native/include/btx.h); the rest arise in the TypeScript layer.
 */
export type ErrorCode =
  | "BAD_HANDLE"
  | "INVALID_ARGUMENT"
  | "INVALID_MAGNET"
  | "INVALID_TORRENT"
  | "INVALID_RESUME"
  | "PATH_NOT_FOUND"
  | "DUPLICATE_TORRENT"
  | "BUFFER_TOO_SMALL"
  | "TIMEOUT"
  | "SESSION_CLOSED"
  | "UNKNOWN_SETTING"
  | "SETTING_TYPE"
  | "NO_METADATA"
  | "ENGINE"
  | "INTERNAL"
  | "CREATE_FAILED"
  | "TORRENT_REMOVED"
  | "LIBRARY_NOT_FOUND"
  | "ABI_MISMATCH"
  | "ABORTED"
  | "DHT_STALE_SEQUENCE"
  | "DHT_CAS_MISMATCH"
  /** A server could not listen (address in use, not permitted, or no Deno/Bun server API). */
  | "LISTEN_FAILED"
  /** A BEP 44 mutable item's signature does not verify (native BTX_E_DHT_BAD_SIGNATURE). */
  | "DHT_BAD_SIGNATURE"
  /** Not a BEP 46 channel address (`magnet:?xs=urn:btpk:<64 hex>[&s=<hex salt>]`). */
  | "INVALID_CHANNEL_ADDRESS"
  /** A channel item or publish does not belong to the channel's public key. */
  | "CHANNEL_WRONG_KEY"
  /** A channel item's sequence number is not above the one already held. */
  | "CHANNEL_STALE_SEQUENCE"
  /** A channel item's value is not a BEP 46 `{ ih: <20 bytes> }` dictionary (or a feed entry is malformed). */
  | "CHANNEL_BAD_VALUE"
  /** A blocklist source could not be read (file missing or unreadable, fetch failed or non-2xx, stream errored). */
  | "BLOCKLIST_SOURCE"
  /** A blocklist source is not a blocklist at all (binary garbage, corrupt compression, no readable line). */
  | "BLOCKLIST_FORMAT"
  /** A file of the library's own (a resume file) could not be written or read. */
  | "IO_ERROR";

/** Native status code → string code, by index (BTX_OK is 0). */
export const NATIVE_CODES: readonly (ErrorCode | "OK")[] = [
  "OK",
  "BAD_HANDLE",
  "INVALID_ARGUMENT",
  "INVALID_MAGNET",
  "INVALID_TORRENT",
  "INVALID_RESUME",
  "PATH_NOT_FOUND",
  "DUPLICATE_TORRENT",
  "BUFFER_TOO_SMALL",
  "TIMEOUT",
  "SESSION_CLOSED",
  "UNKNOWN_SETTING",
  "SETTING_TYPE",
  "NO_METADATA",
  "ENGINE",
  "INTERNAL",
  "CREATE_FAILED",
  "DHT_BAD_SIGNATURE",
];

/**
 * Every failure of the public API is a `TorrentError` with a stable `code`.
 *
 * @example Telling bad input from engine trouble
 * ```ts
 * import { Session, TorrentError } from "./mod.ts";
 * await using session = await Session.open({ profile: "isolated" });
 * try {
 *   await session.add({ magnet: "magnet:?xt=urn:btih:oops", savePath: "/tmp/x" });
 * } catch (e) {
 *   if (e instanceof TorrentError && e.code === "INVALID_MAGNET") console.log("bad link");
 * }
 * ```
 */
export class TorrentError extends Error {
  /** Always "TorrentError". */
  override name = "TorrentError";
  /** The stable code; match on this, not on the message. */
  readonly code: ErrorCode;
  /** Makes an error with a stable `code` and a message for people. */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
