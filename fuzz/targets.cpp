// libFuzzer targets for every btx entry point that parses outside data.
// Built by fuzz/CMakeLists.txt once per target (BTX_FUZZ_TARGET selects it)
// with clang -fsanitize=fuzzer,address,undefined; run by scripts/fuzz.sh.
// Every input must end in a status code: a crash, a sanitizer report, a
// leak or a hang (libFuzzer's -timeout) is a finding.
//
// One session is opened per process (loopback only, DHT/LSD/UPnP/NAT-PMP
// off) and reused: opening one per input would cost milliseconds.
#include <btx.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

std::string bstr(std::string const& s) { return std::to_string(s.size()) + ":" + s; }

// A settings dictionary keeping the session on loopback and quiet.
std::string const kSettings =
    "d" + bstr("enable_dht") + "i0e" + bstr("enable_lsd") + "i0e" + bstr("enable_natpmp") + "i0e" +
    bstr("enable_upnp") + "i0e" + bstr("listen_interfaces") + bstr("127.0.0.1:0") + "e";

btx_session session() {
  static btx_session s = [] {
    btx_session out = 0;
    auto const* p = reinterpret_cast<uint8_t const*>(kSettings.data());
    if (btx_session_open(p, static_cast<uint32_t>(kSettings.size()), BTX_SESSION_LOOPBACK_ONLY, &out) != BTX_OK) {
      std::fprintf(stderr, "fuzz: cannot open a session\n");
      std::abort();
    }
    return out;
  }();
  return s;
}

// Drains pending events so the alert queue never fills (it frees blobs too).
void drain(btx_session s) {
  static uint8_t buf[1 << 16];
  uint32_t out[3];
  for (int i = 0; i < 4; ++i) {
    if (btx_session_drain(s, buf, sizeof buf, out) != BTX_OK || !out[2]) break;
  }
}

// Adds with a bencoded params dictionary (flags: paused 1<<4 set,
// auto_managed 1<<5 cleared); removes what was added.
void add(std::string const& params) {
  btx_session s = session();
  btx_torrent t = 0;
  int32_t rc = btx_torrent_add(s, reinterpret_cast<uint8_t const*>(params.data()),
                               static_cast<uint32_t>(params.size()), &t);
  if (rc == BTX_OK) {
    if (btx_torrent_remove(t, 0) != BTX_OK) std::abort();
  } else if (rc < 0 || rc > 64) {
    std::abort();  // not a status code
  }
  drain(s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
  std::string in(reinterpret_cast<char const*>(data), size);
#if BTX_FUZZ_TARGET == 1  // .torrent bytes
  add("d" + bstr("flags_set") + "i16e" + bstr("flags_unset") + "i32e" + bstr("save_path") +
      bstr("/tmp/btx-fuzz-save") + bstr("torrent") + bstr(in) + "e");
#elif BTX_FUZZ_TARGET == 2  // magnet URI
  add("d" + bstr("flags_set") + "i16e" + bstr("flags_unset") + "i32e" + bstr("magnet") + bstr(in) +
      bstr("save_path") + bstr("/tmp/btx-fuzz-save") + "e");
#elif BTX_FUZZ_TARGET == 3  // resume data
  add("d" + bstr("flags_set") + "i16e" + bstr("flags_unset") + "i32e" + bstr("resume") + bstr(in) +
      bstr("save_path") + bstr("/tmp/btx-fuzz-save") + "e");
#elif BTX_FUZZ_TARGET == 4  // the whole add dictionary, as the caller would pass it
  add(in);
#elif BTX_FUZZ_TARGET == 5  // settings dictionary (names and values)
  btx_session s = session();
  int32_t rc = btx_session_apply_settings(s, data, static_cast<uint32_t>(size));
  if (rc < 0 || rc > 64) std::abort();
  // Put the session back: a fuzzed setting must not carry over.
  if (btx_session_apply_settings(s, reinterpret_cast<uint8_t const*>(kSettings.data()),
                                 static_cast<uint32_t>(kSettings.size())) != BTX_OK)
    std::abort();
  drain(s);
#elif BTX_FUZZ_TARGET == 6  // tracker list (btx_torrent_replace_trackers) and DHT state
  static btx_torrent t = [] {
    std::string p = "d" + bstr("flags_set") + "i16e" + bstr("flags_unset") + "i32e" + bstr("magnet") +
                    bstr("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567") + bstr("save_path") +
                    bstr("/tmp/btx-fuzz-save") + "e";
    btx_torrent out = 0;
    if (btx_torrent_add(session(), reinterpret_cast<uint8_t const*>(p.data()), static_cast<uint32_t>(p.size()),
                        &out) != BTX_OK)
      std::abort();
    return out;
  }();
  int32_t rc = btx_torrent_replace_trackers(t, data, static_cast<uint32_t>(size));
  if (rc < 0 || rc > 64) std::abort();
  rc = btx_dht_load_state(session(), data, static_cast<uint32_t>(size));
  if (rc < 0 || rc > 64) std::abort();
  drain(session());
#else
#error "BTX_FUZZ_TARGET must be 1..6"
#endif
  return 0;
}
