// Session-level control: pause/resume, find a torrent by info-hash, the
// performance counters (session_stats), saving and restoring the session's
// state, and adding many torrents in one call.
#include <chrono>
#include <cstring>
#include <unordered_map>

#include <libtorrent/alert_types.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/session_stats.hpp>
#include <libtorrent/torrent_info.hpp>

#include "state.hpp"

namespace btx {

lt::session_params read_state(uint8_t const* buf, uint32_t len) {
  if (len == 0) return lt::session_params{};
  auto d = parse_dict(buf, len, "session state");
  for (char const* key : {"settings", "dht state"}) {
    auto v = d.dict_find(key);
    if (v && v.type() != lt::bdecode_node::dict_t)
      fail(BTX_E_INVALID_ARGUMENT, std::string("session state: \"") + key + "\" is not a dictionary");
  }
  return lt::read_session_params(d, lt::session::save_settings | lt::session::save_dht_state);
}

void capture_stats(SessionState& s, lt::alert const* a) {
  if (a->type() != lt::session_stats_alert::alert_type) return;
  auto const* x = static_cast<lt::session_stats_alert const*>(a);
  auto c = x->counters();
  std::lock_guard<std::mutex> l(s.stats.mu);
  s.stats.counters.assign(c.begin(), c.end());
  s.stats.time_us = static_cast<double>(lt::total_microseconds(x->timestamp() - s.opened_at));
  ++s.stats.seq;
}

}  // namespace btx

namespace {

// The id of a torrent of `ss` with handle `th`, or 0.
uint32_t id_of(btx::SessionState& ss, lt::torrent_handle const& th) {
  if (!th.is_valid()) return 0;
  std::lock_guard<std::mutex> l(ss.torrents_mu);
  auto it = ss.torrents.find(th);
  if (it == ss.torrents.end() || !btx::torrents().alive(it->second.id)) return 0;
  return it->second.id;
}

// Key for matching torrents by info-hash: v1 when there is one, else v2.
std::string hash_key(lt::info_hash_t const& ih) {
  if (ih.has_v1()) return "1" + std::string(ih.v1.data(), 20);
  return "2" + std::string(ih.v2.data(), 32);
}

}  // namespace

