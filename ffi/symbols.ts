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
  waitLoop(session: number, onReady: () => void): { stop(): void };
}
