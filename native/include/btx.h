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
#define BTX_ABI_VERSION 2

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
  BTX_E_CREATE_FAILED = 16,    /* creating a torrent failed (see text) */
  BTX_E_DHT_BAD_SIGNATURE = 17 /* a BEP 44 signature does not verify */
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

/* ---- inspection, session control, settings, bulk status ---- */

/* Record lists. Calls that return a variable number of records (peers,
 * files, the status of every torrent) write them into two caller buffers:
 * `nums` receives each record's doubles back to back (a fixed count per
 * record, in the order of the record's index enum), `strs` receives every
 * record's strings back to back (their byte lengths are among the record's
 * doubles, so a reader walks both in step). `out` must hold 4 uint32:
 *   out[0] = records written, out[1] = string bytes written,
 *   out[2] = doubles needed,  out[3] = string bytes needed.
 * When either buffer is too small nothing is written, out[0] = out[1] = 0,
 * and the call returns BTX_E_BUFFER_TOO_SMALL with out[2] and out[3] set:
 * grow the buffers and call again (the result may have changed by then;
 * repeat until BTX_OK). Strings are never truncated in record lists. */

/* Extended status record: the BTX_ST_* fields at their usual indices, then
 * these, in one libtorrent status query. */
enum {
  BTX_STX_NEXT_ANNOUNCE = BTX_STATUS_NUM_FIELDS, /* seconds to the next tracker announce */
  BTX_STX_TOTAL_DOWNLOAD_ALL,   /* bytes received this session, protocol included */
  BTX_STX_TOTAL_UPLOAD_ALL,     /* bytes sent this session, protocol included */
  BTX_STX_DOWNLOAD_RATE_ALL,    /* bytes/s received, protocol included */
  BTX_STX_UPLOAD_RATE_ALL,      /* bytes/s sent, protocol included */
  BTX_STX_TOTAL_FAILED_BYTES,   /* bytes of pieces that failed the hash check */
  BTX_STX_TOTAL_REDUNDANT_BYTES,/* bytes downloaded twice (not needed) */
  BTX_STX_LAST_SEEN_COMPLETE,   /* unix seconds a full copy was last seen, 0 never */
  BTX_STX_NUM_UPLOADS,          /* peers unchoked by us */
  BTX_STX_UPLOADS_LIMIT,        /* max unchoked peers, -1 unlimited */
  BTX_STX_CONNECTIONS_LIMIT,    /* max connections, -1 unlimited */
  BTX_STX_CONNECT_CANDIDATES,   /* known peers we could connect to */
  BTX_STX_SEED_RANK,            /* libtorrent's seeding priority (higher first) */
  BTX_STX_MOVING_STORAGE,       /* 0/1: a storage move is in progress */
  BTX_STX_ANNOUNCING_TO_TRACKERS, /* 0/1 */
  BTX_STX_ANNOUNCING_TO_LSD,    /* 0/1 */
  BTX_STX_ANNOUNCING_TO_DHT,    /* 0/1 */
  BTX_STX_HAS_INCOMING,         /* 0/1: a peer ever connected to us for it */
  BTX_STX_NEED_SAVE_RESUME,     /* 0/1: resume data changed since last saved */
  BTX_STX_STORAGE_MODE,         /* 0 allocate, 1 sparse */
  BTX_STX_SINCE_UPLOAD,         /* seconds since payload was last sent, -1 never */
  BTX_STX_SINCE_DOWNLOAD,       /* seconds since payload was last received, -1 never */
  BTX_STX_FINISHED_SECONDS,     /* seconds finished (all wanted pieces had), all time */
  BTX_STX_BLOCK_SIZE,           /* bytes per request block (0 without metadata) */
  BTX_STX_PROGRESS_PPM,         /* progress in millionths */
  BTX_STX_UP_BANDWIDTH_QUEUE,   /* peers waiting for upload quota */
  BTX_STX_DOWN_BANDWIDTH_QUEUE, /* peers waiting for download quota */
  BTX_STX_TRACKER_LEN,          /* byte length of the current tracker URL (4th string) */
  BTX_STX_TORRENT,              /* the torrent handle the record is about */
  BTX_STATUS_EX_NUM_FIELDS
};

