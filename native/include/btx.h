/*
 * btx.h — the whole C ABI of libtorrentxt, a flat layer over
 * libtorrent-rasterbar 2.0 for foreign-function callers (Deno, Bun).
 *
 * Rules that hold for every function below:
 *
 *  - Every function returns an int32 status (BTX_OK or a BTX_E_* code),
 *    except btx_abi_version(). Results go into caller-owned buffers.
 *    No C++ exception ever leaves this library (the exception firewall).
 *  - On failure the error text is kept: per session for calls that take a
 *    session or torrent handle, and per calling thread always. Read it with
 *    btx_last_error().
 *  - Sessions and torrents are 32-bit handles from a table with generation
 *    counters. 0 is never a valid handle. A stale (closed, removed) or
 *    forged handle gives BTX_E_BAD_HANDLE, never undefined behaviour.
 *  - Variable-length, structured arguments (settings, add parameters,
 *    creation options) are passed as one bencoded dictionary. Hot-path
 *    results (status records, events) are fixed binary layouts written into
 *    buffers the caller allocates once and reuses (see docs/architecture.md).
 *  - Strings are UTF-8, passed as (pointer, length); never NUL-terminated.
 *  - Only btx_session_wait() blocks for long; btx_session_close() and
 *    btx_create_torrent() may take seconds (joining threads, hashing). Call
 *    those off the JavaScript thread where the runtime allows it.
 */
#ifndef BTX_H
#define BTX_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define BTX_API __declspec(dllexport)
#else
#define BTX_API __attribute__((visibility("default")))
#endif

/* Bumped on every incompatible change of a signature, a record layout or the
 * event wire format. The loader refuses a library whose version differs. */
#define BTX_ABI_VERSION 1

typedef uint32_t btx_session;
typedef uint32_t btx_torrent;

/* Status codes. Stable: the TypeScript layer maps each to a string code. */
enum {
  BTX_OK = 0,
  BTX_E_BAD_HANDLE = 1,        /* stale, closed, removed or forged handle */
  BTX_E_INVALID_ARGUMENT = 2,  /* malformed argument (bad bencode, range, …) */
  BTX_E_INVALID_MAGNET = 3,    /* magnet URI did not parse */
  BTX_E_INVALID_TORRENT = 4,   /* .torrent bytes did not parse */
  BTX_E_INVALID_RESUME = 5,    /* resume data did not parse */
  BTX_E_PATH_NOT_FOUND = 6,    /* a path given does not exist */
  BTX_E_DUPLICATE_TORRENT = 7, /* the torrent is already in the session */
  BTX_E_BUFFER_TOO_SMALL = 8,  /* the caller's buffer cannot hold the result */
  BTX_E_TIMEOUT = 9,           /* btx_session_wait() timed out */
  BTX_E_CLOSED = 10,           /* the session is closing or closed */
  BTX_E_UNKNOWN_SETTING = 11,  /* no libtorrent setting has that name */
  BTX_E_SETTING_TYPE = 12,     /* the value's type does not fit the setting */
  BTX_E_NO_METADATA = 13,      /* the torrent's metadata is not known yet */
  BTX_E_ENGINE = 14,           /* libtorrent reported an error (see text) */
  BTX_E_INTERNAL = 15,         /* an unexpected exception was caught */
  BTX_E_CREATE_FAILED = 16     /* creating a torrent failed (see text) */
};

/* ---- library ------------------------------------------------------------ */

/* The ABI version this library was built with (BTX_ABI_VERSION). */
BTX_API uint32_t btx_abi_version(void);

/* Writes "<btx version> libtorrent/<version>" into buf. out_len receives the
 * full length even when it exceeds cap (then BTX_E_BUFFER_TOO_SMALL). */
BTX_API int32_t btx_version(uint8_t* buf, uint32_t cap, uint32_t* out_len);

/* The last error text. session != 0: that session's last error; session == 0
 * (or a stale handle): the calling thread's last error. Same length rules as
 * btx_version(). */
BTX_API int32_t btx_last_error(btx_session session, uint8_t* buf, uint32_t cap,
                               uint32_t* out_len);

/* The name of libtorrent alert type `type` ("torrent_finished", without
 * "_alert"), for 0 <= type < btx_alert_type_count(). Empty for unused ids. */
BTX_API int32_t btx_alert_type_count(uint32_t* out_count);
BTX_API int32_t btx_alert_name(uint32_t type, uint8_t* buf, uint32_t cap,
                               uint32_t* out_len);

