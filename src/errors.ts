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
