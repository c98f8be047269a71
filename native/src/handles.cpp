// The handle tables, bencoded-argument readers and blobs.
#include <cstring>

#include <libtorrent/settings_pack.hpp>

#include "state.hpp"

namespace btx {

HandleTable<SessionState>& sessions() {
  static HandleTable<SessionState> t;
  return t;
}
HandleTable<TorrentState>& torrents() {
  static HandleTable<TorrentState> t;
  return t;
}
HandleTable<std::vector<char>>& blobs() {
  static HandleTable<std::vector<char>> t;
  return t;
}

std::shared_ptr<SessionState> session_of(btx_session h) {
  auto s = sessions().get(h);
  if (!s) fail(BTX_E_BAD_HANDLE, "session handle is closed or invalid");
  return s;
}

std::shared_ptr<TorrentState> torrent_of(btx_torrent h) {
  auto t = torrents().get(h);
  if (!t) fail(BTX_E_BAD_HANDLE, "torrent handle is removed or invalid");
  return t;
}

uint32_t store_blob(std::vector<char> bytes) {
  uint32_t id = blobs().insert(std::make_shared<std::vector<char>>(std::move(bytes)));
  if (!id) fail(BTX_E_INTERNAL, "blob table full");
  return id;
}

lt::bdecode_node parse_dict(uint8_t const* buf, uint32_t len, char const* what) {
  lt::bdecode_node n;
  if (len == 0) {
    static char const empty[] = "de";
    lt::error_code ec;
    n = lt::bdecode({empty, 2}, ec);
    return n;
  }
  if (!buf) fail(BTX_E_INVALID_ARGUMENT, std::string(what) + ": null buffer");
  lt::error_code ec;
  int pos = 0;
  n = lt::bdecode({reinterpret_cast<char const*>(buf), static_cast<std::ptrdiff_t>(len)}, ec, &pos, 100, 1000000);
  if (ec) fail(BTX_E_INVALID_ARGUMENT, std::string(what) + ": not bencoded: " + ec.message());
  if (n.type() != lt::bdecode_node::dict_t) fail(BTX_E_INVALID_ARGUMENT, std::string(what) + ": not a dictionary");
  return n;
}

bool dict_has(lt::bdecode_node const& d, char const* key) { return bool(d.dict_find(key)); }

std::string dict_str(lt::bdecode_node const& d, char const* key, std::string missing) {
  auto v = d.dict_find(key);
  if (!v) return missing;
  if (v.type() != lt::bdecode_node::string_t) fail(BTX_E_INVALID_ARGUMENT, std::string(key) + " must be a string");
  return std::string(v.string_value());
}

int64_t dict_int(lt::bdecode_node const& d, char const* key, int64_t missing) {
  auto v = d.dict_find(key);
  if (!v) return missing;
  if (v.type() != lt::bdecode_node::int_t) fail(BTX_E_INVALID_ARGUMENT, std::string(key) + " must be an integer");
  lt::error_code ec;
  int64_t x = v.int_value();
  return x;
}

std::vector<std::string> dict_str_list(lt::bdecode_node const& d, char const* key) {
  std::vector<std::string> out;
  auto v = d.dict_find(key);
  if (!v) return out;
  if (v.type() != lt::bdecode_node::list_t) fail(BTX_E_INVALID_ARGUMENT, std::string(key) + " must be a list");
  for (int i = 0; i < v.list_size(); ++i) {
    auto e = v.list_at(i);
    if (e.type() != lt::bdecode_node::string_t) fail(BTX_E_INVALID_ARGUMENT, std::string(key) + " must hold strings");
    out.emplace_back(e.string_value());
  }
  return out;
}

void read_settings(lt::bdecode_node const& dict, lt::settings_pack& pack) {
  for (int i = 0; i < dict.dict_size(); ++i) {
    auto kv = dict.dict_at(i);
    std::string name(kv.first);
    int const s = lt::setting_by_name(name);
    if (s < 0) fail(BTX_E_UNKNOWN_SETTING, "unknown setting '" + name + "'");
    auto const& v = kv.second;
    switch (s & lt::settings_pack::type_mask) {
      case lt::settings_pack::string_type_base:
        if (v.type() != lt::bdecode_node::string_t) fail(BTX_E_SETTING_TYPE, "setting '" + name + "' takes a string");
        pack.set_str(s, std::string(v.string_value()));
        break;
      case lt::settings_pack::int_type_base: {
        if (v.type() != lt::bdecode_node::int_t) fail(BTX_E_SETTING_TYPE, "setting '" + name + "' takes an integer");
        int64_t x = v.int_value();
        if (x < INT32_MIN || x > INT32_MAX) fail(BTX_E_SETTING_TYPE, "setting '" + name + "' is out of the 32-bit range");
        pack.set_int(s, static_cast<int>(x));
        break;
      }
      case lt::settings_pack::bool_type_base: {
        if (v.type() != lt::bdecode_node::int_t || (v.int_value() != 0 && v.int_value() != 1))
          fail(BTX_E_SETTING_TYPE, "setting '" + name + "' takes a boolean");
        pack.set_bool(s, v.int_value() != 0);
        break;
      }
      default:
        fail(BTX_E_UNKNOWN_SETTING, "unknown setting type for '" + name + "'");
    }
  }
}

}  // namespace btx

extern "C" BTX_API int32_t btx_blob_take(uint32_t blob, uint8_t* buf, uint32_t cap) {
  return btx::guard(nullptr, [&]() -> int32_t {
    auto b = btx::blobs().get(blob);
    if (!b) btx::fail(BTX_E_BAD_HANDLE, "blob id is invalid or already taken");
    if (b->size() > cap || (!buf && !b->empty())) btx::fail(BTX_E_BUFFER_TOO_SMALL, "buffer smaller than the blob");
    if (!b->empty()) std::memcpy(buf, b->data(), b->size());
    btx::blobs().release(blob);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_blob_free(uint32_t blob) {
  return btx::guard(nullptr, [&]() -> int32_t {
    if (!btx::blobs().release(blob)) btx::fail(BTX_E_BAD_HANDLE, "blob id is invalid or already taken");
    return BTX_OK;
  });
}