/* The extended status record: BTX_STATUS_EX_NUM_FIELDS doubles into nums;
 * strings name, save path, error text, current tracker URL back to back
 * into strs (truncated at a UTF-8 boundary to fit strs_cap, like
 * btx_torrent_status). Costs one libtorrent status query. */
BTX_API int32_t btx_torrent_status_ex(btx_torrent t, double* nums, uint8_t* strs, uint32_t strs_cap);

/* The extended status record of every torrent of the session (a record
 * list: BTX_STATUS_EX_NUM_FIELDS doubles per record, BTX_STX_TORRENT names
 * the torrent; strings as in btx_torrent_status_ex). One libtorrent call
 * refreshes all of them (session::refresh_torrent_status over a vector the
 * shim keeps between calls: about 0.7 KiB per torrent). Torrents being
 * removed are left out. Order: unspecified but stable between calls. */
BTX_API int32_t btx_session_status_all(btx_session s, double* nums, uint32_t nums_cap, uint8_t* strs,
                                       uint32_t strs_cap, uint32_t* out);

/* Peers of a torrent (a record list, BTX_PEER_NUM_FIELDS doubles per peer;
 * strings: address "ip:port" ("[v6]:port"), client name). */
enum {
  BTX_PEER_FLAGS = 0,        /* libtorrent peer_info::flags bits (see below) */
  BTX_PEER_SOURCE,           /* bits: 1 tracker, 2 DHT, 4 PEX, 8 LSD, 16 resume data, 32 incoming */
  BTX_PEER_CONNECTION_TYPE,  /* 0 BitTorrent, 1 web seed (BEP 19), 2 HTTP seed (BEP 17) */
  BTX_PEER_DOWNLOAD_RATE,    /* payload bytes/s received from the peer */
  BTX_PEER_UPLOAD_RATE,      /* payload bytes/s sent to the peer */
  BTX_PEER_TOTAL_DOWNLOAD,   /* payload bytes received from it (this connection) */
  BTX_PEER_TOTAL_UPLOAD,     /* payload bytes sent to it (this connection) */
  BTX_PEER_PROGRESS,         /* 0..1: share of the torrent the peer has */
  BTX_PEER_NUM_PIECES,       /* pieces the peer has */
  BTX_PEER_RTT,              /* round-trip time estimate, ms */
  BTX_PEER_DOWNLOAD_QUEUE,   /* our requests outstanding at the peer */
  BTX_PEER_UPLOAD_QUEUE,     /* the peer's requests outstanding at us */
  BTX_PEER_NUM_HASHFAILS,    /* pieces from it that failed the hash check */
  BTX_PEER_ADDRESS_LEN,
  BTX_PEER_CLIENT_LEN,
  BTX_PEER_NUM_FIELDS
};
/* BTX_PEER_FLAGS bits (libtorrent peer_info): */
#define BTX_PEERF_INTERESTING (1u << 0)       /* we want pieces it has */
#define BTX_PEERF_CHOKED (1u << 1)            /* we choke it */
#define BTX_PEERF_REMOTE_INTERESTED (1u << 2) /* it wants pieces we have */
#define BTX_PEERF_REMOTE_CHOKED (1u << 3)     /* it chokes us */
#define BTX_PEERF_SUPPORTS_EXTENSIONS (1u << 4)
#define BTX_PEERF_OUTGOING (1u << 5)          /* we opened the connection */
#define BTX_PEERF_HANDSHAKE (1u << 6)         /* handshake not done yet */
#define BTX_PEERF_CONNECTING (1u << 7)        /* TCP/uTP connect in progress */
#define BTX_PEERF_ON_PAROLE (1u << 9)
#define BTX_PEERF_SEED (1u << 10)             /* it has every piece */
#define BTX_PEERF_OPTIMISTIC_UNCHOKE (1u << 11)
#define BTX_PEERF_SNUBBED (1u << 12)
#define BTX_PEERF_UPLOAD_ONLY (1u << 13)
#define BTX_PEERF_ENDGAME (1u << 14)
#define BTX_PEERF_HOLEPUNCHED (1u << 15)
#define BTX_PEERF_I2P (1u << 16)
#define BTX_PEERF_UTP (1u << 17)              /* over uTP (else TCP) */
#define BTX_PEERF_SSL (1u << 18)
#define BTX_PEERF_RC4 (1u << 19)              /* the stream is RC4-encrypted */
#define BTX_PEERF_PLAINTEXT_ENCRYPTED (1u << 20) /* encrypted handshake, plaintext payload */
BTX_API int32_t btx_torrent_peers(btx_torrent t, double* nums, uint32_t nums_cap, uint8_t* strs, uint32_t strs_cap,
                                  uint32_t* out);

