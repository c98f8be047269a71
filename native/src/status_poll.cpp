// Incremental bulk status (btx_session_status_poll): libtorrent's state
// updates keep a mirror of every torrent's last status; a poll asks only for
// what changed (session::post_torrent_updates) and writes into the caller's
// buffers only the records that changed since those buffers were written.
#include <algorithm>
#include <cstring>

#include <libtorrent/alert_types.hpp>

#include "state.hpp"
#include "status.hpp"

namespace {

struct StatusPlugin final : lt::plugin {
  explicit StatusPlugin(std::shared_ptr<btx::StatusMirror> m) : mirror(std::move(m)) {}
  feature_flags_t implemented_features() override { return alert_feature; }
  // On libtorrent's network thread, as the alert is posted: nothing here
  // may call into the session.
  void on_alert(lt::alert const* a) override {
    if (a->type() != lt::state_update_alert::alert_type) return;
    auto const* u = static_cast<lt::state_update_alert const*>(a);
    std::lock_guard<std::mutex> l(mirror->pending_mu);
    mirror->pending.insert(mirror->pending.end(), u->status.begin(), u->status.end());
    ++mirror->received;
  }
  std::shared_ptr<btx::StatusMirror> mirror;
};

bool same_strings(lt::torrent_status const& a, lt::torrent_status const& b) {
  return a.name == b.name && a.save_path == b.save_path && a.current_tracker == b.current_tracker &&
         a.errc == b.errc;
}

// Brings the record list in step with the session's live torrents (in the
// order of the session's map), keeping what is known of each.
bool sync_layout(btx::SessionState& ss, btx::StatusMirror& m) {
  std::lock_guard<std::mutex> l(ss.torrents_mu);
  uint64_t const version = btx::torrents().version();
  if (version == m.table_version && ss.torrents.size() == m.map_size) return false;
  std::vector<uint32_t> ids;
  std::vector<lt::torrent_status> st;
  std::vector<lt::time_point> at;
  std::vector<uint32_t> mod;
  std::vector<int64_t> real;
  size_t const cap = ss.torrents.size();
  ids.reserve(cap);
  st.reserve(cap);
  at.reserve(cap);
  mod.reserve(cap);
  real.reserve(cap);
  std::unordered_map<uint32_t, uint32_t> slot;
  slot.reserve(cap);
  for (auto const& kv : ss.torrents) {
    uint32_t const id = kv.second.id;
    if (!btx::torrents().alive(id)) continue;  // removed, awaiting its last alert
    auto it = m.slot.find(id);
    if (it != m.slot.end()) {
      st.push_back(std::move(m.st[it->second]));
      at.push_back(m.at[it->second]);
      mod.push_back(m.mod[it->second]);
      real.push_back(m.real_size[it->second]);
    } else {
      st.emplace_back();
      st.back().handle = kv.first;
      at.emplace_back();
      mod.push_back(0);
      real.push_back(-1);
    }
    slot.emplace(id, static_cast<uint32_t>(ids.size()));
    ids.push_back(id);
  }
  m.ids = std::move(ids);
  m.st = std::move(st);
  m.at = std::move(at);
  m.mod = std::move(mod);
  m.real_size = std::move(real);
  m.slot = std::move(slot);
  m.table_version = version;
  m.map_size = ss.torrents.size();
  return true;
}

// Fields libtorrent derives from the clock, brought forward from when the
// status was taken to `now` (as torrent::active_time() and friends do).
void bring_forward(lt::torrent_status const& st, lt::time_point at, lt::time_point now, bool session_paused,
                   double* n) {
  if (at == lt::time_point{} || now <= at) return;
  double const el = static_cast<double>(lt::total_seconds(now - at));
  if (el <= 0) return;
  bool const running = !session_paused && !(st.flags & lt::torrent_flags::paused);
  if (!running) return;
  n[BTX_ST_ACTIVE_SECONDS] += el;
  if (st.is_finished) n[BTX_STX_FINISHED_SECONDS] += el;
  if (st.is_seeding) n[BTX_ST_SEEDING_SECONDS] += el;
  n[BTX_STX_NEXT_ANNOUNCE] = std::max(0.0, n[BTX_STX_NEXT_ANNOUNCE] - el);
}

// True when a record's numbers move with the clock alone.
bool timed(lt::torrent_status const& st) {
  return !(st.flags & lt::torrent_flags::paused) || st.last_upload != lt::time_point{} ||
         st.last_download != lt::time_point{};
}

}  // namespace

namespace btx {
std::shared_ptr<lt::plugin> status_plugin(std::shared_ptr<StatusMirror> m) {
  return std::make_shared<StatusPlugin>(std::move(m));
}

void post_status_updates(SessionState& ss, lt::session& ses) {
  {
    std::lock_guard<std::mutex> l(ss.status_mirror->pending_mu);
    ++ss.status_mirror->requested;
  }
  ses.post_torrent_updates(kStatusQuery);
}
}  // namespace btx

