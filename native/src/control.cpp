// Torrent control: recheck, reannounce, scrape, move, rename, flags,
// priorities, limits, deadlines, queue, trackers, web seeds, resume data.
// Every index is checked against the torrent's metadata here: libtorrent
// asserts (or misbehaves) on out-of-range indices.
#include <chrono>
#include <climits>
#include <filesystem>

#include <libtorrent/announce_entry.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/download_priority.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/storage_defs.hpp>
#include <libtorrent/torrent_flags.hpp>
#include <libtorrent/torrent_info.hpp>

#include "state.hpp"

namespace fs = std::filesystem;

namespace btx {

std::shared_ptr<lt::torrent_info> load_torrent_file(std::string const& path) {
  if (path.empty()) fail(BTX_E_INVALID_ARGUMENT, "torrent_file is empty");
  std::error_code fec;
  if (!fs::is_regular_file(fs::path(path), fec)) fail(BTX_E_PATH_NOT_FOUND, "no such .torrent file: " + path);
  lt::error_code ec;
  auto ti = std::make_shared<lt::torrent_info>(path, ec);
  if (ec) fail(BTX_E_INVALID_TORRENT, "invalid .torrent file " + path + ": " + ec.message());
  return ti;
}

lt::info_hash_t info_hashes_of(lt::bdecode_node const& d) {
  lt::info_hash_t ih;
  if (dict_has(d, "info_hash_v1")) {
    std::string h = dict_str(d, "info_hash_v1");
    if (h.size() != 20) fail(BTX_E_INVALID_ARGUMENT, "info_hash_v1 must be 20 bytes");
    ih.v1 = lt::sha1_hash(h.data());
  }
  if (dict_has(d, "info_hash_v2")) {
    std::string h = dict_str(d, "info_hash_v2");
    if (h.size() != 32) fail(BTX_E_INVALID_ARGUMENT, "info_hash_v2 must be 32 bytes");
    ih.v2 = lt::sha256_hash(h.data());
  }
  if (!ih.has_v1() && !ih.has_v2()) fail(BTX_E_INVALID_ARGUMENT, "an all-zero info-hash names no torrent");
  return ih;
}

}  // namespace btx

namespace {

// The torrent's metadata, or BTX_E_NO_METADATA.
std::shared_ptr<lt::torrent_info const> metadata(btx::TorrentState& t) {
  auto ti = t.handle.torrent_file();
  if (!ti || !ti->is_valid()) btx::fail(BTX_E_NO_METADATA, "the torrent's metadata is not known yet");
  return ti;
}

lt::file_index_t file_index(btx::TorrentState& t, int32_t index) {
  auto ti = metadata(t);
  if (index < 0 || index >= ti->num_files())
    btx::fail(BTX_E_INVALID_ARGUMENT,
              "file index " + std::to_string(index) + " is out of range (0.." + std::to_string(ti->num_files() - 1) + ")");
  return lt::file_index_t(index);
}

lt::piece_index_t piece_index(btx::TorrentState& t, int32_t index) {
  auto ti = metadata(t);
  if (index < 0 || index >= ti->num_pieces())
    btx::fail(BTX_E_INVALID_ARGUMENT, "piece index " + std::to_string(index) + " is out of range (0.." +
                                          std::to_string(ti->num_pieces() - 1) + ")");
  return lt::piece_index_t(index);
}

lt::download_priority_t priority(uint32_t p) {
  if (p > 7) btx::fail(BTX_E_INVALID_ARGUMENT, "priority must be 0..7");
  return lt::download_priority_t(static_cast<std::uint8_t>(p));
}

std::string text(uint8_t const* buf, uint32_t len, char const* what) {
  if (!buf || len == 0) btx::fail(BTX_E_INVALID_ARGUMENT, std::string(what) + " must not be empty");
  std::string s(reinterpret_cast<char const*>(buf), len);
  if (s.find('\0') != std::string::npos) btx::fail(BTX_E_INVALID_ARGUMENT, std::string(what) + " contains a NUL byte");
  return s;
}

void check_tracker_index(btx::TorrentState& t, int32_t index) {
  if (index == -1) return;
  auto n = static_cast<int32_t>(t.handle.trackers().size());
  if (index < 0 || index >= n)
    btx::fail(BTX_E_INVALID_ARGUMENT, "tracker index " + std::to_string(index) + " is out of range (" +
                                          std::to_string(n) + " trackers; -1 = all)");
}

uint32_t store(lt::entry const& e, uint32_t* out_blob, uint32_t* out_size) {
  std::vector<char> buf;
  lt::bencode(std::back_inserter(buf), e);
  *out_size = static_cast<uint32_t>(buf.size());
  *out_blob = btx::store_blob(std::move(buf));
  return *out_blob;
}

std::string ep_str(lt::tcp::endpoint const& ep) {
  std::string addr = ep.address().to_string();
  if (ep.address().is_v6()) return "[" + addr + "]:" + std::to_string(ep.port());
  return addr + ":" + std::to_string(ep.port());
}

// Bits btx_torrent_set_flags may change.
constexpr lt::torrent_flags_t kSettable = lt::torrent_flags::seed_mode | lt::torrent_flags::upload_mode |
                                          lt::torrent_flags::share_mode | lt::torrent_flags::apply_ip_filter |
                                          lt::torrent_flags::auto_managed | lt::torrent_flags::super_seeding |
                                          lt::torrent_flags::sequential_download | lt::torrent_flags::stop_when_ready |
                                          lt::torrent_flags::disable_dht | lt::torrent_flags::disable_lsd |
                                          lt::torrent_flags::disable_pex;

// libtorrent reports "unlimited" as -1, 0 or a huge number; callers see 0.
int32_t limit_out(int v) { return (v <= 0 || v >= (1 << 24) - 1) ? 0 : v; }

}  // namespace

