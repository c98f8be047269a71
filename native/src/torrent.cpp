// Torrent control: add, remove, pause, resume, connect a peer, resume data.
#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/error_code.hpp>
#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/torrent_flags.hpp>
#include <libtorrent/torrent_info.hpp>

#include "state.hpp"

namespace {


void check_span(uint8_t const* buf, uint32_t len, char const* what) {
  if (!buf && len) btx::fail(BTX_E_INVALID_ARGUMENT, std::string(what) + ": null buffer");
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The common magnet of an info-hash alone, parsed without the general URI
// parser (adding thousands of torrents parses thousands of these).
bool plain_btih_magnet(std::string const& uri, lt::add_torrent_params& atp) {
  static constexpr char prefix[] = "magnet:?xt=urn:btih:";
  constexpr size_t plen = sizeof(prefix) - 1;
  if (uri.size() != plen + 40 || uri.compare(0, plen, prefix) != 0) return false;
  lt::sha1_hash h;
  for (size_t i = 0; i < 20; ++i) {
    int const hi = hex_value(uri[plen + 2 * i]), lo = hex_value(uri[plen + 2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    h[static_cast<int>(i)] = static_cast<char>((hi << 4) | lo);
  }
  atp.info_hashes = lt::info_hash_t(h);
  return true;
}

}  // namespace

namespace btx {

lt::add_torrent_params read_add_params(lt::bdecode_node const& d) {
  bool const by_hash = btx::dict_has(d, "info_hash_v1") || btx::dict_has(d, "info_hash_v2");
  int sources = btx::dict_has(d, "magnet") + btx::dict_has(d, "torrent") + btx::dict_has(d, "resume") +
                btx::dict_has(d, "torrent_file") + by_hash;
  if (sources != 1)
    btx::fail(BTX_E_INVALID_ARGUMENT, "give exactly one of magnet, torrent, resume, torrent_file, info-hash");

  lt::add_torrent_params atp;
  lt::error_code ec;
  if (btx::dict_has(d, "magnet")) {
    std::string uri = btx::dict_str(d, "magnet");
    if (plain_btih_magnet(uri, atp)) {
      // "magnet:?xt=urn:btih:<40 hex>": the info-hash alone, as parse_magnet_uri would give.
    } else
      lt::parse_magnet_uri(uri, atp, ec);
    if (ec) btx::fail(BTX_E_INVALID_MAGNET, "invalid magnet URI: " + ec.message());
    if (!atp.info_hashes.has_v1() && !atp.info_hashes.has_v2())
      btx::fail(BTX_E_INVALID_MAGNET, "invalid magnet URI: no valid info-hash (xt=urn:btih:<40 hex or 32 base32> or "
                                      "xt=urn:btmh:1220<64 hex>)");
  } else if (btx::dict_has(d, "torrent")) {
    std::string bytes = btx::dict_str(d, "torrent");
    auto ti = std::make_shared<lt::torrent_info>(lt::span<char const>(bytes.data(), static_cast<std::ptrdiff_t>(bytes.size())), ec,
                                                 lt::from_span);
    if (ec) btx::fail(BTX_E_INVALID_TORRENT, "invalid .torrent: " + ec.message());
    atp.ti = std::move(ti);
  } else if (btx::dict_has(d, "torrent_file")) {
    atp.ti = btx::load_torrent_file(btx::dict_str(d, "torrent_file"));
  } else if (by_hash) {
    atp.info_hashes = btx::info_hashes_of(d);
  } else {
    std::string bytes = btx::dict_str(d, "resume");
    atp = lt::read_resume_data(lt::span<char const>(bytes.data(), static_cast<std::ptrdiff_t>(bytes.size())), ec);
    if (ec) btx::fail(BTX_E_INVALID_RESUME, "invalid resume data: " + ec.message());
  }
  std::string save_path = btx::dict_str(d, "save_path");
  if (!save_path.empty()) atp.save_path = save_path;
  if (atp.save_path.empty()) btx::fail(BTX_E_INVALID_ARGUMENT, "save_path is required");
  std::string name = btx::dict_str(d, "name");
  if (!name.empty()) atp.name = name;
  auto set = static_cast<uint64_t>(btx::dict_int(d, "flags_set", 0));
  auto unset = static_cast<uint64_t>(btx::dict_int(d, "flags_unset", 0));
  atp.flags |= lt::torrent_flags_t(set) | lt::torrent_flags::duplicate_is_error;
  atp.flags &= ~lt::torrent_flags_t(unset);
  // Session.statusAll() follows libtorrent's state updates (status_poll.cpp).
  atp.flags |= lt::torrent_flags::update_subscribe;
  return atp;
}

}  // namespace btx

extern "C" BTX_API int32_t btx_torrent_add(btx_session sh, uint8_t const* params, uint32_t len, btx_torrent* out) {
  return btx::with_session(sh, [&](btx::SessionState& ss, lt::session& ses) -> int32_t {
    if (!out) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    check_span(params, len, "add parameters");
    auto d = btx::parse_dict(params, len, "add parameters");
    lt::add_torrent_params atp = btx::read_add_params(d);
    lt::error_code ec;

    lt::torrent_handle th = ses.add_torrent(std::move(atp), ec);
    if (ec == lt::errors::duplicate_torrent) btx::fail(BTX_E_DUPLICATE_TORRENT, "the torrent is already in the session");
    if (ec) btx::fail(BTX_E_ENGINE, "add_torrent: " + ec.message());

    auto t = std::make_shared<btx::TorrentState>();
    t->session = ss.shared_from_this();
    t->handle = th;
    uint32_t id = btx::torrents().insert(t);
    if (!id) {
      ses.remove_torrent(th);
      btx::fail(BTX_E_INTERNAL, "torrent table full");
    }
    t->id = id;
    {
      std::lock_guard<std::mutex> l(ss.torrents_mu);
      ss.torrents[th] = btx::TorrentEntry{id, false};
    }
    *out = id;
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_remove(btx_torrent h, uint32_t flags) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (flags & ~BTX_REMOVE_DELETE_FILES) btx::fail(BTX_E_INVALID_ARGUMENT, "unknown remove flags");
    auto& s = *t.session;  // with_torrent holds s.life: s.ses is alive
    bool del = flags & BTX_REMOVE_DELETE_FILES;
    {
      std::lock_guard<std::mutex> l(s.torrents_mu);
      auto it = s.torrents.find(t.handle);
      if (it != s.torrents.end()) it->second.deleting = del;
    }
    s.ses->remove_torrent(t.handle, del ? lt::session::delete_files : lt::remove_flags_t{});
    btx::torrents().release(h);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_pause(btx_torrent h) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    // An auto-managed torrent would be resumed by the queue: take it out.
    t.handle.unset_flags(lt::torrent_flags::auto_managed);
    t.handle.pause();
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_resume(btx_torrent h) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    t.handle.resume();
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_connect_peer(btx_torrent h, uint8_t const* host, uint32_t host_len, uint32_t port) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    check_span(host, host_len, "host");
    if (port == 0 || port > 65535) btx::fail(BTX_E_INVALID_ARGUMENT, "port must be 1..65535");
    lt::error_code ec;
    auto addr = lt::make_address(std::string(reinterpret_cast<char const*>(host), host_len), ec);
    if (ec) btx::fail(BTX_E_INVALID_ARGUMENT, "host must be a numeric IP address");
    t.handle.connect_peer(lt::tcp::endpoint(addr, static_cast<std::uint16_t>(port)));
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_save_resume(btx_torrent h) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    t.handle.save_resume_data(lt::torrent_handle::save_info_dict);
    return BTX_OK;
  });
}