/* The event schema: for every alert type the shim encodes fields for, the
 * names of its numeric and string fields, as a bencoded dictionary
 * { "<alert name>": [ [num names…], [str names…] ], … } written to buf. */
BTX_API int32_t btx_event_schema(uint8_t* buf, uint32_t cap, uint32_t* out_len);

/* ---- blobs: variable-length results ------------------------------------- */

/* Some calls produce a result of a size the caller cannot know in advance
 * (.torrent bytes, resume data). They store it as a blob and return its id
 * and size; the caller then copies it out with btx_blob_take(), which frees
 * it. cap must be >= the blob's size. btx_blob_free() drops it unread. */
BTX_API int32_t btx_blob_take(uint32_t blob, uint8_t* buf, uint32_t cap);
BTX_API int32_t btx_blob_free(uint32_t blob);

/* ---- session ------------------------------------------------------------ */

/* Opens a session. `settings` is a bencoded dictionary of libtorrent setting
 * names (settings_pack names, e.g. "listen_interfaces", "enable_dht") to
 * values: byte strings for string settings, integers for int and bool
 * settings. len 0 means defaults. The shim always installs its own alert
 * notification; "alert_mask" defaults to the categories the event layer
 * types (error, status, storage, tracker, connect, ip_block,
 * performance_warning, dht, dht_operation, file_progress, piece_progress,
 * port_mapping).
 * flags: BTX_SESSION_POSIX_DISK_IO selects the POSIX disk I/O backend
 * instead of memory-mapped files (no SIGBUS when a file shrinks underneath).
 * BTX_SESSION_LOOPBACK_ONLY installs an IP filter that blocks every address
 * outside 127.0.0.0/8 and ::1 for peers, trackers and DHT nodes (the
 * isolated profile's guarantee that nothing leaves the machine). */
#define BTX_SESSION_POSIX_DISK_IO 1u
#define BTX_SESSION_LOOPBACK_ONLY 2u
BTX_API int32_t btx_session_open(const uint8_t* settings, uint32_t len,
                                 uint32_t flags, btx_session* out);

/* Applies settings (same encoding as btx_session_open) to a running session.
 * Unknown names give BTX_E_UNKNOWN_SETTING, mistyped values
 * BTX_E_SETTING_TYPE; nothing is applied then. */
BTX_API int32_t btx_session_apply_settings(btx_session s, const uint8_t* settings,
                                           uint32_t len);

/* Pauses the session, wakes any btx_session_wait(), invalidates the session
 * handle and every torrent handle of it, and destroys the engine (joins its
 * threads: may take a while). A second close gives BTX_E_BAD_HANDLE. */
BTX_API int32_t btx_session_close(btx_session s);

/* The TCP port the session listens on (0 when not listening). */
BTX_API int32_t btx_session_listen_port(btx_session s, uint32_t* out_port);

/* Blocks until libtorrent has posted alerts since the last drain, the
 * timeout passes, or the session closes. timeout_ms < 0 waits forever.
 * Returns BTX_OK (events ready), BTX_E_TIMEOUT or BTX_E_CLOSED. Safe to call
 * from any thread; one waiter per session is expected. */
BTX_API int32_t btx_session_wait(btx_session s, int32_t timeout_ms);

/* Makes a pending btx_session_wait() return BTX_OK at once. */
BTX_API int32_t btx_session_wake(btx_session s);

/* Drains events into buf (wire format: docs/architecture.md, "Events").
 * Writes whole records only. out[0] = bytes written, out[1] = records
 * written, out[2] = 1 when more records are pending (call again), else 0.
 * A buffer too small for even one record gives BTX_E_BUFFER_TOO_SMALL with
 * out[0] = the size that record needs. Call from one thread at a time. */
BTX_API int32_t btx_session_drain(btx_session s, uint8_t* buf, uint32_t cap,
                                  uint32_t* out);

/* ---- torrents ----------------------------------------------------------- */

/* Adds a torrent. `params` is a bencoded dictionary:
 *   exactly one of
 *     "magnet":  magnet URI (string)
 *     "torrent": .torrent file bytes
 *     "resume":  resume data bytes (as saved by btx_torrent_save_resume)
 *   "save_path": directory (string, required unless in the resume data)
 *   "flags_set", "flags_unset": integers, libtorrent torrent_flags bits to
 *     set or clear on top of libtorrent's defaults
 *   "name": display name while metadata is unknown (optional)
 * On success *out is the new torrent handle. */
BTX_API int32_t btx_torrent_add(btx_session s, const uint8_t* params, uint32_t len,
                                btx_torrent* out);