/* Files of a torrent (a record list, BTX_FILE_NUM_FIELDS doubles per file;
 * string: the path inside the torrent, "/"-separated). BTX_E_NO_METADATA
 * while the metadata is unknown. flags: BTX_FILES_PRECISE counts the bytes
 * of downloaded blocks of unfinished pieces too (libtorrent's default,
 * costlier); without it progress counts only whole verified pieces
 * (file_progress piece_granularity). BTX_FILES_WITH_PAD includes pad files
 * (flag bit BTX_FILEF_PAD), which are left out otherwise. */
enum {
  BTX_FILE_INDEX = 0,  /* libtorrent file index (pad files count) */
  BTX_FILE_SIZE,       /* bytes */
  BTX_FILE_OFFSET,     /* byte offset of the file in the torrent */
  BTX_FILE_PROGRESS,   /* bytes of it we have */
  BTX_FILE_PRIORITY,   /* 0 (skip) .. 7 */
  BTX_FILE_FLAGS,      /* BTX_FILEF_* */
  BTX_FILE_PATH_LEN,
  BTX_FILE_NUM_FIELDS
};
#define BTX_FILES_PRECISE 1u
#define BTX_FILES_WITH_PAD 2u
#define BTX_FILEF_PAD 1u
#define BTX_FILEF_HIDDEN 2u
#define BTX_FILEF_EXECUTABLE 4u
#define BTX_FILEF_SYMLINK 8u
BTX_API int32_t btx_torrent_files(btx_torrent t, uint32_t flags, double* nums, uint32_t nums_cap, uint8_t* strs,
                                  uint32_t strs_cap, uint32_t* out);

/* The pieces we have (verified), as a bitfield: bit i is piece i, most
 * significant bit of each byte first; unused bits of the last byte are 0.
 * out[0] = piece count, out[1] = bytes (ceil(count / 8)). cap too small:
 * BTX_E_BUFFER_TOO_SMALL with out[] set. BTX_E_NO_METADATA without
 * metadata. */
BTX_API int32_t btx_torrent_pieces(btx_torrent t, uint8_t* buf, uint32_t cap, uint32_t* out);

/* How many connected peers have each piece (libtorrent's piece picker):
 * out[i] for piece i; *out_count = pieces. A torrent with no piece picker
 * (a seed) reports 0 pieces. cap (in int32s) too small:
 * BTX_E_BUFFER_TOO_SMALL with *out_count set. BTX_E_NO_METADATA without
 * metadata. */
BTX_API int32_t btx_torrent_piece_availability(btx_torrent t, int32_t* out, uint32_t cap, uint32_t* out_count);

/* Session-wide pause: every torrent stops transferring (their own paused
 * flags are unchanged) until btx_session_resume(). */
BTX_API int32_t btx_session_pause(btx_session s);
BTX_API int32_t btx_session_resume(btx_session s);
BTX_API int32_t btx_session_is_paused(btx_session s, uint32_t* out);

/* The torrent of this session with the given info-hash: 20 bytes (v1,
 * SHA-1) or 32 bytes (v2, SHA-256; matched in full). *out = its handle, or
 * 0 when the session has none. Other lengths: BTX_E_INVALID_ARGUMENT. */
BTX_API int32_t btx_session_find_torrent(btx_session s, const uint8_t* hash, uint32_t len, btx_torrent* out);

