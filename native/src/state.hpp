// Shared state of the shim: sessions, torrents and blobs, each in a handle
// table; helpers to read the bencoded argument dictionaries.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <libtorrent/alert.hpp>
#include <libtorrent/extensions.hpp>
#include <libtorrent/torrent_status.hpp>
#include <libtorrent/bdecode.hpp>
#include <libtorrent/info_hash.hpp>
#include <libtorrent/ip_filter.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/torrent_handle.hpp>

#include "btx.h"
#include "errors.hpp"
#include "handles.hpp"

namespace btx {

// Readiness signal between libtorrent's alert notification (any libtorrent
// thread) and btx_session_wait (a waiter thread). Owned by shared_ptr so the
// notify callback can never outlive it.
struct Notifier {
  std::mutex mu;
  std::condition_variable cv;
  bool ready = true;  // force a first drain: alerts may precede set_alert_notify
  bool closing = false;
  void signal() {
    {
      std::lock_guard<std::mutex> l(mu);
      ready = true;
    }
    cv.notify_all();
  }
};

struct DhtPuts;  // dht.cpp: mutable puts in flight

struct TorrentEntry {
  uint32_t id = 0;
  bool deleting = false;  // keep the entry until torrent_deleted(_failed)
};

// The reusable state of btx_session_status_all: libtorrent's status
// objects (refreshed in place, one engine call for all) and the torrent id
// of each. Rebuilt only when the session's torrents changed.
struct StatusCache {
  std::mutex mu;
  std::vector<lt::torrent_status> st;
  std::vector<uint32_t> ids;
  std::vector<int64_t> real_size;  // bytes of non-pad files; -1 until known
  uint64_t table_version = ~0ull;  // torrents().version() when ids was built
  size_t map_size = 0;             // SessionState::torrents.size() then
};

// The state of btx_session_status_poll (status_poll.cpp): the last status
// of every torrent, kept up to date from libtorrent's state_update_alert
// (caught by a session plugin on the network thread, so the event drain
// never sees it), and per record the poll that last changed it, so a
// caller's buffers get only what changed since they were last written.
struct StatusMirror {
  // Written by the plugin on libtorrent's network thread.
  std::mutex pending_mu;
  std::vector<lt::torrent_status> pending;
  uint64_t received = 0;   // state_update_alerts seen
  uint64_t requested = 0;  // post_torrent_updates calls made (by polls and the drain)

  // The rest: under `mu`, by the polling thread.
  std::mutex mu;
  uint32_t seq = 0;        // polls so far (a buffer's tag is the poll that wrote it)
  uint32_t layout_seq = 0; // poll at which the torrent list last changed
  uint32_t strs_seq = 0;   // poll at which any record's strings last changed
  uint64_t table_version = ~0ull;
  size_t map_size = 0;
  std::vector<uint32_t> ids;                  // torrent id of each record
  std::unordered_map<uint32_t, uint32_t> slot; // torrent id -> record index
  std::vector<lt::torrent_status> st;         // last status of each
  std::vector<lt::time_point> at;             // when st[i] was taken
  std::vector<uint32_t> mod;                  // poll that last changed st[i]; 0: never filled
  std::vector<int64_t> real_size;             // bytes of non-pad files; -1 until known
  std::vector<uint32_t> soff;                 // offset of record i's strings
  uint64_t strs_total = 0;
};

// A session plugin that hands every state_update_alert's statuses to `m`.
std::shared_ptr<lt::plugin> status_plugin(std::shared_ptr<StatusMirror> m);
struct SessionState;
// post_torrent_updates, counted for the status poll (status_poll.cpp).
void post_status_updates(SessionState& ss, lt::session& ses);

// The last session_stats alert the drain passed on (btx_session_stats).
struct StatsSnapshot {
  std::mutex mu;
  std::vector<std::int64_t> counters;
  double time_us = 0;  // when it was taken, µs since the session opened
  uint64_t seq = 0;    // snapshots taken so far
};

// Torrents handed to libtorrent by btx_session_add_post, awaiting
// btx_session_add_collect.
struct AddBatch {
  struct Entry {
    lt::info_hash_t hashes;
    int32_t code = BTX_OK;  // a parse failure: never handed to libtorrent
  };
  std::vector<Entry> entries;
  std::string first_error;
  // Lists handed to the network thread and lists it has added: posting
  // waits while more than one is outstanding, so add parameters do not
  // pile up in libtorrent's queue (memory it keeps after they are freed).
  struct Flow {
    std::mutex mu;
    std::condition_variable cv;
    uint64_t posted = 0, done = 0;
  };
  std::shared_ptr<Flow> flow = std::make_shared<Flow>();
};

struct SessionState : std::enable_shared_from_this<SessionState> {
  uint32_t id = 0;
  // `ses` is read under a shared lock of `life`; close takes it exclusively.
  std::shared_mutex life;
  std::unique_ptr<lt::session> ses;
  std::shared_ptr<Notifier> notifier = std::make_shared<Notifier>();

  std::mutex err_mu;
  std::string last_error;

  // Drain state: alert pointers popped but not yet encoded.
  std::mutex drain_mu;
  std::vector<lt::alert*> alerts;
  size_t next_alert = 0;

  // torrent_handle -> torrent id. Ordered by owner (weak_ptr), which stays
  // valid after the torrent object is gone, so late alerts still map.
  std::mutex torrents_mu;
  std::map<lt::torrent_handle, TorrentEntry> torrents;

