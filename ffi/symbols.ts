/**
 * The one symbol table of libtorrentxt (native/include/btx.h), shared by the
 * Deno and Bun adapters. Each parameter carries its C type as a comment.
 * `nonblocking` marks calls that may take long (waiting, joining threads,
 * hashing): Deno runs them off the JavaScript thread.
 *
 * @module
 */

export const symbols = {
  btx_abi_version: { parameters: [], result: "u32" },
  btx_version: {
    parameters: ["buffer", /* uint8_t* buf */ "u32", /* cap */ "buffer" /* uint32_t* out_len */],
    result: "i32",
  },
  btx_last_error: {
    parameters: [
      "u32", /* btx_session */
      "buffer", /* uint8_t* buf */
      "u32", /* cap */
      "buffer", /* uint32_t* out_len */
    ],
    result: "i32",
  },
  btx_alert_type_count: { parameters: ["buffer" /* uint32_t* out_count */], result: "i32" },
  btx_alert_name: {
    parameters: ["u32", /* type */ "buffer", /* uint8_t* buf */ "u32", /* cap */ "buffer" /* uint32_t* out_len */],
    result: "i32",
  },
  btx_event_schema: {
    parameters: ["buffer", /* uint8_t* buf */ "u32", /* cap */ "buffer" /* uint32_t* out_len */],
    result: "i32",
  },
  btx_blob_take: { parameters: ["u32", /* blob */ "buffer", /* uint8_t* buf */ "u32" /* cap */], result: "i32" },
  btx_blob_free: { parameters: ["u32" /* blob */], result: "i32" },
  btx_session_open: {
    parameters: [
      "buffer", /* const uint8_t* settings */
      "u32", /* len */
      "u32", /* flags */
      "buffer", /* btx_session* out */
    ],
    result: "i32",
  },
  btx_session_apply_settings: {
    parameters: ["u32", /* btx_session */ "buffer", /* const uint8_t* settings */ "u32" /* len */],
    result: "i32",
  },
  btx_session_close: { parameters: ["u32" /* btx_session */], result: "i32", nonblocking: true },
  btx_session_listen_port: { parameters: ["u32", /* btx_session */ "buffer" /* uint32_t* out_port */], result: "i32" },
  btx_session_wait: { parameters: ["u32", /* btx_session */ "i32" /* timeout_ms */], result: "i32", nonblocking: true },
  btx_session_wake: { parameters: ["u32" /* btx_session */], result: "i32" },
  btx_session_drain: {
    parameters: [
      "u32", /* btx_session */
      "buffer", /* uint8_t* buf */
      "u32", /* cap */
      "buffer", /* uint32_t* out[3] */
    ],
    result: "i32",
  },
  btx_torrent_add: {
    parameters: [
      "u32", /* btx_session */
      "buffer", /* const uint8_t* params */
      "u32", /* len */
      "buffer", /* btx_torrent* out */
    ],
    result: "i32",
  },
  btx_torrent_remove: { parameters: ["u32", /* btx_torrent */ "u32" /* flags */], result: "i32" },
  btx_torrent_pause: { parameters: ["u32" /* btx_torrent */], result: "i32" },
  btx_torrent_resume: { parameters: ["u32" /* btx_torrent */], result: "i32" },
  btx_torrent_connect_peer: {
    parameters: ["u32", /* btx_torrent */ "buffer", /* const uint8_t* host */ "u32", /* host_len */ "u32" /* port */],
    result: "i32",
  },
  btx_torrent_info_hash: {
    parameters: ["u32", /* btx_torrent */ "buffer", /* uint8_t out[52] */ "buffer" /* uint32_t* out_flags */],
    result: "i32",
  },
  btx_torrent_status: {
    parameters: [
      "u32", /* btx_torrent */
      "buffer", /* double* nums */
      "buffer", /* uint8_t* strs */
      "u32", /* strs_cap */
    ],
    result: "i32",
  },
  btx_torrent_save_resume: { parameters: ["u32" /* btx_torrent */], result: "i32" },
  btx_create_torrent: {
    parameters: [
      "buffer", /* const uint8_t* opts */
      "u32", /* len */
      "buffer", /* uint32_t* out_blob */
      "buffer", /* uint32_t* out_size */
    ],
    result: "i32",
    nonblocking: true,
  },
  // ---- inspection, session control, settings, bulk status
  btx_torrent_status_ex: {
    parameters: [
      "u32", /* btx_torrent */
      "buffer", /* double* nums */
      "buffer", /* uint8_t* strs */
      "u32", /* strs_cap */
    ],
    result: "i32",
  },
  btx_session_status_all: {
    parameters: [
      "u32", /* btx_session */
      "buffer", /* double* nums */
      "u32", /* nums_cap (doubles) */
      "buffer", /* uint8_t* strs */
      "u32", /* strs_cap */
      "buffer", /* uint32_t out[4] */
    ],
    result: "i32",
  },
  btx_torrent_peers: {
    parameters: [
      "u32", /* btx_torrent */
      "buffer", /* double* nums */
      "u32", /* nums_cap (doubles) */
      "buffer", /* uint8_t* strs */
      "u32", /* strs_cap */
      "buffer", /* uint32_t out[4] */
    ],
    result: "i32",
  },
  btx_torrent_files: {
    parameters: [
      "u32", /* btx_torrent */
      "u32", /* flags (BTX_FILES_*) */
      "buffer", /* double* nums */
      "u32", /* nums_cap (doubles) */
      "buffer", /* uint8_t* strs */
      "u32", /* strs_cap */
      "buffer", /* uint32_t out[4] */
    ],
    result: "i32",
  },
  btx_torrent_pieces: {
    parameters: [
      "u32", /* btx_torrent */
      "buffer", /* uint8_t* buf */
      "u32", /* cap */
      "buffer", /* uint32_t out[2] */
    ],
    result: "i32",
  },
  btx_torrent_piece_availability: {
    parameters: [
      "u32", /* btx_torrent */
      "buffer", /* int32_t* out */
      "u32", /* cap (int32s) */
      "buffer", /* uint32_t* out_count */
    ],
    result: "i32",
  },
  btx_session_pause: {
    parameters: [
      "u32", /* btx_session */
    ],
    result: "i32",
  },
  btx_session_resume: {
    parameters: [
      "u32", /* btx_session */
    ],
    result: "i32",
  },
  btx_session_is_paused: {
    parameters: [
      "u32", /* btx_session */
      "buffer", /* uint32_t* out */
    ],
    result: "i32",
  },
  btx_session_find_torrent: {
    parameters: [
      "u32", /* btx_session */
      "buffer", /* const uint8_t* hash */
      "u32", /* len (20 or 32) */
      "buffer", /* btx_torrent* out */
    ],
    result: "i32",
  },
  btx_stats_metrics: {
    parameters: [
      "buffer", /* uint8_t* buf */
      "u32", /* cap */
      "buffer", /* uint32_t* out_len */
    ],
    result: "i32",
  },
  btx_session_post_stats: {
    parameters: [
      "u32", /* btx_session */
    ],
    result: "i32",
  },
  btx_session_stats: {
    parameters: [
      "u32", /* btx_session */
      "buffer", /* double* out */
      "u32", /* cap (doubles) */
      "buffer", /* uint32_t* out_count */
    ],
    result: "i32",
  },
  btx_session_save_state: {
    parameters: [
      "u32", /* btx_session */
      "u32", /* flags (BTX_STATE_*) */
      "buffer", /* uint32_t* out_blob */
      "buffer", /* uint32_t* out_size */
    ],
    result: "i32",
  },
  btx_session_open_state: {
    parameters: [
      "buffer", /* const uint8_t* settings */
      "u32", /* len */
      "buffer", /* const uint8_t* state */
      "u32", /* state_len */
      "u32", /* flags */
      "buffer", /* btx_session* out */
    ],
    result: "i32",
  },
  btx_session_add_post: {
    parameters: [
      "u32", /* btx_session */
      "buffer", /* const uint8_t* params (bencoded list) */
      "u32", /* len */
      "buffer", /* uint32_t* batch (in/out) */
    ],
    result: "i32",
  },
  btx_session_add_collect: {
    parameters: [
      "u32", /* btx_session */
      "u32", /* batch */
      "buffer", /* btx_torrent* out */
      "buffer", /* int32_t* codes */
      "u32", /* cap (entries) */
    ],
    result: "i32",
  },
  btx_settings_catalog: {
    parameters: [
      "buffer", /* uint8_t* buf */
      "u32", /* cap */
      "buffer", /* uint32_t* out_len */
    ],
    result: "i32",
  },
  btx_session_get_settings: {
    parameters: [
      "u32", /* btx_session */
      "buffer", /* const uint8_t* names (bencoded list) */
      "u32", /* len */
      "buffer", /* uint8_t* buf */
      "u32", /* cap */
      "buffer", /* uint32_t* out_len */
    ],
    result: "i32",
  },
  // ---- torrent control
  btx_torrent_force_recheck: { parameters: ["u32" /* btx_torrent */], result: "i32" },
  btx_torrent_force_reannounce: {
    parameters: ["u32", /* btx_torrent */ "i32", /* seconds */ "i32", /* tracker_index */ "u32" /* flags */],
    result: "i32",
  },
  btx_torrent_scrape: { parameters: ["u32", /* btx_torrent */ "i32" /* tracker_index */], result: "i32" },
  btx_torrent_clear_error: { parameters: ["u32" /* btx_torrent */], result: "i32" },
  btx_torrent_move_storage: {
    parameters: ["u32", /* btx_torrent */ "buffer", /* const uint8_t* path */ "u32", /* len */ "u32" /* policy */],
    result: "i32",
  },
  btx_torrent_rename_file: {
    parameters: ["u32", /* btx_torrent */ "i32", /* index */ "buffer", /* const uint8_t* name */ "u32" /* len */],
    result: "i32",
  },
  btx_torrent_flags: { parameters: ["u32", /* btx_torrent */ "buffer" /* uint32_t out[2] */], result: "i32" },
  btx_torrent_set_flags: {
    parameters: ["u32", /* btx_torrent */ "u32", /* flags */ "u32" /* mask */],
    result: "i32",
  },
  btx_torrent_file_priority: {
    parameters: ["u32", /* btx_torrent */ "i32", /* index */ "buffer" /* uint32_t* out */],
    result: "i32",
  },
  btx_torrent_set_file_priority: {
    parameters: ["u32", /* btx_torrent */ "i32", /* index */ "u32" /* priority */],
    result: "i32",
  },
  btx_torrent_file_priorities: {
    parameters: [
      "u32",
      /* btx_torrent */ "buffer",
      /* uint8_t* buf */ "u32",
      /* cap */ "buffer", /* uint32_t* out_count */
    ],
    result: "i32",
  },
  btx_torrent_set_file_priorities: {
    parameters: ["u32", /* btx_torrent */ "buffer", /* const uint8_t* priorities */ "u32" /* count */],
    result: "i32",
  },
  btx_torrent_piece_priority: {
    parameters: ["u32", /* btx_torrent */ "i32", /* index */ "buffer" /* uint32_t* out */],
    result: "i32",
  },
  btx_torrent_set_piece_priority: {
    parameters: ["u32", /* btx_torrent */ "i32", /* index */ "u32" /* priority */],
    result: "i32",
  },
  btx_torrent_limits: { parameters: ["u32", /* btx_torrent */ "buffer" /* int32_t out[4] */], result: "i32" },
  btx_torrent_set_limit: {
    parameters: ["u32", /* btx_torrent */ "u32", /* which */ "i32" /* value */],
    result: "i32",
  },
  btx_torrent_set_piece_deadline: {
    parameters: ["u32", /* btx_torrent */ "i32", /* piece */ "i32", /* ms */ "u32" /* flags */],
    result: "i32",
  },
  btx_torrent_reset_piece_deadline: { parameters: ["u32", /* btx_torrent */ "i32" /* piece */], result: "i32" },
  btx_torrent_clear_piece_deadlines: { parameters: ["u32" /* btx_torrent */], result: "i32" },
  btx_torrent_queue_position: {
    parameters: ["u32", /* btx_torrent */ "buffer" /* int32_t* out */],
    result: "i32",
  },
  btx_torrent_queue: {
    parameters: ["u32", /* btx_torrent */ "u32", /* op */ "i32" /* position */],
    result: "i32",
  },
  btx_torrent_trackers: {
    parameters: ["u32", /* btx_torrent */ "buffer", /* uint32_t* out_blob */ "buffer" /* uint32_t* out_size */],
    result: "i32",
  },
  btx_torrent_add_tracker: {
    parameters: ["u32", /* btx_torrent */ "buffer", /* const uint8_t* url */ "u32", /* len */ "u32" /* tier */],
    result: "i32",
  },
  btx_torrent_replace_trackers: {
    parameters: ["u32", /* btx_torrent */ "buffer", /* const uint8_t* list */ "u32" /* len */],
    result: "i32",
  },
  btx_torrent_web_seeds: {
    parameters: ["u32", /* btx_torrent */ "buffer", /* uint32_t* out_blob */ "buffer" /* uint32_t* out_size */],
    result: "i32",
  },
  btx_torrent_add_web_seed: {
    parameters: ["u32", /* btx_torrent */ "buffer", /* const uint8_t* url */ "u32" /* len */],
    result: "i32",
  },
  btx_torrent_remove_web_seed: {
    parameters: ["u32", /* btx_torrent */ "buffer", /* const uint8_t* url */ "u32" /* len */],
    result: "i32",
  },
  btx_torrent_need_save_resume: {
    parameters: ["u32", /* btx_torrent */ "buffer" /* uint32_t* out */],
    result: "i32",
  },
  btx_torrent_save_resume_flags: { parameters: ["u32", /* btx_torrent */ "u32" /* flags */], result: "i32" },
  btx_torrent_flush_cache: { parameters: ["u32" /* btx_torrent */], result: "i32" },
  // ---- ip filter and dht
  btx_ip_filter_add: {
    parameters: ["u32", /* btx_session */ "buffer", /* const uint8_t* records */ "u32" /* len */],
    result: "i32",
  },
  btx_ip_filter_clear: { parameters: ["u32" /* btx_session */], result: "i32" },
  btx_ip_filter_export: {
    parameters: [
      "u32", /* btx_session */
      "u32", /* which */
      "buffer", /* uint32_t* out_blob */
      "buffer", /* uint32_t* out_size */
    ],
    result: "i32",
  },
  btx_ip_filter_access: {
    parameters: [
      "u32", /* btx_session */
      "buffer", /* const uint8_t* host */
      "u32", /* host_len */
      "buffer", /* uint32_t* out_access */
    ],
    result: "i32",
  },
  btx_dht_add_node: {
    parameters: ["u32", /* btx_session */ "buffer", /* const uint8_t* host */ "u32", /* host_len */ "u32" /* port */],
    result: "i32",
  },
  btx_dht_ping: {
    parameters: ["u32", /* btx_session */ "buffer", /* const uint8_t* host */ "u32", /* host_len */ "u32" /* port */],
    result: "i32",
  },
  btx_dht_announce: {
    parameters: [
      "u32",
      /* btx_session */ "buffer",
      /* const uint8_t info_hash[20] */ "u32",
      /* port */ "u32", /* flags */
    ],
    result: "i32",
  },
  btx_dht_get_peers: {
    parameters: ["u32", /* btx_session */ "buffer" /* const uint8_t info_hash[20] */],
    result: "i32",
  },
  btx_dht_stats: { parameters: ["u32" /* btx_session */], result: "i32" },
  btx_dht_save_state: {
    parameters: ["u32", /* btx_session */ "buffer", /* uint32_t* out_blob */ "buffer" /* uint32_t* out_size */],
    result: "i32",
  },
  btx_dht_load_state: {
    parameters: ["u32", /* btx_session */ "buffer", /* const uint8_t* state */ "u32" /* len */],
    result: "i32",
  },
  btx_dht_keypair: {
    parameters: [
      "buffer", /* const uint8_t seed[32] or NULL */
      "buffer", /* uint8_t out_public[32] */
      "buffer", /* uint8_t out_secret[64] */
      "buffer", /* uint8_t out_seed[32] or NULL */
    ],
    result: "i32",
  },
  btx_dht_put_immutable: {
    parameters: [
      "u32", /* btx_session */
      "buffer", /* const uint8_t* value (bencoded) */
      "u32", /* len */
      "buffer", /* uint8_t out_target[20] */
    ],
    result: "i32",
  },
  btx_dht_get_immutable: {
    parameters: ["u32", /* btx_session */ "buffer" /* const uint8_t target[20] */],
    result: "i32",
  },
  btx_dht_put_mutable: {
    parameters: [
      "u32", /* btx_session */
      "buffer", /* const uint8_t public_key[32] */
      "buffer", /* const uint8_t secret_key[64] */
      "buffer", /* const uint8_t* value (bencoded) */
      "u32", /* len */
      "buffer", /* const uint8_t* salt */
      "u32", /* salt_len */
      "buffer", /* const int64_t seq_cas[2] */
      "u32", /* flags */
      "buffer", /* uint32_t* out_request */
    ],
    result: "i32",
  },
  btx_dht_get_mutable: {
    parameters: [
      "u32", /* btx_session */
      "buffer", /* const uint8_t public_key[32] */
      "buffer", /* const uint8_t* salt */
      "u32", /* salt_len */
    ],
    result: "i32",
  },
  btx_dht_verify_mutable: {
    parameters: [
      "buffer", /* const uint8_t public_key[32] */
      "buffer", /* const uint8_t signature[64] */
      "buffer", /* const int64_t* seq */
      "buffer", /* const uint8_t* salt */
      "u32", /* salt_len */
      "buffer", /* const uint8_t* value (bencoded) */
      "u32", /* len */
    ],
    result: "i32",
  },
  btx_dht_put_mutable_signed: {
    parameters: [
      "u32", /* btx_session */
      "buffer", /* const uint8_t public_key[32] */
      "buffer", /* const uint8_t signature[64] */
      "buffer", /* const int64_t* seq */
      "buffer", /* const uint8_t* salt */
      "u32", /* salt_len */
      "buffer", /* const uint8_t* value (bencoded) */
      "u32", /* len */
      "buffer", /* uint32_t* out_request */
    ],
    result: "i32",
  },
} as const;