/* Session statistics (libtorrent's performance counters). The names, as a
 * bencoded list of [name, value index, type (0 counter, 1 gauge)], come
 * from btx_stats_metrics(). btx_session_post_stats() asks for a snapshot;
 * it arrives as event "session_stats" (no fields), and the drain that
 * passes it on keeps it for btx_session_stats(), which writes:
 *   out[0] = snapshots taken so far (0: none yet; then out[1..] are 0),
 *   out[1] = when the snapshot was taken, µs since the session opened,
 *   out[2 + i] = counter value_index i.
 * *out_count = 2 + counters. cap (doubles) too small: BTX_E_BUFFER_TOO_SMALL
 * with *out_count set. */
BTX_API int32_t btx_stats_metrics(uint8_t* buf, uint32_t cap, uint32_t* out_len);
BTX_API int32_t btx_session_post_stats(btx_session s);
BTX_API int32_t btx_session_stats(btx_session s, double* out, uint32_t cap, uint32_t* out_count);

/* Saves the session's state (lt::write_session_params_buf) as a blob
 * (btx_blob_take). flags: BTX_STATE_SETTINGS (non-default settings),
 * BTX_STATE_DHT (DHT node id and routing table); 0 = both. */
#define BTX_STATE_SETTINGS 1u
#define BTX_STATE_DHT 2u
BTX_API int32_t btx_session_save_state(btx_session s, uint32_t flags, uint32_t* out_blob, uint32_t* out_size);

/* btx_session_open() restoring a saved state first: the state's settings
 * and DHT state, then `settings` on top. A state that is not a bencoded
 * dictionary (or whose "settings" / "dht state" entries are not
 * dictionaries) gives BTX_E_INVALID_ARGUMENT. */
BTX_API int32_t btx_session_open_state(const uint8_t* settings, uint32_t len, const uint8_t* state,
                                       uint32_t state_len, uint32_t flags, btx_session* out);

/* Adds many torrents, pipelined: each btx_session_add_post() parses a
 * bencoded list of add dictionaries (as btx_torrent_add) and hands every
 * valid one to libtorrent at once (async_add_torrent), so libtorrent adds
 * them while the caller prepares the next list; btx_session_add_collect()
 * then waits until libtorrent has processed them all and reports each.
 * *batch = 0 starts a new batch (its id is written back); pass the id again
 * to append. Entries are numbered in the order posted. A list that is not
 * bencoded gives BTX_E_INVALID_ARGUMENT (nothing of it is posted); a bad
 * entry does not fail the call: it is recorded, not posted.
 * btx_session_add_collect(): out[i] = entry i's torrent handle (0 when not
 * added), codes[i] = its status (BTX_OK, BTX_E_INVALID_MAGNET / _TORRENT /
 * _RESUME / _ARGUMENT for a bad entry, BTX_E_DUPLICATE_TORRENT, BTX_E_ENGINE
 * when libtorrent refused it). cap = entries out and codes hold (>= the
 * batch's). The first failure's text is kept as the session's last error.
 * The batch is gone afterwards (collect it exactly once). */
BTX_API int32_t btx_session_add_post(btx_session s, const uint8_t* params, uint32_t len, uint32_t* batch);
BTX_API int32_t btx_session_add_collect(btx_session s, uint32_t batch, btx_torrent* out, int32_t* codes,
                                        uint32_t cap);

/* Every libtorrent setting, as a bencoded list of [name, type, default]
 * (type 0 string, 1 integer, 2 boolean; booleans as 0/1), in libtorrent's
 * order. The same for every session. */
BTX_API int32_t btx_settings_catalog(uint8_t* buf, uint32_t cap, uint32_t* out_len);

/* Current settings of a session as a bencoded dictionary name -> value
 * (booleans as 0/1). `names` is a bencoded list of setting names; len 0
 * means every setting. Unknown names give BTX_E_UNKNOWN_SETTING. */
BTX_API int32_t btx_session_get_settings(btx_session s, const uint8_t* names, uint32_t len, uint8_t* buf,
                                         uint32_t cap, uint32_t* out_len);
/* ---- torrent control ----------------------------------------------------- */