extern "C" BTX_API int32_t btx_torrent_force_recheck(btx_torrent h) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    metadata(t);
    t.handle.force_recheck();
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_force_reannounce(btx_torrent h, int32_t seconds, int32_t tracker_index,
                                                        uint32_t flags) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (seconds < 0) btx::fail(BTX_E_INVALID_ARGUMENT, "seconds must be >= 0");
    if (flags & ~BTX_REANNOUNCE_IGNORE_MIN_INTERVAL) btx::fail(BTX_E_INVALID_ARGUMENT, "unknown reannounce flags");
    check_tracker_index(t, tracker_index);
    lt::reannounce_flags_t f{};
    if (flags & BTX_REANNOUNCE_IGNORE_MIN_INTERVAL) f = lt::torrent_handle::ignore_min_interval;
    t.handle.force_reannounce(seconds, tracker_index, f);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_scrape(btx_torrent h, int32_t tracker_index) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    check_tracker_index(t, tracker_index);
    t.handle.scrape_tracker(tracker_index);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_clear_error(btx_torrent h) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    t.handle.clear_error();
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_move_storage(btx_torrent h, uint8_t const* path, uint32_t len, uint32_t policy) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    std::string p = text(path, len, "path");
    lt::move_flags_t f;
    switch (policy) {
      case BTX_MOVE_REPLACE: f = lt::move_flags_t::always_replace_files; break;
      case BTX_MOVE_KEEP: f = lt::move_flags_t::dont_replace; break;
      case BTX_MOVE_FAIL: f = lt::move_flags_t::fail_if_exist; break;
      default: btx::fail(BTX_E_INVALID_ARGUMENT, "policy must be 0 (replace), 1 (keep) or 2 (fail)");
    }
    t.handle.move_storage(p, f);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_rename_file(btx_torrent h, int32_t index, uint8_t const* name, uint32_t len) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    std::string n = text(name, len, "name");
    t.handle.rename_file(file_index(t, index), n);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_flags(btx_torrent h, uint32_t* out) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!out) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    auto bits = static_cast<std::uint64_t>(t.handle.flags());
    out[0] = static_cast<uint32_t>(bits & 0xffffffffu);
    out[1] = static_cast<uint32_t>(bits >> 32);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_set_flags(btx_torrent h, uint32_t flags, uint32_t mask) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    lt::torrent_flags_t m(mask), f(flags);
    if (m & ~kSettable) btx::fail(BTX_E_INVALID_ARGUMENT, "mask holds flags that cannot be changed this way");
    if (f & ~m) btx::fail(BTX_E_INVALID_ARGUMENT, "flags outside mask");
    if (f & lt::torrent_flags::seed_mode)
      btx::fail(BTX_E_INVALID_ARGUMENT, "seed mode can only be set when adding a torrent (it can be cleared)");
    t.handle.set_flags(f, m);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_file_priority(btx_torrent h, int32_t index, uint32_t* out) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!out) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    *out = static_cast<std::uint8_t>(t.handle.file_priority(file_index(t, index)));
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_set_file_priority(btx_torrent h, int32_t index, uint32_t prio) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    auto p = priority(prio);
    t.handle.file_priority(file_index(t, index), p);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_file_priorities(btx_torrent h, uint8_t* buf, uint32_t cap, uint32_t* out_count) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!out_count || (!buf && cap)) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    auto ti = metadata(t);
    auto prios = t.handle.get_file_priorities();
    auto n = static_cast<uint32_t>(ti->num_files());
    *out_count = n;
    if (cap < n) return btx::record_error(t.session.get(), BTX_E_BUFFER_TOO_SMALL, "buffer smaller than the file count");
    // libtorrent's vector may be shorter than the file count: the rest are default.
    for (uint32_t i = 0; i < n; ++i)
      buf[i] = i < prios.size() ? static_cast<std::uint8_t>(prios[i]) : static_cast<std::uint8_t>(lt::default_priority);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_set_file_priorities(btx_torrent h, uint8_t const* prios, uint32_t count) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    auto ti = metadata(t);
    if (count != static_cast<uint32_t>(ti->num_files()))
      btx::fail(BTX_E_INVALID_ARGUMENT, "give one priority per file (" + std::to_string(ti->num_files()) + "), not " +
                                            std::to_string(count));
    if (!prios && count) btx::fail(BTX_E_INVALID_ARGUMENT, "priorities is null");
    std::vector<lt::download_priority_t> v;
    v.reserve(count);
    for (uint32_t i = 0; i < count; ++i) v.push_back(priority(prios[i]));
    t.handle.prioritize_files(v);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_piece_priority(btx_torrent h, int32_t index, uint32_t* out) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!out) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    *out = static_cast<std::uint8_t>(t.handle.piece_priority(piece_index(t, index)));
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_set_piece_priority(btx_torrent h, int32_t index, uint32_t prio) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    auto p = priority(prio);
    t.handle.piece_priority(piece_index(t, index), p);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_limits(btx_torrent h, int32_t* out) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!out) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    out[BTX_LIMIT_UPLOAD_RATE] = limit_out(t.handle.upload_limit());
    out[BTX_LIMIT_DOWNLOAD_RATE] = limit_out(t.handle.download_limit());
    out[BTX_LIMIT_MAX_CONNECTIONS] = limit_out(t.handle.max_connections());
    out[BTX_LIMIT_MAX_UPLOADS] = limit_out(t.handle.max_uploads());
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_set_limit(btx_torrent h, uint32_t which, int32_t value) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (value < 0) btx::fail(BTX_E_INVALID_ARGUMENT, "a limit must be >= 0 (0 = unlimited)");
    switch (which) {
      case BTX_LIMIT_UPLOAD_RATE: t.handle.set_upload_limit(value == 0 ? -1 : value); break;
      case BTX_LIMIT_DOWNLOAD_RATE: t.handle.set_download_limit(value == 0 ? -1 : value); break;
      case BTX_LIMIT_MAX_CONNECTIONS:
        if (value >= (1 << 24) - 1) btx::fail(BTX_E_INVALID_ARGUMENT, "max connections must be < 16777215");
        t.handle.set_max_connections(value == 0 ? -1 : value);
        break;
      case BTX_LIMIT_MAX_UPLOADS:
        if (value >= (1 << 24) - 1) btx::fail(BTX_E_INVALID_ARGUMENT, "max uploads must be < 16777215");
        t.handle.set_max_uploads(value == 0 ? -1 : value);
        break;
      default: btx::fail(BTX_E_INVALID_ARGUMENT, "unknown limit");
    }
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_set_piece_deadline(btx_torrent h, int32_t piece, int32_t ms, uint32_t flags) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (ms < 0) btx::fail(BTX_E_INVALID_ARGUMENT, "deadline must be >= 0 ms");
    if (flags & ~BTX_DEADLINE_ALERT) btx::fail(BTX_E_INVALID_ARGUMENT, "unknown deadline flags");
    auto p = piece_index(t, piece);
    t.handle.set_piece_deadline(p, ms, (flags & BTX_DEADLINE_ALERT) ? lt::torrent_handle::alert_when_available
                                                                   : lt::deadline_flags_t{});
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_reset_piece_deadline(btx_torrent h, int32_t piece) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    t.handle.reset_piece_deadline(piece_index(t, piece));
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_clear_piece_deadlines(btx_torrent h) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    t.handle.clear_piece_deadlines();
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_queue_position(btx_torrent h, int32_t* out) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!out) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    *out = static_cast<int32_t>(static_cast<int>(t.handle.queue_position()));
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_queue(btx_torrent h, uint32_t op, int32_t position) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    switch (op) {
      case BTX_QUEUE_SET:
        if (position < 0) btx::fail(BTX_E_INVALID_ARGUMENT, "queue position must be >= 0");
        t.handle.queue_position_set(lt::queue_position_t(position));
        break;
      case BTX_QUEUE_UP: t.handle.queue_position_up(); break;
      case BTX_QUEUE_DOWN: t.handle.queue_position_down(); break;
      case BTX_QUEUE_TOP: t.handle.queue_position_top(); break;
      case BTX_QUEUE_BOTTOM: t.handle.queue_position_bottom(); break;
      default: btx::fail(BTX_E_INVALID_ARGUMENT, "unknown queue operation");
    }
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_trackers(btx_torrent h, uint32_t* out_blob, uint32_t* out_size) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!out_blob || !out_size) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    std::vector<lt::announce_entry> trackers = t.handle.trackers();
    lt::info_hash_t const ih = t.handle.info_hashes();
    auto const now = lt::clock_type::now();
    auto from_now = [&](lt::time_point32 tp) -> int64_t {
      return std::chrono::duration_cast<std::chrono::seconds>(tp - now).count();
    };
    lt::entry list(lt::entry::list_t);
    for (auto const& ae : trackers) {
      lt::entry e(lt::entry::dictionary_t);
      e["url"] = ae.url;
      e["tier"] = ae.tier;
      e["source"] = ae.source;
      e["verified"] = ae.verified ? 1 : 0;
      e["fail_limit"] = ae.fail_limit;
      lt::entry eps(lt::entry::list_t);
      for (auto const& ep : ae.endpoints) {
        lt::entry x(lt::entry::dictionary_t);
        x["local"] = ep_str(ep.local_endpoint);
        x["enabled"] = ep.enabled ? 1 : 0;
        for (auto v : {lt::protocol_version::V1, lt::protocol_version::V2}) {
          if (!ih.has(v)) continue;
          auto const& a = ep.info_hashes[v];
          lt::entry y(lt::entry::dictionary_t);
          y["message"] = a.message;
          y["error"] = a.last_error ? a.last_error.message() : std::string();
          y["fails"] = static_cast<int>(a.fails);
          y["updating"] = a.updating ? 1 : 0;
          y["start_sent"] = a.start_sent ? 1 : 0;
          y["complete_sent"] = a.complete_sent ? 1 : 0;
          if (a.next_announce != (lt::time_point32::min)()) y["next_announce"] = from_now(a.next_announce);
          if (a.min_announce != (lt::time_point32::min)()) y["min_announce"] = from_now(a.min_announce);
          y["scrape_complete"] = a.scrape_complete;
          y["scrape_incomplete"] = a.scrape_incomplete;
          y["scrape_downloaded"] = a.scrape_downloaded;
          x[v == lt::protocol_version::V1 ? "v1" : "v2"] = std::move(y);
        }
        eps.list().push_back(std::move(x));
      }
      e["endpoints"] = std::move(eps);
      list.list().push_back(std::move(e));
    }
    store(list, out_blob, out_size);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_add_tracker(btx_torrent h, uint8_t const* url, uint32_t len, uint32_t tier) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    std::string u = text(url, len, "tracker URL");
    if (tier > 255) btx::fail(BTX_E_INVALID_ARGUMENT, "tier must be 0..255");
    lt::announce_entry ae(u);
    ae.tier = static_cast<std::uint8_t>(tier);
    t.handle.add_tracker(ae);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_replace_trackers(btx_torrent h, uint8_t const* list, uint32_t len) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!list && len) btx::fail(BTX_E_INVALID_ARGUMENT, "list is null");
    auto d = btx::parse_dict(list, len, "tracker list");
    auto l = d.dict_find("trackers");
    if (!l || l.type() != lt::bdecode_node::list_t) btx::fail(BTX_E_INVALID_ARGUMENT, "trackers must be a list");
    std::vector<lt::announce_entry> v;
    for (int i = 0; i < l.list_size(); ++i) {
      auto x = l.list_at(i);
      if (x.type() != lt::bdecode_node::dict_t) btx::fail(BTX_E_INVALID_ARGUMENT, "each tracker must be a dictionary");
      std::string u = btx::dict_str(x, "url");
      if (u.empty() || u.find('\0') != std::string::npos)
        btx::fail(BTX_E_INVALID_ARGUMENT, "tracker " + std::to_string(i) + ": url must be a non-empty string");
      int64_t tier = btx::dict_int(x, "tier", 0);
      if (tier < 0 || tier > 255) btx::fail(BTX_E_INVALID_ARGUMENT, "tracker " + std::to_string(i) + ": tier must be 0..255");
      lt::announce_entry ae(u);
      ae.tier = static_cast<std::uint8_t>(tier);
      v.push_back(std::move(ae));
    }
    t.handle.replace_trackers(v);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_web_seeds(btx_torrent h, uint32_t* out_blob, uint32_t* out_size) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!out_blob || !out_size) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    lt::entry list(lt::entry::list_t);
    for (auto const& u : t.handle.url_seeds()) list.list().emplace_back(u);
    store(list, out_blob, out_size);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_add_web_seed(btx_torrent h, uint8_t const* url, uint32_t len) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    t.handle.add_url_seed(text(url, len, "web seed URL"));
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_remove_web_seed(btx_torrent h, uint8_t const* url, uint32_t len) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    t.handle.remove_url_seed(text(url, len, "web seed URL"));
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_need_save_resume(btx_torrent h, uint32_t* out) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!out) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    *out = t.handle.need_save_resume_data() ? 1u : 0u;
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_save_resume_flags(btx_torrent h, uint32_t flags) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (flags & ~(BTX_RESUME_FLUSH_DISK_CACHE | BTX_RESUME_SAVE_INFO_DICT | BTX_RESUME_ONLY_IF_MODIFIED))
      btx::fail(BTX_E_INVALID_ARGUMENT, "unknown resume data flags");
    lt::resume_data_flags_t f{};
    if (flags & BTX_RESUME_FLUSH_DISK_CACHE) f |= lt::torrent_handle::flush_disk_cache;
    if (flags & BTX_RESUME_SAVE_INFO_DICT) f |= lt::torrent_handle::save_info_dict;
    if (flags & BTX_RESUME_ONLY_IF_MODIFIED) f |= lt::torrent_handle::only_if_modified;
    t.handle.save_resume_data(f);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_flush_cache(btx_torrent h) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    metadata(t);  // without storage libtorrent posts no alert
    t.handle.flush_cache();
    return BTX_OK;
  });
}

