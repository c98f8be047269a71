// Bulk status: the extended status record of every torrent of a session in
// one libtorrent call (session::refresh_torrent_status over a vector kept
// between calls, so no status object or string is allocated per poll once
// the set of torrents is stable).
#include <unordered_map>

#include "state.hpp"
#include "status.hpp"

namespace {

// Brings the cache's torrent list in step with the session's live torrents
// (in the order of the session's map). Nothing to do, and no lock per
// torrent, when no torrent handle was issued or released since last time.
void sync_cache(btx::SessionState& ss, btx::StatusCache& c) {
  std::lock_guard<std::mutex> l(ss.torrents_mu);
  uint64_t const version = btx::torrents().version();
  if (version == c.table_version && ss.torrents.size() == c.map_size) return;
  std::unordered_map<uint32_t, size_t> old;
  old.reserve(c.ids.size());
  for (size_t i = 0; i < c.ids.size(); ++i) old.emplace(c.ids[i], i);
  std::vector<lt::torrent_status> st;
  std::vector<uint32_t> ids;
  std::vector<int64_t> real;
  st.reserve(ss.torrents.size());
  ids.reserve(ss.torrents.size());
  real.reserve(ss.torrents.size());
  for (auto const& kv : ss.torrents) {
    uint32_t id = kv.second.id;
    if (!btx::torrents().alive(id)) continue;  // removed, awaiting its last alert
    auto it = old.find(id);
    if (it != old.end()) {
      st.push_back(std::move(c.st[it->second]));
      real.push_back(c.real_size[it->second]);
    } else {
      st.emplace_back();
      st.back().handle = kv.first;
      real.push_back(-1);
    }
    ids.push_back(id);
  }
  c.st = std::move(st);
  c.ids = std::move(ids);
  c.real_size = std::move(real);
  c.table_version = version;
  c.map_size = ss.torrents.size();
}

}  // namespace

extern "C" BTX_API int32_t btx_session_status_all(btx_session h, double* nums, uint32_t nums_cap, uint8_t* strs,
                                                  uint32_t strs_cap, uint32_t* out) {
  return btx::with_session(h, [&](btx::SessionState& ss, lt::session& ses) -> int32_t {
    if (!out || (!nums && nums_cap) || (!strs && strs_cap)) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    out[0] = out[1] = out[2] = out[3] = 0;
    auto& c = ss.status_cache;
    std::lock_guard<std::mutex> l(c.mu);
    sync_cache(ss, c);
    ses.refresh_torrent_status(&c.st, btx::kStatusQuery);

    // One pass: write records while they fit, count what is needed anyway.
    size_t const n = c.st.size();
    uint64_t const need_nums = static_cast<uint64_t>(n) * BTX_STATUS_EX_NUM_FIELDS;
    bool fits = need_nums <= nums_cap;
    uint64_t need_strs = 0;
    lt::time_point const now = lt::clock_type::now();
    for (size_t i = 0; i < n; ++i) {
      auto const& st = c.st[i];
      uint64_t len = st.name.size() + st.save_path.size() + st.current_tracker.size();
      std::string err;
      if (st.errc) {
        err = btx::status_error(st);
        len += err.size();
      }
      need_strs += len;
      if (need_strs > strs_cap) fits = false;
      if (!fits) continue;
      if (c.real_size[i] < 0) {
        if (auto ti = st.torrent_file.lock()) c.real_size[i] = btx::real_total_size(*ti);
      }
      btx::fill_status(st, c.real_size[i], true, c.ids[i], now, nums + i * BTX_STATUS_EX_NUM_FIELDS,
                       strs + (need_strs - len), static_cast<uint32_t>(len));
      nums[i * BTX_STATUS_EX_NUM_FIELDS + BTX_STX_STR_OFF] = static_cast<double>(need_strs - len);
    }
    if (need_nums > UINT32_MAX || need_strs > UINT32_MAX) btx::fail(BTX_E_INTERNAL, "status result too large");
    out[2] = static_cast<uint32_t>(need_nums);
    out[3] = static_cast<uint32_t>(need_strs);
    if (!fits) btx::fail(BTX_E_BUFFER_TOO_SMALL, "status buffers too small: see out[2], out[3]");
    out[0] = static_cast<uint32_t>(n);
    out[1] = static_cast<uint32_t>(need_strs);
    return BTX_OK;
  });
}
