// Settings by name: the catalog of every libtorrent setting (name, type,
// default) and a session's current values. Writing goes through
// btx_session_apply_settings (handles.cpp reads and validates the values).
#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/settings_pack.hpp>

#include "state.hpp"

namespace {

using sp = lt::settings_pack;

// Calls f(setting id) for every setting, in libtorrent's order.
template <class F>
void for_each_setting(F&& f) {
  for (int i = 0; i < sp::num_string_settings; ++i) f(sp::string_type_base + i);
  for (int i = 0; i < sp::num_int_settings; ++i) f(sp::int_type_base + i);
  for (int i = 0; i < sp::num_bool_settings; ++i) f(sp::bool_type_base + i);
}

int type_of(int s) {
  switch (s & sp::type_mask) {
    case sp::string_type_base: return 0;
    case sp::int_type_base: return 1;
    default: return 2;
  }
}

// The value of setting `s` in `pack` as a bencode entry (absent string
// settings read as "", which is what the session uses for them).
lt::entry value_of(lt::settings_pack const& pack, int s) {
  switch (type_of(s)) {
    case 0: return lt::entry(pack.get_str(s));
    case 1: return lt::entry(static_cast<std::int64_t>(pack.get_int(s)));
    default: return lt::entry(static_cast<std::int64_t>(pack.get_bool(s) ? 1 : 0));
  }
}

std::string const& catalog() {
  static std::string const text = [] {
    lt::settings_pack const defaults = lt::default_settings();
    lt::entry::list_type list;
    for_each_setting([&](int s) {
      char const* name = lt::name_for_setting(s);
      if (!name || !*name) return;
      lt::entry::list_type one;
      one.emplace_back(std::string(name));
      one.emplace_back(static_cast<std::int64_t>(type_of(s)));
      one.emplace_back(value_of(defaults, s));
      list.emplace_back(std::move(one));
    });
    std::string out;
    lt::bencode(std::back_inserter(out), lt::entry(std::move(list)));
    return out;
  }();
  return text;
}

}  // namespace

extern "C" BTX_API int32_t btx_settings_catalog(uint8_t* buf, uint32_t cap, uint32_t* out_len) {
  return btx::guard(nullptr, [&]() -> int32_t { return btx::write_out(catalog(), buf, cap, out_len); });
}

extern "C" BTX_API int32_t btx_session_get_settings(btx_session h, uint8_t const* names, uint32_t len, uint8_t* buf,
                                                    uint32_t cap, uint32_t* out_len) {
  return btx::with_session(h, [&](btx::SessionState&, lt::session& ses) -> int32_t {
    if (!out_len || (!buf && cap)) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    std::vector<int> wanted;
    if (len) {
      if (!names) btx::fail(BTX_E_INVALID_ARGUMENT, "names: null buffer");
      lt::error_code ec;
      int pos = 0;
      auto list = lt::bdecode({reinterpret_cast<char const*>(names), static_cast<std::ptrdiff_t>(len)}, ec, &pos, 10,
                              100000);
      if (ec) btx::fail(BTX_E_INVALID_ARGUMENT, "names: not bencoded: " + ec.message());
      if (list.type() != lt::bdecode_node::list_t) btx::fail(BTX_E_INVALID_ARGUMENT, "names: not a list");
      for (int i = 0; i < list.list_size(); ++i) {
        auto e = list.list_at(i);
        if (e.type() != lt::bdecode_node::string_t) btx::fail(BTX_E_INVALID_ARGUMENT, "names: not a list of strings");
        int s = lt::setting_by_name(e.string_value());
        if (s < 0) btx::fail(BTX_E_UNKNOWN_SETTING, "unknown setting '" + std::string(e.string_value()) + "'");
        wanted.push_back(s);
      }
    } else {
      for_each_setting([&](int s) {
        char const* name = lt::name_for_setting(s);
        if (name && *name) wanted.push_back(s);
      });
    }
    lt::settings_pack const current = ses.get_settings();
    lt::entry dict(lt::entry::dictionary_t);
    for (int s : wanted) dict[lt::name_for_setting(s)] = value_of(current, s);
    std::string out;
    lt::bencode(std::back_inserter(out), dict);
    return btx::write_out(out, buf, cap, out_len);
  });
}