/* Removes the torrent from its session. flags: 1 = also delete its files.
 * The handle is invalid afterwards; the removal completes asynchronously
 * (event "torrent_removed", then "torrent_deleted" or
 * "torrent_delete_failed" when deleting). */
#define BTX_REMOVE_DELETE_FILES 1u
BTX_API int32_t btx_torrent_remove(btx_torrent t, uint32_t flags);

BTX_API int32_t btx_torrent_pause(btx_torrent t);
BTX_API int32_t btx_torrent_resume(btx_torrent t);

/* Connects to a peer. host is a numeric IPv4 or IPv6 address. */
BTX_API int32_t btx_torrent_connect_peer(btx_torrent t, const uint8_t* host,
                                         uint32_t host_len, uint32_t port);

/* Info-hashes: out must hold 52 bytes: 20 bytes of v1 (SHA-1) then 32 bytes
 * of v2 (SHA-256). *out_flags: bit 0 = has v1, bit 1 = has v2. */
BTX_API int32_t btx_torrent_info_hash(btx_torrent t, uint8_t* out, uint32_t* out_flags);

/* Status record. `nums` receives BTX_STATUS_NUM_FIELDS doubles, in the order
 * of the BTX_ST_* indices below. `strs` receives the record's strings
 * back to back (name, save path, error text); their byte lengths are in
 * nums[BTX_ST_NAME_LEN], nums[BTX_ST_SAVE_PATH_LEN], nums[BTX_ST_ERROR_LEN].
 * Strings longer than what fits in strs_cap are truncated at a UTF-8
 * boundary. */
enum {
  BTX_ST_STATE = 0,          /* libtorrent torrent_status::state_t */
  BTX_ST_PROGRESS,           /* 0..1 of wanted bytes */
  BTX_ST_DOWNLOAD_RATE,      /* payload bytes/s */
  BTX_ST_UPLOAD_RATE,        /* payload bytes/s */
  BTX_ST_NUM_PEERS,          /* connected peers (seeds included) */
  BTX_ST_NUM_SEEDS,          /* connected seeds */
  BTX_ST_TOTAL_DONE,         /* bytes of verified pieces we have */
  BTX_ST_TOTAL_WANTED,       /* bytes we want (file priorities applied) */
  BTX_ST_TOTAL_WANTED_DONE,  /* of those, bytes we have */
  BTX_ST_TOTAL_SIZE,         /* bytes in the torrent (0 without metadata) */
  BTX_ST_TOTAL_DOWNLOAD,     /* payload bytes downloaded this session */
  BTX_ST_TOTAL_UPLOAD,       /* payload bytes uploaded this session */
  BTX_ST_ALL_TIME_DOWNLOAD,  /* bytes downloaded, all time (resume data) */
  BTX_ST_ALL_TIME_UPLOAD,    /* bytes uploaded, all time */
  BTX_ST_FLAGS,              /* torrent_flags_t bits (fit in 53 bits) */
  BTX_ST_HAS_METADATA,       /* 0/1 */
  BTX_ST_IS_SEEDING,         /* 0/1 */
  BTX_ST_IS_FINISHED,        /* 0/1: all wanted pieces are had */
  BTX_ST_NUM_PIECES,         /* pieces had */
  BTX_ST_PIECE_COUNT,        /* pieces in the torrent (0 without metadata) */
  BTX_ST_PIECE_SIZE,         /* bytes per piece (0 without metadata) */
  BTX_ST_QUEUE_POSITION,     /* -1 when not queued */
  BTX_ST_NUM_CONNECTIONS,    /* peer connections incl. half-open */
  BTX_ST_LIST_PEERS,         /* peers known, connected or not */
  BTX_ST_LIST_SEEDS,         /* seeds known */
  BTX_ST_NUM_COMPLETE,       /* seeds per tracker scrape, -1 unknown */
  BTX_ST_NUM_INCOMPLETE,     /* leechers per tracker scrape, -1 unknown */
  BTX_ST_DISTRIBUTED_COPIES, /* copies in the swarm, -1 when seeding */
  BTX_ST_ADDED_TIME,         /* unix seconds */
  BTX_ST_COMPLETED_TIME,     /* unix seconds, 0 when not complete */
  BTX_ST_ACTIVE_SECONDS,     /* seconds active (not paused), all time */
  BTX_ST_SEEDING_SECONDS,    /* seconds seeding, all time */
  BTX_ST_ERROR_CODE,         /* 0 when no error */
  BTX_ST_ERROR_FILE,         /* file index of the error, -1 none/ -2.. special */
  BTX_ST_NAME_LEN,
  BTX_ST_SAVE_PATH_LEN,
  BTX_ST_ERROR_LEN,
  BTX_STATUS_NUM_FIELDS
};
BTX_API int32_t btx_torrent_status(btx_torrent t, double* nums, uint8_t* strs,
                                   uint32_t strs_cap);

