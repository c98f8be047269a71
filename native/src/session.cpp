// Session lifecycle: open, settings, close, listen port, and the readiness
// wait that lets a caller sleep until libtorrent posts alerts.
#include <chrono>

#include <libtorrent/alert.hpp>
#include <libtorrent/ip_filter.hpp>
#include <libtorrent/posix_disk_io.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/settings_pack.hpp>
#include <libtorrent/version.hpp>

#include "state.hpp"

namespace {

constexpr lt::alert_category_t kDefaultAlertMask =
    lt::alert_category::error | lt::alert_category::status | lt::alert_category::storage |
    lt::alert_category::tracker | lt::alert_category::connect | lt::alert_category::ip_block |
    lt::alert_category::performance_warning | lt::alert_category::dht |
    lt::alert_category::file_progress | lt::alert_category::piece_progress |
    lt::alert_category::port_mapping | lt::alert_category::dht_operation;

}  // namespace

extern "C" BTX_API uint32_t btx_abi_version(void) { return BTX_ABI_VERSION; }

extern "C" BTX_API int32_t btx_version(uint8_t* buf, uint32_t cap, uint32_t* out_len) {
  return btx::guard(nullptr, [&]() -> int32_t {
    return btx::write_out(std::string("libtorrentxt/") + std::to_string(BTX_ABI_VERSION) + " libtorrent/" + lt::version(),
                          buf, cap, out_len);
  });
}

extern "C" BTX_API int32_t btx_session_open(uint8_t const* settings, uint32_t len, uint32_t flags, btx_session* out) {
  return btx_session_open_state(settings, len, nullptr, 0, flags, out);
}

// btx_session_open with a saved state (session_ctl.cpp reads it): the
// state's settings first, ours on top; its DHT state goes to the engine.
extern "C" BTX_API int32_t btx_session_open_state(uint8_t const* settings, uint32_t len, uint8_t const* state,
                                                  uint32_t state_len, uint32_t flags, btx_session* out) {
  return btx::guard(nullptr, [&]() -> int32_t {
    if (!out) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    if (flags & ~(BTX_SESSION_POSIX_DISK_IO | BTX_SESSION_LOOPBACK_ONLY)) btx::fail(BTX_E_INVALID_ARGUMENT, "unknown session flags");
    auto dict = btx::parse_dict(settings, len, "settings");
    lt::session_params restored = btx::read_state(state, state_len);
    lt::settings_pack pack = std::move(restored.settings);
    pack.set_int(lt::settings_pack::alert_mask, static_cast<int>(static_cast<std::uint32_t>(kDefaultAlertMask)));
    btx::read_settings(dict, pack);

    lt::session_params params(std::move(pack));
    params.dht_state = std::move(restored.dht_state);
    if (flags & BTX_SESSION_POSIX_DISK_IO) params.disk_io_constructor = lt::posix_disk_io_constructor;
    if (flags & BTX_SESSION_LOOPBACK_ONLY) params.ip_filter = btx::loopback_only_filter();

    auto s = std::make_shared<btx::SessionState>();
    s->flags = flags;
    params.extensions.push_back(btx::status_plugin(s->status_mirror));
    s->ses = std::make_unique<lt::session>(std::move(params));
    std::shared_ptr<btx::Notifier> n = s->notifier;
    s->ses->set_alert_notify([n] { n->signal(); });
    uint32_t id = btx::sessions().insert(s);
    if (!id) btx::fail(BTX_E_INTERNAL, "session table full");
    s->id = id;
    *out = id;
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_session_apply_settings(btx_session h, uint8_t const* settings, uint32_t len) {
  return btx::with_session(h, [&](btx::SessionState&, lt::session& ses) -> int32_t {
    auto dict = btx::parse_dict(settings, len, "settings");
    lt::settings_pack pack;
    btx::read_settings(dict, pack);
    ses.apply_settings(std::move(pack));
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_session_close(btx_session h) {
  return btx::guard(nullptr, [&]() -> int32_t {
    auto s = btx::sessions().release(h);
    if (!s) btx::fail(BTX_E_BAD_HANDLE, "session handle is closed or invalid");
    // Wake the waiter first: it must not sleep through the shutdown.
    {
      std::lock_guard<std::mutex> l(s->notifier->mu);
      s->notifier->closing = true;
    }
    s->notifier->cv.notify_all();
    // Invalidate every torrent handle of this session.
    {
      std::lock_guard<std::mutex> l(s->torrents_mu);
      for (auto const& kv : s->torrents) btx::torrents().release(kv.second.id);
      s->torrents.clear();
    }
    std::unique_ptr<lt::session> ses;
    {
      std::unique_lock<std::shared_mutex> l(s->life);
      {
        // Again, now that no call is in flight: a btx_torrent_add that raced
        // the loop above has inserted its handle by now.
        std::lock_guard<std::mutex> t(s->torrents_mu);
        for (auto const& kv : s->torrents) btx::torrents().release(kv.second.id);
        s->torrents.clear();
      }
      std::lock_guard<std::mutex> d(s->drain_mu);
      s->alerts.clear();
      s->next_alert = 0;
      ses = std::move(s->ses);
    }
    if (ses) {
      ses->set_alert_notify([] {});
      ses->pause();
      ses.reset();  // joins libtorrent's threads
    }
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_session_listen_port(btx_session h, uint32_t* out_port) {
  return btx::with_session(h, [&](btx::SessionState&, lt::session& ses) -> int32_t {
    if (!out_port) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    *out_port = ses.listen_port();
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_session_wait(btx_session h, int32_t timeout_ms) {
  // Takes only the notifier: a concurrent close releases the session but the
  // notifier stays alive through this shared_ptr.
  std::shared_ptr<btx::Notifier> n;
  {
    auto s = btx::sessions().get(h);
    if (!s) return btx::record_error(nullptr, BTX_E_CLOSED, "session is closed");
    n = s->notifier;
  }
  return btx::guard(nullptr, [&]() -> int32_t {
    std::unique_lock<std::mutex> l(n->mu);
    auto done = [&] { return n->ready || n->closing; };
    if (timeout_ms < 0) {
      n->cv.wait(l, done);
    } else if (!n->cv.wait_for(l, std::chrono::milliseconds(timeout_ms), done)) {
      return BTX_E_TIMEOUT;
    }
    if (n->closing) return BTX_E_CLOSED;
    n->ready = false;
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_session_wake(btx_session h) {
  auto s = btx::sessions().get(h);
  return btx::guard(s.get(), [&]() -> int32_t {
    if (!s) btx::fail(BTX_E_BAD_HANDLE, "session handle is closed or invalid");
    s->notifier->signal();
    return BTX_OK;
  });
}