/* More keys of btx_torrent_add()'s params. With these the sources are
 * magnet, torrent, resume, torrent_file and info-hash: give exactly one.
 *   "torrent_file": path of a .torrent file, read by the shim
 *     (BTX_E_PATH_NOT_FOUND when it does not exist, BTX_E_INVALID_TORRENT
 *     when it does not parse; at most 10 MB)
 *   "info_hash_v1": 20 raw bytes (SHA-1), "info_hash_v2": 32 raw bytes
 *     (SHA-256): add by info-hash alone (one or both count as one source);
 *     the metadata is then fetched from peers. "save_path" is required. */

/* Drops every peer and checks the files against the piece hashes again
 * (event "torrent_checked" when done). BTX_E_NO_METADATA without metadata. */
BTX_API int32_t btx_torrent_force_recheck(btx_torrent t);

/* Announces to the trackers in `seconds` (>= 0; 0 = now). tracker_index:
 * -1 = every tracker, else 0 <= index < number of trackers. flags:
 * BTX_REANNOUNCE_IGNORE_MIN_INTERVAL announces even when the tracker's
 * "min interval" has not passed. */
#define BTX_REANNOUNCE_IGNORE_MIN_INTERVAL 1u
BTX_API int32_t btx_torrent_force_reannounce(btx_torrent t, int32_t seconds, int32_t tracker_index, uint32_t flags);

/* Asks the tracker(s) for swarm counts (events "scrape_reply" /
 * "scrape_failed"). tracker_index as in btx_torrent_force_reannounce. */
BTX_API int32_t btx_torrent_scrape(btx_torrent t, int32_t tracker_index);

/* Clears the torrent's error state so it can start again. */
BTX_API int32_t btx_torrent_clear_error(btx_torrent t);

/* Moves the torrent's files to directory `path` (UTF-8, non-empty).
 * Completes asynchronously: event "storage_moved" or
 * "storage_moved_failed". policy: what to do with files of the same name
 * already at the destination. */
enum {
  BTX_MOVE_REPLACE = 0, /* overwrite them */
  BTX_MOVE_KEEP = 1,    /* keep them (and use them as the torrent's) */
  BTX_MOVE_FAIL = 2     /* fail the move, moving nothing */
};
BTX_API int32_t btx_torrent_move_storage(btx_torrent t, const uint8_t* path, uint32_t len, uint32_t policy);

/* Renames file `index` (0 <= index < number of files, pad files included)
 * to `name`: a path relative to the save path, or absolute. Asynchronous:
 * event "file_renamed" or "file_rename_failed". BTX_E_NO_METADATA without
 * metadata. */
BTX_API int32_t btx_torrent_rename_file(btx_torrent t, int32_t index, const uint8_t* name, uint32_t len);

/* The torrent's libtorrent torrent_flags bits: out[0] = bits 0..31,
 * out[1] = bits 32..63. */
BTX_API int32_t btx_torrent_flags(btx_torrent t, uint32_t* out);

/* Sets the bits of `mask` to their values in `flags` (others unchanged).
 * Only these bits may be in mask (BTX_E_INVALID_ARGUMENT otherwise):
 * seed_mode (clearing only), upload_mode, share_mode, apply_ip_filter,
 * auto_managed, super_seeding, sequential_download, stop_when_ready,
 * disable_dht, disable_lsd, disable_pex. Pausing is btx_torrent_pause. */
BTX_API int32_t btx_torrent_set_flags(btx_torrent t, uint32_t flags, uint32_t mask);

/* File priorities, 0 (skip) .. 7 (top); 4 is the default. index: 0 <= index
 * < number of files (pad files included). BTX_E_NO_METADATA without
 * metadata; BTX_E_INVALID_ARGUMENT for an index or priority out of range.
 * btx_torrent_file_priorities writes one byte per file into buf and the
 * file count into *out_count (BTX_E_BUFFER_TOO_SMALL when cap is smaller).
 * btx_torrent_set_file_priorities takes exactly one byte per file. */