/* Asks for the torrent's resume data. It arrives as event
 * "save_resume_data" with field `blob` (an id for btx_blob_take) and
 * `size`, or as "save_resume_data_failed". */
BTX_API int32_t btx_torrent_save_resume(btx_torrent t);

/* ---- creating torrents -------------------------------------------------- */

/* Creates a torrent from a file or directory, hashing its content. `opts` is
 * a bencoded dictionary:
 *   "path": file or directory (required)
 *   "version": 1 = v1 only, 2 = v2 only, 3 = hybrid (default 3)
 *   "piece_size": bytes, 0 = automatic (power of two >= 16 KiB otherwise)
 *   "trackers": list of tracker URLs (each its own tier)
 *   "web_seeds": list of URLs
 *   "comment", "creator": strings;  "private": 0/1
 * The result is a blob (*out_blob, *out_size) holding a bencoded dictionary
 * { "torrent": bytes, "v1": 20 bytes?, "v2": 32 bytes?, "magnet": string }. */
BTX_API int32_t btx_create_torrent(const uint8_t* opts, uint32_t len, uint32_t* out_blob,
                                   uint32_t* out_size);

/* ---- ip filter and dht ------------------------------------------------- */

/* IP filter. Rules are packed records of BTX_IP_RANGE_SIZE (34) bytes:
 *   u8 family (4 or 6), u8 access (0 allow, 1 block),
 *   u8 first[16], u8 last[16]  — addresses in network byte order; an IPv4
 *   address fills the first 4 bytes and leaves the other 12 zero.
 * A later rule overrides earlier ones where they overlap. On a session opened
 * with BTX_SESSION_LOOPBACK_ONLY the engine always enforces the user's rules
 * with the loopback-only rules on top: an address outside 127.0.0.0/8 and ::1
 * stays blocked whatever the user allows; inside loopback the user's rules
 * apply. */
#define BTX_IP_RANGE_SIZE 34u

/* Adds len / 34 rules at once (len must be a multiple of 34; 0 is a no-op).
 * Every record is validated first — family, access, zero IPv4 padding,
 * first <= last — and a bad one gives BTX_E_INVALID_ARGUMENT naming its index
 * with no rule applied (all or nothing). Built for bulk lists (a million
 * ranges in one call). */
BTX_API int32_t btx_ip_filter_add(btx_session s, const uint8_t* records, uint32_t len);

/* Removes every user rule (a loopback-only session stays loopback-only). */
BTX_API int32_t btx_ip_filter_clear(btx_session s);

/* Exports the filter as a blob of packed records (same layout) covering the
 * whole IPv4 then the whole IPv6 space, consecutive ranges of equal access
 * merged. which: BTX_IP_FILTER_IN_FORCE = what the engine enforces (the
 * loopback guard included), BTX_IP_FILTER_USER = the user's rules alone. */
#define BTX_IP_FILTER_IN_FORCE 0u
#define BTX_IP_FILTER_USER 1u
BTX_API int32_t btx_ip_filter_export(btx_session s, uint32_t which, uint32_t* out_blob,
                                     uint32_t* out_size);

/* *out_access = 1 when the filter in force blocks the numeric address host
 * (IPv4 or IPv6 text), else 0. */
BTX_API int32_t btx_ip_filter_access(btx_session s, const uint8_t* host, uint32_t host_len,
                                     uint32_t* out_access);

/* DHT. Results arrive as events (alerts): these calls only start the work.
 * Calls that need the DHT fail with BTX_E_ENGINE when it is off
 * (setting enable_dht). Hosts are numeric; on a loopback-only session they
 * must be loopback addresses (else BTX_E_INVALID_ARGUMENT). */

/* Adds a DHT node (pinged, then kept in the routing table if it answers). */
BTX_API int32_t btx_dht_add_node(btx_session s, const uint8_t* host, uint32_t host_len,
                                 uint32_t port);

/* Sends a DHT ping to host:port. Event "dht_direct_response" follows, with
 * fields endpoint, nodeId (hex; "" when timedOut is 1). A node that answers
 * enters the routing table. */
BTX_API int32_t btx_dht_ping(btx_session s, const uint8_t* host, uint32_t host_len, uint32_t port);

