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

#include <boost/asio/post.hpp>
#ifdef __GLIBC__
#include <malloc.h>
#endif

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

extern "C" BTX_API int32_t btx_session_add_post(btx_session h, uint8_t const* params, uint32_t len,
                                                uint32_t* batch) {
  return btx::with_session(h, [&](btx::SessionState& ss, lt::session& ses) -> int32_t {
    if (!batch) btx::fail(BTX_E_INVALID_ARGUMENT, "batch is null");
    if (!params || len == 0) btx::fail(BTX_E_INVALID_ARGUMENT, "add list: empty buffer");
    lt::error_code ec;
    int pos = 0;
    lt::bdecode_node list = lt::bdecode({reinterpret_cast<char const*>(params), static_cast<std::ptrdiff_t>(len)}, ec,
                                        &pos, 100, 10000000);
    if (ec) btx::fail(BTX_E_INVALID_ARGUMENT, "add list: not bencoded: " + ec.message());
    if (list.type() != lt::bdecode_node::list_t) btx::fail(BTX_E_INVALID_ARGUMENT, "add list: not a list");
    std::unique_lock<std::mutex> l(ss.add_batches_mu);
    if (*batch == 0) {
      *batch = ss.next_add_batch++;
      if (ss.next_add_batch == 0) ss.next_add_batch = 1;
      ss.add_batches[*batch];
    }
    auto it = ss.add_batches.find(*batch);
    if (it == ss.add_batches.end()) btx::fail(BTX_E_BAD_HANDLE, "unknown add batch");
    btx::AddBatch& b = it->second;
    int const n = list.list_size();
    // The list goes to the network thread in one handler (one hand-off, not
    // one per torrent); each async_add_torrent runs there in turn.
    auto atps = std::make_shared<std::vector<lt::add_torrent_params>>();
    atps->reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      auto d = list.list_at(i);
      b.entries.emplace_back();
      btx::AddBatch::Entry& e = b.entries.back();
      try {
        if (d.type() != lt::bdecode_node::dict_t) btx::fail(BTX_E_INVALID_ARGUMENT, "not a dictionary");
        atps->push_back(btx::read_add_params(d));
        auto const& atp = atps->back();
        e.hashes = atp.ti ? atp.ti->info_hashes() : atp.info_hashes;
      } catch (btx::Error const& x) {
        e.code = x.code;
        if (b.first_error.empty())
          b.first_error = "add list entry " + std::to_string(b.entries.size() - 1) + ": " + x.what();
      }
    }
    if (!atps->empty()) {
      lt::session_handle sh = ses;
      std::shared_ptr<btx::AddBatch::Flow> flow = b.flow;
      uint64_t mine;
      {
        std::lock_guard<std::mutex> f(flow->mu);
        mine = ++flow->posted;
      }
      boost::asio::post(ses.get_context(), [sh, atps, flow]() mutable {
        for (auto& p : *atps) {
          try {
            sh.async_add_torrent(std::move(p));  // runs inline on this (the network) thread
          } catch (...) {
            // The session is going away; btx_session_add_collect reports these as not added.
          }
        }
        atps->clear();
        {
          std::lock_guard<std::mutex> f(flow->mu);
          ++flow->done;
        }
        flow->cv.notify_all();
      });
      l.unlock();
      // Until the previous list is in (this one is added while the caller
      // prepares the next). Bounded: never a hang, only less pipelining.
      std::unique_lock<std::mutex> f(flow->mu);
      flow->cv.wait_for(f, std::chrono::seconds(10), [&] { return flow->done + 1 >= mine; });
    }
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_session_add_collect(btx_session h, uint32_t batch, btx_torrent* out, int32_t* codes,
                                                   uint32_t cap) {
  return btx::with_session(h, [&](btx::SessionState& ss, lt::session& ses) -> int32_t {
    btx::AddBatch b;
    {
      std::lock_guard<std::mutex> l(ss.add_batches_mu);
      auto it = ss.add_batches.find(batch);
      if (it == ss.add_batches.end()) btx::fail(BTX_E_BAD_HANDLE, "unknown add batch");
      if (it->second.entries.size() > cap) btx::fail(BTX_E_BUFFER_TOO_SMALL, "out and codes hold fewer entries than the batch");
      if ((!out || !codes) && !it->second.entries.empty()) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
      b = std::move(it->second);
      ss.add_batches.erase(it);
    }
    size_t const n = b.entries.size();
    // Expected torrents by info-hash (v1 when there is one, else v2); a hash
    // given twice fails as a duplicate.
    std::unordered_map<lt::sha1_hash, size_t> by_v1;
    std::unordered_map<lt::sha256_hash, size_t> by_v2;
    by_v1.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      auto& e = b.entries[i];
      out[i] = 0;
      codes[i] = e.code;
      if (e.code != BTX_OK) continue;
      codes[i] = BTX_E_ENGINE;  // until found
      bool fresh = e.hashes.has_v1() ? by_v1.emplace(e.hashes.v1, i).second : by_v2.emplace(e.hashes.v2, i).second;
      if (!fresh) codes[i] = BTX_E_DUPLICATE_TORRENT;
    }
    // A synchronous call is queued behind the adds on the network thread:
    // when it returns, libtorrent has processed every one of them.
    std::vector<lt::torrent_handle> all = ses.get_torrents();
    std::lock_guard<std::mutex> l(ss.torrents_mu);
    auto self = ss.shared_from_this();
    for (auto const& th : all) {
      lt::info_hash_t const ih = th.info_hashes();
      size_t i;
      if (ih.has_v1()) {
        auto f = by_v1.find(ih.v1);
        if (f == by_v1.end()) continue;
        i = f->second;
      } else {
        auto f = by_v2.find(ih.v2);
        if (f == by_v2.end()) continue;
        i = f->second;
      }
      if (codes[i] != BTX_E_ENGINE) continue;
      if (ss.torrents.count(th)) {  // it was there before this batch
        codes[i] = BTX_E_DUPLICATE_TORRENT;
        continue;
      }
      auto t = std::make_shared<btx::TorrentState>();
      t->session = self;
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
    // Adding thousands of torrents leaves the freed add parameters, parse
    // buffers and queued handlers scattered over the malloc arenas of this
    // thread and the network thread: give the whole free pages back.
#ifdef __GLIBC__
    if (n >= 256) malloc_trim(0);
#endif
    // Keep the first failure's text for the caller (the call itself succeeds).
    for (size_t i = 0; i < n; ++i) {
      if (codes[i] == BTX_OK) continue;
      std::string text = !b.first_error.empty() && b.entries[i].code != BTX_OK ? b.first_error
                         : codes[i] == BTX_E_DUPLICATE_TORRENT
                             ? "add list entry " + std::to_string(i) + ": the torrent is already in the session"
                             : "add list entry " + std::to_string(i) + ": libtorrent did not add it";
      btx::record_error(&ss, codes[i], text.c_str());
      break;
    }
    return BTX_OK;
  });
}