extern "C" BTX_API int32_t btx_session_pause(btx_session h) {
  return btx::with_session(h, [&](btx::SessionState&, lt::session& ses) -> int32_t {
    ses.pause();
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_session_resume(btx_session h) {
  return btx::with_session(h, [&](btx::SessionState&, lt::session& ses) -> int32_t {
    ses.resume();
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_session_is_paused(btx_session h, uint32_t* out) {
  return btx::with_session(h, [&](btx::SessionState&, lt::session& ses) -> int32_t {
    if (!out) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    *out = ses.is_paused() ? 1 : 0;
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_session_find_torrent(btx_session h, uint8_t const* hash, uint32_t len,
                                                    btx_torrent* out) {
  return btx::with_session(h, [&](btx::SessionState& ss, lt::session& ses) -> int32_t {
    if (!out) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    *out = 0;
    if (!hash || (len != 20 && len != 32)) btx::fail(BTX_E_INVALID_ARGUMENT, "an info-hash is 20 (v1) or 32 (v2) bytes");
    char const* p = reinterpret_cast<char const*>(hash);
    if (len == 20) {
      lt::sha1_hash const v1(p);
      lt::torrent_handle th = ses.find_torrent(v1);
      if (th.is_valid() && th.info_hashes().v1 == v1) *out = id_of(ss, th);
      return BTX_OK;
    }
    lt::sha256_hash const v2(p);
    // libtorrent indexes v2 torrents by their truncated hash too; confirm in full.
    lt::torrent_handle th = ses.find_torrent(lt::sha1_hash(p));
    if (th.is_valid() && th.info_hashes().v2 == v2) {
      *out = id_of(ss, th);
      return BTX_OK;
    }
    std::lock_guard<std::mutex> l(ss.torrents_mu);
    for (auto const& kv : ss.torrents) {
      if (kv.first.info_hashes().v2 == v2 && btx::torrents().alive(kv.second.id)) {
        *out = kv.second.id;
        break;
      }
    }
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_stats_metrics(uint8_t* buf, uint32_t cap, uint32_t* out_len) {
  return btx::guard(nullptr, [&]() -> int32_t {
    lt::entry::list_type list;
    for (auto const& m : lt::session_stats_metrics()) {
      lt::entry::list_type one;
      one.emplace_back(std::string(m.name));
      one.emplace_back(static_cast<std::int64_t>(m.value_index));
      one.emplace_back(static_cast<std::int64_t>(m.type == lt::metric_type_t::gauge ? 1 : 0));
      list.emplace_back(std::move(one));
    }
    std::string out;
    lt::bencode(std::back_inserter(out), lt::entry(std::move(list)));
    return btx::write_out(out, buf, cap, out_len);
  });
}

extern "C" BTX_API int32_t btx_session_post_stats(btx_session h) {
  return btx::with_session(h, [&](btx::SessionState&, lt::session& ses) -> int32_t {
    ses.post_session_stats();
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_session_stats(btx_session h, double* out, uint32_t cap, uint32_t* out_count) {
  return btx::with_session(h, [&](btx::SessionState& ss, lt::session&) -> int32_t {
    if (!out_count || (!out && cap)) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    static uint32_t const n = static_cast<uint32_t>(lt::counters::num_counters);
    *out_count = 2 + n;
    if (cap < 2 + n) btx::fail(BTX_E_BUFFER_TOO_SMALL, "stats buffer too small: see out_count");
    std::lock_guard<std::mutex> l(ss.stats.mu);
    out[0] = static_cast<double>(ss.stats.seq);
    out[1] = ss.stats.time_us;
    for (uint32_t i = 0; i < n; ++i)
      out[2 + i] = i < ss.stats.counters.size() ? static_cast<double>(ss.stats.counters[i]) : 0.0;
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_session_save_state(btx_session h, uint32_t flags, uint32_t* out_blob,
                                                  uint32_t* out_size) {
  return btx::with_session(h, [&](btx::SessionState&, lt::session& ses) -> int32_t {
    if (!out_blob || !out_size) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    if (flags & ~(BTX_STATE_SETTINGS | BTX_STATE_DHT)) btx::fail(BTX_E_INVALID_ARGUMENT, "unknown state flags");
    if (flags == 0) flags = BTX_STATE_SETTINGS | BTX_STATE_DHT;
    lt::save_state_flags_t what{};
    if (flags & BTX_STATE_SETTINGS) what |= lt::session::save_settings;
    if (flags & BTX_STATE_DHT) what |= lt::session::save_dht_state;
    std::vector<char> buf = lt::write_session_params_buf(ses.session_state(what), what);
    *out_size = static_cast<uint32_t>(buf.size());
    *out_blob = btx::store_blob(std::move(buf));
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_session_add_many(btx_session h, uint8_t const* params, uint32_t len, btx_torrent* out,
                                                int32_t* codes, uint32_t cap) {
  return btx::with_session(h, [&](btx::SessionState& ss, lt::session& ses) -> int32_t {
    if ((!out || !codes) && cap) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    if (!params || len == 0) btx::fail(BTX_E_INVALID_ARGUMENT, "add list: empty buffer");
    lt::error_code ec;
    int pos = 0;
    lt::bdecode_node list = lt::bdecode({reinterpret_cast<char const*>(params), static_cast<std::ptrdiff_t>(len)}, ec,
                                        &pos, 100, 10000000);
    if (ec) btx::fail(BTX_E_INVALID_ARGUMENT, "add list: not bencoded: " + ec.message());
    if (list.type() != lt::bdecode_node::list_t) btx::fail(BTX_E_INVALID_ARGUMENT, "add list: not a list");
    int const n = list.list_size();
    if (static_cast<uint32_t>(n) > cap) btx::fail(BTX_E_BUFFER_TOO_SMALL, "out and codes hold fewer entries than the list");

    // Parse everything first: a bad entry adds nothing.
    std::vector<lt::add_torrent_params> atps;
    std::vector<std::string> keys;
    atps.reserve(static_cast<size_t>(n));
    keys.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      auto d = list.list_at(i);
      try {
        if (d.type() != lt::bdecode_node::dict_t) btx::fail(BTX_E_INVALID_ARGUMENT, "not a dictionary");
        atps.push_back(btx::read_add_params(d));
      } catch (btx::Error const& e) {
        btx::fail(e.code, "add list entry " + std::to_string(i) + ": " + e.what());
      }
      auto const& a = atps.back();
      keys.push_back(hash_key(a.ti ? a.ti->info_hashes() : a.info_hashes));
    }
    for (int i = 0; i < n; ++i) {
      out[i] = 0;
      codes[i] = BTX_E_ENGINE;
    }
    // Which entries we expect, by info-hash; a repeated hash fails as a duplicate.
    std::unordered_map<std::string, int> want;
    want.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
      if (!want.emplace(keys[i], i).second) codes[i] = BTX_E_DUPLICATE_TORRENT;
    for (auto& a : atps) ses.async_add_torrent(std::move(a));
    // A synchronous call is queued behind the adds on the network thread: when
    // it returns, every add above has been processed.
    std::vector<lt::torrent_handle> all = ses.get_torrents();

    std::lock_guard<std::mutex> l(ss.torrents_mu);
    for (auto const& th : all) {
      auto it = want.find(hash_key(th.info_hashes()));
      if (it == want.end()) continue;
      int const i = it->second;
      if (ss.torrents.count(th)) {  // was there before this call
        codes[i] = BTX_E_DUPLICATE_TORRENT;
        continue;
      }
      auto t = std::make_shared<btx::TorrentState>();
      t->session = ss.shared_from_this();
      t->handle = th;
      uint32_t id = btx::torrents().insert(t);
      if (!id) {
        ses.remove_torrent(th);
        codes[i] = BTX_E_INTERNAL;
        continue;
      }
      t->id = id;
      ss.torrents[th] = btx::TorrentEntry{id, false};
      out[i] = id;
      codes[i] = BTX_OK;
    }
    return BTX_OK;
  });
}