/* Announces info_hash (20 bytes) on the DHT. port 0: the port the DHT
 * packets come from (implied port); else 1..65535. flags:
 * BTX_DHT_ANNOUNCE_SEED = announce as a seed. */
#define BTX_DHT_ANNOUNCE_SEED 1u
BTX_API int32_t btx_dht_announce(btx_session s, const uint8_t* info_hash, uint32_t port,
                                 uint32_t flags);

/* Looks up peers of info_hash (20 bytes). Each DHT node that knows peers
 * gives one "dht_get_peers_reply" event (infoHash, numPeers, peers). Needs
 * the dht_operation alert category (in the default alert_mask). */
BTX_API int32_t btx_dht_get_peers(btx_session s, const uint8_t* info_hash);

/* Asks for a "dht_stats" event: nodes and replacements in the routing
 * table, buckets, active lookups, node id. */
BTX_API int32_t btx_dht_stats(btx_session s);

/* The DHT state (node ids and the nodes known) as a blob: a bencoded
 * dictionary { "dht state": {...} } in libtorrent's session-params format. */
BTX_API int32_t btx_dht_save_state(btx_session s, uint32_t* out_blob, uint32_t* out_size);

/* Loads a state saved by btx_dht_save_state and restarts the DHT node with
 * it (items stored on this node are dropped). A loopback-only session drops
 * non-loopback nodes from it. */
BTX_API int32_t btx_dht_load_state(btx_session s, const uint8_t* state, uint32_t len);

/* BEP 44. Values are bencoded (any bencodable value), at most 1000 bytes
 * once canonically re-encoded (else BTX_E_INVALID_ARGUMENT); a salt is at
 * most 64 bytes. */

/* An ed25519 key pair: from the 32-byte seed, or a random one when seed is
 * NULL. out_public: 32 bytes; out_secret: 64 bytes (libtorrent's expanded
 * secret key); out_seed (optional, may be NULL): the 32-byte seed used. */
BTX_API int32_t btx_dht_keypair(const uint8_t* seed, uint8_t* out_public, uint8_t* out_secret,
                                uint8_t* out_seed);

/* Stores an immutable item; out_target (20 bytes) receives its target
 * (SHA-1 of the bencoded value). Event "dht_put" (target, numSuccess)
 * follows when the put is done. */
BTX_API int32_t btx_dht_put_immutable(btx_session s, const uint8_t* value, uint32_t len,
                                      uint8_t* out_target);

/* Looks up an immutable item by target (20 bytes). Event
 * "dht_immutable_item" (target, value; value empty when not found). */
BTX_API int32_t btx_dht_get_immutable(btx_session s, const uint8_t* target);

/* Stores a mutable item under public_key (32 bytes) and salt, signed in the
 * shim with secret_key (64 bytes; must belong to public_key, else
 * BTX_E_INVALID_ARGUMENT). The secret key is copied once and wiped as soon as
 * the item is signed (or the put is dropped); never kept after that.
 * seq_cas points at two int64: [0] the sequence number (with
 * BTX_DHT_PUT_SEQ; else one more than the stored item's, or 1), [1] the
 * compare-and-swap sequence number (with BTX_DHT_PUT_CAS): the put happens
 * only if the item stored now has exactly that sequence number. Both
 * 0..2^53-1. The current item is looked up first, then, on libtorrent's
 * network thread, the shim decides: a CAS that does not match, or a seq
 * lower than the stored one (or equal with another value), rejects the put
 * (nothing new is signed). *out_request receives an id; event "dht_put"
 * with that requestId reports the outcome: error "" (stored on numSuccess
 * nodes), "DHT_STALE_SEQUENCE" or "DHT_CAS_MISMATCH". */
#define BTX_DHT_PUT_SEQ 1u
#define BTX_DHT_PUT_CAS 2u
BTX_API int32_t btx_dht_put_mutable(btx_session s, const uint8_t* public_key,
                                    const uint8_t* secret_key, const uint8_t* value, uint32_t len,
                                    const uint8_t* salt, uint32_t salt_len, const int64_t* seq_cas,
                                    uint32_t flags, uint32_t* out_request);

/* Looks up a mutable item by public_key (32 bytes) and salt. Events
 * "dht_mutable_item" (publicKey, salt, seq, signature, value,
 * authoritative) follow as nodes answer; the last one has authoritative 1
 * (value empty when nothing was found). */
BTX_API int32_t btx_dht_get_mutable(btx_session s, const uint8_t* public_key, const uint8_t* salt,
                                    uint32_t salt_len);

#ifdef __cplusplus
}
#endif

#endif /* BTX_H */