/** The symbol table's shape. */
export type SymbolTable = typeof symbols;
/** Names of symbols that the adapters expose as returning a Promise. */
export type AsyncSymbol = {
  [K in keyof SymbolTable]: SymbolTable[K] extends { nonblocking: true } ? K : never;
}[keyof SymbolTable];
/** Names of plain synchronous symbols. */
export type SyncSymbol = Exclude<keyof SymbolTable, AsyncSymbol>;

type Param = "u32" | "i32" | "buffer";
type ArgOf<P> = P extends "buffer" ? ArrayBufferView | null : number;
type ArgsOf<T extends readonly Param[]> = { [I in keyof T]: ArgOf<T[I]> };

/** The functions both adapters provide, typed from the symbol table. */
export type NativeSymbols =
  & { [K in SyncSymbol]: (...args: ArgsOf<SymbolTable[K]["parameters"]>) => number }
  & { [K in AsyncSymbol]: (...args: ArgsOf<SymbolTable[K]["parameters"]>) => Promise<number> };

/**
 * What src/ sees of the native library: the symbols, plus a wait loop that
 * calls `onReady` whenever the session has events, without a fixed poll.
 */
export interface NativeLib {
  /** The file the library was loaded from. */
  readonly path: string;
  readonly symbols: NativeSymbols;
  /**
   * Starts waiting for `session`'s events off the JavaScript thread; calls
   * `onReady` on the JavaScript thread each time events are ready. Ends by
   * itself when the session closes; `stop()` ends it early.
   */
  /**
   * Starts waiting for the session's events off the main thread; `onReady`
   * runs on the main thread when some are ready. `ref()`/`unref()` (where the
   * runtime needs them: Bun) make the wait keep the process alive or not;
   * the session refs it while a caller awaits an engine event.
   */
  waitLoop(session: number, onReady: () => void): WaitLoop;
}

/** A running wait loop (see {@link NativeLib.waitLoop}). */
export interface WaitLoop {
  /** Stops waiting (the session is closing). */
  stop(): void;
  /** Keeps the process alive while the loop waits (Bun; Deno's pending wait always does). */
  ref?(): void;
  /** Lets the process exit while the loop waits. */
  unref?(): void;
}