extern "C" BTX_API int32_t btx_session_status_poll(btx_session h, double* nums, uint32_t nums_cap, uint8_t* strs,
                                                   uint32_t strs_cap, uint32_t* io) {
  return btx::with_session(h, [&](btx::SessionState& ss, lt::session& ses) -> int32_t {
    if (!io || (!nums && nums_cap) || (!strs && strs_cap)) btx::fail(BTX_E_INVALID_ARGUMENT, "io is null");
    uint32_t const tag = io[0];
    std::fill(io, io + 8, 0u);
    btx::StatusMirror& m = *ss.status_mirror;
    std::lock_guard<std::mutex> lock(m.mu);
    uint32_t seq = ++m.seq;
    if (seq == 0) {  // wrapped (after 4e9 polls): every old tag is meaningless
      seq = m.seq = 1;
      m.layout_seq = m.strs_seq = 1;
    }

    // What changed, as libtorrent reports it. The plugin takes the alert on
    // the network thread while post_torrent_updates runs; the synchronous
    // is_paused() queued behind it returns after that.
    btx::post_status_updates(ss, ses);
    bool const session_paused = ses.is_paused();
    std::vector<lt::torrent_status> upd;
    bool lost;
    {
      std::lock_guard<std::mutex> l(m.pending_mu);
      upd.swap(m.pending);
      // Every post made so far (this one last) has been handled by now: one
      // missing was dropped (the alert queue was full).
      lost = m.received != m.requested;
      m.received = m.requested;
    }
    lt::time_point const now = lt::clock_type::now();

    bool strs_changed = sync_layout(ss, m);
    if (strs_changed) m.layout_seq = seq;
    if (!upd.empty()) {
      std::lock_guard<std::mutex> l(ss.torrents_mu);
      for (auto& u : upd) {
        auto e = ss.torrents.find(u.handle);
        if (e == ss.torrents.end()) continue;
        auto s = m.slot.find(e->second.id);
        if (s == m.slot.end()) continue;
        uint32_t const i = s->second;
        if (m.mod[i] == 0 || !same_strings(m.st[i], u)) strs_changed = true;
        m.st[i] = std::move(u);
        m.at[i] = now;
        m.mod[i] = seq;
      }
    }
    // Torrents not reported yet: ask libtorrent directly (one call for all).
    {
      std::vector<uint32_t> idx;
      for (uint32_t i = 0; i < m.st.size(); ++i)
        if (lost || m.mod[i] == 0) idx.push_back(i);
      if (!idx.empty() && idx.size() == m.st.size()) {
        // All of them (the first poll, or a lost update): in place, no second vector.
        ses.refresh_torrent_status(&m.st, btx::kStatusQuery);
        std::fill(m.at.begin(), m.at.end(), now);
        std::fill(m.mod.begin(), m.mod.end(), seq);
        strs_changed = true;
      } else if (!idx.empty()) {
        std::vector<lt::torrent_status> q(idx.size());
        for (size_t k = 0; k < idx.size(); ++k) q[k].handle = m.st[idx[k]].handle;
        ses.refresh_torrent_status(&q, btx::kStatusQuery);
        for (size_t k = 0; k < idx.size(); ++k) {
          uint32_t const i = idx[k];
          if (m.mod[i] == 0 || !same_strings(m.st[i], q[k])) strs_changed = true;
          m.st[i] = std::move(q[k]);
          m.at[i] = now;
          m.mod[i] = seq;
        }
      }
    }
    size_t const n = m.st.size();
    if (strs_changed) {
      m.soff.resize(n);
      uint64_t off = 0;
      for (size_t i = 0; i < n; ++i) {
        auto const& st = m.st[i];
        m.soff[i] = static_cast<uint32_t>(off);
        off += st.name.size() + st.save_path.size() + st.current_tracker.size();
        if (st.errc) off += btx::status_error(st).size();
        if (off > UINT32_MAX) btx::fail(BTX_E_INTERNAL, "status result too large");
      }
      m.strs_total = off;
      m.strs_seq = seq;
    }

    uint64_t const need_nums = static_cast<uint64_t>(n) * BTX_STATUS_EX_NUM_FIELDS;
    if (need_nums > UINT32_MAX) btx::fail(BTX_E_INTERNAL, "status result too large");
    io[2] = static_cast<uint32_t>(need_nums);
    io[3] = static_cast<uint32_t>(m.strs_total);
    if (need_nums > nums_cap || m.strs_total > strs_cap)
      btx::fail(BTX_E_BUFFER_TOO_SMALL, "status buffers too small: see io[2], io[3]");

    bool const full = tag == 0 || tag < m.layout_seq || tag >= seq;
    bool const strs_full = full || tag < m.strs_seq;
    uint32_t written = 0;
    for (size_t i = 0; i < n; ++i) {
      auto const& st = m.st[i];
      double* rec = nums + i * BTX_STATUS_EX_NUM_FIELDS;
      uint8_t* s = strs + m.soff[i];
      uint32_t const cap = static_cast<uint32_t>(strs_cap - m.soff[i]);
      if (full || m.mod[i] > tag || timed(st)) {
        if (m.real_size[i] < 0) {
          if (auto ti = st.torrent_file.lock()) m.real_size[i] = btx::real_total_size(*ti);
        }
        btx::fill_status(st, m.real_size[i], true, m.ids[i], now, rec, s, cap);
        bring_forward(st, m.at[i], now, session_paused, rec);
        rec[BTX_STX_STR_OFF] = m.soff[i];
        ++written;
      } else if (strs_full) {
        // Only where its strings are moved.
        uint32_t used = btx::put_str(st.name, s, cap);
        used += btx::put_str(st.save_path, s + used, cap - used);
        if (st.errc) used += btx::put_str(btx::status_error(st), s + used, cap - used);
        btx::put_str(st.current_tracker, s + used, cap - used);
        rec[BTX_STX_STR_OFF] = m.soff[i];
      }
    }
    io[0] = static_cast<uint32_t>(n);
    io[1] = static_cast<uint32_t>(m.strs_total);
    io[4] = seq;
    io[5] = written;
    io[6] = m.layout_seq;
    return BTX_OK;
  });
}