  // Inspection and session control (status_all.cpp, session_ctl.cpp).
  lt::time_point opened_at = lt::clock_type::now();
  StatusCache status_cache;
  std::shared_ptr<StatusMirror> status_mirror = std::make_shared<StatusMirror>();
  StatsSnapshot stats;
  std::mutex add_batches_mu;
  std::map<uint32_t, AddBatch> add_batches;
  uint32_t next_add_batch = 1;
  // ---- ip filter and dht
  uint32_t flags = 0;  // BTX_SESSION_* flags given at open
  // The user's IP rules (ipfilter.cpp). The engine holds these intersected
  // with the loopback-only rules when BTX_SESSION_LOOPBACK_ONLY was given.
  std::mutex ip_filter_mu;
  lt::ip_filter user_ip_filter;
  // Mutable DHT puts awaiting their dht_put alert (dht.cpp).
  std::shared_ptr<DhtPuts> dht_puts;
};

struct TorrentState {
  uint32_t id = 0;
  std::shared_ptr<SessionState> session;
  lt::torrent_handle handle;
};

HandleTable<SessionState>& sessions();
HandleTable<TorrentState>& torrents();
HandleTable<std::vector<char>>& blobs();

// Looks up a session / torrent or throws BTX_E_BAD_HANDLE.
std::shared_ptr<SessionState> session_of(btx_session h);
std::shared_ptr<TorrentState> torrent_of(btx_torrent h);

// Runs `body(TorrentState&)` under the firewall; a bad handle fails with
// BTX_E_BAD_HANDLE, and errors are recorded for the torrent's session.
// Like with_session, it holds the engine alive (shared lock of `life`): a
// torrent_handle call racing btx_session_close would otherwise post into
// (or wait on) an engine that is being destroyed.
template <class F>
int32_t with_torrent(btx_torrent h, F&& body) noexcept {
  auto t = torrents().get(h);
  return guard(t ? t->session.get() : nullptr, [&]() -> int32_t {
    if (!t) fail(BTX_E_BAD_HANDLE, "torrent handle is removed or invalid");
    std::shared_lock<std::shared_mutex> l(t->session->life);
    if (!t->session->ses) fail(BTX_E_CLOSED, "session is closing");
    return body(*t);
  });
}

// Runs `body(SessionState&, lt::session&)` under the firewall with the
// engine held alive (shared lock of `life`).
template <class F>
int32_t with_session(btx_session h, F&& body) noexcept {
  auto s = sessions().get(h);
  return guard(s.get(), [&]() -> int32_t {
    if (!s) fail(BTX_E_BAD_HANDLE, "session handle is closed or invalid");
    std::shared_lock<std::shared_mutex> l(s->life);
    if (!s->ses) fail(BTX_E_CLOSED, "session is closing");
    return body(*s, *s->ses);
  });
}

// Stores bytes as a blob; returns its id.
uint32_t store_blob(std::vector<char> bytes);

// Parses a bencoded dictionary argument (len 0 = empty dict).
lt::bdecode_node parse_dict(uint8_t const* buf, uint32_t len, char const* what);
// Typed readers for dictionary entries; `missing` returned when absent,
// BTX_E_INVALID_ARGUMENT thrown when present with the wrong type.
std::string dict_str(lt::bdecode_node const& d, char const* key, std::string missing = {});
bool dict_has(lt::bdecode_node const& d, char const* key);
int64_t dict_int(lt::bdecode_node const& d, char const* key, int64_t missing);
std::vector<std::string> dict_str_list(lt::bdecode_node const& d, char const* key);

// Torrent control (control.cpp): reads a .torrent file (PATH_NOT_FOUND,
// INVALID_TORRENT), and the raw "info_hash_v1" / "info_hash_v2" entries of
// an add dictionary (INVALID_ARGUMENT when a size is wrong).
std::shared_ptr<lt::torrent_info> load_torrent_file(std::string const& path);
lt::info_hash_t info_hashes_of(lt::bdecode_node const& d);

// Applies a bencoded settings dictionary to a pack (validates every entry).
void read_settings(lt::bdecode_node const& dict, lt::settings_pack& pack);

// ---- inspection, session control, settings, bulk status
// A saved session state (btx_session_save_state) read back; len 0 gives
// default params. Not a bencoded dictionary: BTX_E_INVALID_ARGUMENT.
lt::session_params read_state(uint8_t const* buf, uint32_t len);
// The add_torrent_params of one add dictionary (btx_torrent_add's format).
lt::add_torrent_params read_add_params(lt::bdecode_node const& d);
// Called by the drain for every alert it passed on: keeps the counters of
// a session_stats alert for btx_session_stats.
void capture_stats(SessionState& s, lt::alert const* a);
// ---- ip filter and dht
// The loopback-only rules: everything outside 127.0.0.0/8 and ::1 blocked.
// add_loopback_guard() writes them over `f` (what is loopback keeps f's rules).
lt::ip_filter loopback_only_filter();
void add_loopback_guard(lt::ip_filter& f);
// Encodes a mutable dht_put alert's outcome (dht.cpp): the request id the
// put was given and "" or the stable error code of a rejected put.
void dht_put_outcome(SessionState& s, lt::alert const* a, double& request_id, std::string& error);

}  // namespace btx