BTX_API int32_t btx_torrent_file_priority(btx_torrent t, int32_t index, uint32_t* out);
BTX_API int32_t btx_torrent_set_file_priority(btx_torrent t, int32_t index, uint32_t priority);
BTX_API int32_t btx_torrent_file_priorities(btx_torrent t, uint8_t* buf, uint32_t cap, uint32_t* out_count);
BTX_API int32_t btx_torrent_set_file_priorities(btx_torrent t, const uint8_t* priorities, uint32_t count);

/* Piece priority, 0..7, 0 <= index < number of pieces. Same errors. */
BTX_API int32_t btx_torrent_piece_priority(btx_torrent t, int32_t index, uint32_t* out);
BTX_API int32_t btx_torrent_set_piece_priority(btx_torrent t, int32_t index, uint32_t priority);

/* Per-torrent limits. out[BTX_LIMIT_*] receives each one; 0 = unlimited.
 * Rates are payload + protocol bytes/s. set: value >= 0 (0 = unlimited);
 * libtorrent raises a connection limit of 1 to 2. */
enum {
  BTX_LIMIT_UPLOAD_RATE = 0,
  BTX_LIMIT_DOWNLOAD_RATE = 1,
  BTX_LIMIT_MAX_CONNECTIONS = 2,
  BTX_LIMIT_MAX_UPLOADS = 3,
  BTX_LIMIT_COUNT = 4
};
BTX_API int32_t btx_torrent_limits(btx_torrent t, int32_t* out);
BTX_API int32_t btx_torrent_set_limit(btx_torrent t, uint32_t which, int32_t value);

/* Asks for piece `piece` within `ms` milliseconds (>= 0): it is fetched
 * first, from several peers at once near the deadline. flags:
 * BTX_DEADLINE_ALERT posts event "read_piece" when the piece is had.
 * reset: drop one piece's deadline; clear: drop all. */
#define BTX_DEADLINE_ALERT 1u
BTX_API int32_t btx_torrent_set_piece_deadline(btx_torrent t, int32_t piece, int32_t ms, uint32_t flags);
BTX_API int32_t btx_torrent_reset_piece_deadline(btx_torrent t, int32_t piece);
BTX_API int32_t btx_torrent_clear_piece_deadlines(btx_torrent t);

/* Queue position: 0 is first; -1 for a finished or seeding torrent (not
 * queued). btx_torrent_queue moves it: op BTX_QUEUE_SET to `position`
 * (>= 0; past the end means last), or up / down / top / bottom (position
 * ignored). */
enum { BTX_QUEUE_SET = 0, BTX_QUEUE_UP = 1, BTX_QUEUE_DOWN = 2, BTX_QUEUE_TOP = 3, BTX_QUEUE_BOTTOM = 4 };
BTX_API int32_t btx_torrent_queue_position(btx_torrent t, int32_t* out);
BTX_API int32_t btx_torrent_queue(btx_torrent t, uint32_t op, int32_t position);

/* The torrent's trackers as a blob (*out_blob, *out_size; take it with
 * btx_blob_take): a bencoded list, one dictionary per tracker:
 *   "url", "tier", "source" (bits: 1 torrent, 2 client, 4 magnet, 8 tex),
 *   "verified" (0/1: a reply was valid), "fail_limit",
 *   "endpoints": list, one per local listen socket announcing to it:
 *     "local": "ip:port",  "enabled": 0/1,
 *     "v1", "v2" (present per info-hash the torrent has): dictionaries
 *       "message" (tracker's warning or failure text), "error" (text, ""
 *       when none), "fails" (in a row), "updating" (0/1: an announce is in
 *       flight), "start_sent" (0/1: announced successfully since start),
 *       "complete_sent" (0/1), "next_announce" / "min_announce" (seconds
 *       from now; absent when not scheduled), "scrape_complete",
 *       "scrape_incomplete", "scrape_downloaded" (-1 unknown). */
BTX_API int32_t btx_torrent_trackers(btx_torrent t, uint32_t* out_blob, uint32_t* out_size);

/* Adds a tracker URL (non-empty) in `tier` (0..255). A URL already listed
 * is left as it is. */
BTX_API int32_t btx_torrent_add_tracker(btx_torrent t, const uint8_t* url, uint32_t len, uint32_t tier);

/* Replaces the tracker list. `list` is a bencoded dictionary
 * { "trackers": [ { "url": string, "tier": 0..255 }, … ] } (may be empty). */
BTX_API int32_t btx_torrent_replace_trackers(btx_torrent t, const uint8_t* list, uint32_t len);

/* Web seeds (BEP 19 url seeds): the list as a blob holding a bencoded list
 * of URL strings; add / remove one URL (non-empty). */
BTX_API int32_t btx_torrent_web_seeds(btx_torrent t, uint32_t* out_blob, uint32_t* out_size);
BTX_API int32_t btx_torrent_add_web_seed(btx_torrent t, const uint8_t* url, uint32_t len);
BTX_API int32_t btx_torrent_remove_web_seed(btx_torrent t, const uint8_t* url, uint32_t len);

/* *out = 1 when something worth saving changed since the resume data was
 * last saved (or since the torrent was added), else 0. */
BTX_API int32_t btx_torrent_need_save_resume(btx_torrent t, uint32_t* out);

/* btx_torrent_save_resume with flags. Exactly one event follows each call:
 * "save_resume_data" or "save_resume_data_failed" (field notModified = 1
 * when BTX_RESUME_ONLY_IF_MODIFIED skipped it).
 *   BTX_RESUME_FLUSH_DISK_CACHE: write pending pieces to disk first
 *   BTX_RESUME_SAVE_INFO_DICT: include the metadata (then the resume data
 *     alone can re-add the torrent)
 *   BTX_RESUME_ONLY_IF_MODIFIED: fail with notModified when nothing changed */
#define BTX_RESUME_FLUSH_DISK_CACHE 1u
#define BTX_RESUME_SAVE_INFO_DICT 2u
#define BTX_RESUME_ONLY_IF_MODIFIED 4u
BTX_API int32_t btx_torrent_save_resume_flags(btx_torrent t, uint32_t flags);

/* Writes every piece received so far to disk and closes the torrent's
 * files; event "cache_flushed" when done (after it, reading the files
 * gives what was downloaded). BTX_E_NO_METADATA without metadata. */
BTX_API int32_t btx_torrent_flush_cache(btx_torrent t);


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

/* Checks a BEP 44 mutable item's signature: signature (64 bytes) by
 * public_key (32 bytes) over "4:salt<n>:<salt>" (only with a salt) +
 * "3:seqi<seq>e1:v" + the value, canonically re-encoded. *seq is 0..2^53-1.
 * BTX_OK when it verifies, BTX_E_DHT_BAD_SIGNATURE when it does not,
 * BTX_E_INVALID_ARGUMENT for a malformed value, salt or seq. Needs no
 * session. (libtorrent's verify_mutable_item is not exported by its shared
 * library, so the shim builds the same signed message and calls
 * ed25519_verify.) */
BTX_API int32_t btx_dht_verify_mutable(const uint8_t* public_key, const uint8_t* signature,
                                       const int64_t* seq, const uint8_t* salt, uint32_t salt_len,
                                       const uint8_t* value, uint32_t len);

/* Stores a mutable item someone else signed: the exact item held (say, got
 * from the DHT) is put again under public_key and salt with its signature
 * (64 bytes) and *seq, with no secret key — so anyone holding an item can
 * keep it alive on the DHT. The signature is checked first (as
 * btx_dht_verify_mutable): one that does not verify gives
 * BTX_E_DHT_BAD_SIGNATURE and nothing is put. The current item is looked up
 * first; if it has a higher seq, or the same seq with another value, the
 * put is refused (the stored item is left as found). *out_request receives
 * an id; event "dht_put" with that requestId reports the outcome: error ""
 * (stored on numSuccess nodes) or "DHT_STALE_SEQUENCE". */
BTX_API int32_t btx_dht_put_mutable_signed(btx_session s, const uint8_t* public_key,
                                           const uint8_t* signature, const int64_t* seq,
                                           const uint8_t* salt, uint32_t salt_len,
                                           const uint8_t* value, uint32_t len,
                                           uint32_t* out_request);

#ifdef __cplusplus
}
#endif

#endif /* BTX_H */
