// C++ tests of the torrent-control entry points' validation (control.cpp):
// every index, range, flag and null pointer is refused with a status code
// before libtorrent sees it (libtorrent asserts on some of them).
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <libtorrent/bdecode.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>

#include "btx.h"

namespace fs = std::filesystem;

static int g_failures = 0;
#define CHECK_EQ(a, b)                                                                                    \
  do {                                                                                                    \
    auto va = (a);                                                                                        \
    auto vb = (b);                                                                                        \
    if (!(va == vb)) {                                                                                    \
      std::fprintf(stderr, "%s:%d: CHECK_EQ failed: %s (%lld) != %s (%lld)\n", __FILE__, __LINE__, #a,   \
                   (long long)va, #b, (long long)vb);                                                     \
      ++g_failures;                                                                                       \
    }                                                                                                     \
  } while (0)

static std::string bencode(lt::entry const& e) {
  std::string out;
  lt::bencode(std::back_inserter(out), e);
  return out;
}
static uint8_t const* u8(std::string const& s) { return reinterpret_cast<uint8_t const*>(s.data()); }
static uint32_t n32(std::string const& s) { return static_cast<uint32_t>(s.size()); }

static btx_session open_session() {
  lt::entry e(lt::entry::dictionary_t);
  e["listen_interfaces"] = "127.0.0.1:0";
  e["enable_dht"] = 0;
  e["enable_lsd"] = 0;
  e["enable_upnp"] = 0;
  e["enable_natpmp"] = 0;
  std::string s = bencode(e);
  btx_session h = 0;
  CHECK_EQ(btx_session_open(u8(s), n32(s), BTX_SESSION_LOOPBACK_ONLY, &h), BTX_OK);
  return h;
}

static int32_t add(btx_session s, lt::entry p, btx_torrent* out) {
  std::string b = bencode(p);
  return btx_torrent_add(s, u8(b), n32(b), out);
}

int main() {
  fs::path root = fs::temp_directory_path() / ("btx-control-test-" + std::to_string(::getpid()));
  fs::create_directories(root / "data");
  std::ofstream(root / "data" / "a.bin", std::ios::binary) << std::string(100000, 'a');
  std::ofstream(root / "data" / "b.bin", std::ios::binary) << std::string(50000, 'b');

  lt::entry o(lt::entry::dictionary_t);
  o["path"] = (root / "data").string();
  o["version"] = 1;
  o["piece_size"] = 16384;
  std::string opts = bencode(o);
  uint32_t blob = 0, size = 0;
  CHECK_EQ(btx_create_torrent(u8(opts), n32(opts), &blob, &size), BTX_OK);
  std::vector<uint8_t> buf(size);
  CHECK_EQ(btx_blob_take(blob, buf.data(), size), BTX_OK);
  lt::error_code ec;
  auto made = lt::bdecode({reinterpret_cast<char const*>(buf.data()), static_cast<std::ptrdiff_t>(size)}, ec);
  std::string torrent(made.dict_find_string_value("torrent"));
  std::ofstream(root / "x.torrent", std::ios::binary) << torrent;
  std::ofstream(root / "junk.torrent", std::ios::binary) << "not bencode";

  btx_session s = open_session();
  btx_torrent t = 0, m = 0, x = 0;
  {
    lt::entry p(lt::entry::dictionary_t);
    p["torrent_file"] = (root / "x.torrent").string();
    p["save_path"] = root.string();
    p["flags_set"] = 16;  // paused
    CHECK_EQ(add(s, p, &t), BTX_OK);
    p["torrent_file"] = (root / "missing.torrent").string();
    CHECK_EQ(add(s, p, &x), BTX_E_PATH_NOT_FOUND);
    p["torrent_file"] = (root / "junk.torrent").string();
    CHECK_EQ(add(s, p, &x), BTX_E_INVALID_TORRENT);
    p["torrent_file"] = (root / "x.torrent").string();
    p["magnet"] = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567";
    CHECK_EQ(add(s, p, &x), BTX_E_INVALID_ARGUMENT);  // two sources
  }
  {
    lt::entry p(lt::entry::dictionary_t);
    p["info_hash_v1"] = std::string(19, 'x');
    p["save_path"] = root.string();
    CHECK_EQ(add(s, p, &x), BTX_E_INVALID_ARGUMENT);  // 19 bytes
    p["info_hash_v1"] = std::string(20, '\0');
    CHECK_EQ(add(s, p, &x), BTX_E_INVALID_ARGUMENT);  // all zero
    p.dict().erase("info_hash_v1");
    p["info_hash_v2"] = std::string(31, 'y');
    CHECK_EQ(add(s, p, &x), BTX_E_INVALID_ARGUMENT);  // 31 bytes
    p["info_hash_v2"] = std::string(32, 'y');
    CHECK_EQ(add(s, p, &m), BTX_OK);
  }

  // The torrent has 2 files (v1: no pad files) and ceil(150000 / 16384) = 10 pieces.
  uint32_t u = 0;
  int32_t limits[BTX_LIMIT_COUNT];
  CHECK_EQ(btx_torrent_file_priority(t, 1, &u), BTX_OK);
  CHECK_EQ(u, 4u);
  CHECK_EQ(btx_torrent_file_priority(t, 2, &u), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_file_priority(t, -1, &u), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_file_priority(t, 0, nullptr), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_set_file_priority(t, 2, 1), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_set_file_priority(t, 0, 8), BTX_E_INVALID_ARGUMENT);
  uint8_t prios[2] = {1, 2};
  CHECK_EQ(btx_torrent_set_file_priorities(t, prios, 1), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_set_file_priorities(t, nullptr, 2), BTX_E_INVALID_ARGUMENT);
  uint8_t bad[2] = {1, 9};
  CHECK_EQ(btx_torrent_set_file_priorities(t, bad, 2), BTX_E_INVALID_ARGUMENT);
  uint8_t small[1];
  CHECK_EQ(btx_torrent_file_priorities(t, small, 1, &u), BTX_E_BUFFER_TOO_SMALL);
  CHECK_EQ(u, 2u);
  CHECK_EQ(btx_torrent_piece_priority(t, 9, &u), BTX_OK);
  CHECK_EQ(btx_torrent_piece_priority(t, 10, &u), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_set_piece_priority(t, 10, 1), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_set_piece_priority(t, 0, 8), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_set_piece_deadline(t, 10, 0, 0), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_set_piece_deadline(t, 0, -1, 0), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_set_piece_deadline(t, 0, 0, 2), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_reset_piece_deadline(t, -3), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_rename_file(t, 2, u8(std::string("x")), 1), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_rename_file(t, 0, nullptr, 0), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_rename_file(t, 0, u8(std::string("a\0b", 3)), 3), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_move_storage(t, u8(std::string("/tmp")), 4, 3), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_move_storage(t, nullptr, 0, 0), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_set_flags(t, 16, 16), BTX_E_INVALID_ARGUMENT);  // paused: not this way
  CHECK_EQ(btx_torrent_set_flags(t, 1, 1), BTX_E_INVALID_ARGUMENT);    // seed mode: clear only
  CHECK_EQ(btx_torrent_set_flags(t, 512, 0), BTX_E_INVALID_ARGUMENT);  // flags outside mask
  CHECK_EQ(btx_torrent_set_flags(t, 512, 512), BTX_OK);
  uint32_t fl[2] = {0, 0};
  CHECK_EQ(btx_torrent_flags(t, fl), BTX_OK);
  CHECK_EQ(fl[0] & 512u, 512u);
  CHECK_EQ(btx_torrent_set_limit(t, BTX_LIMIT_COUNT, 1), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_set_limit(t, BTX_LIMIT_UPLOAD_RATE, -1), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_set_limit(t, BTX_LIMIT_MAX_CONNECTIONS, 1 << 24), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_set_limit(t, BTX_LIMIT_DOWNLOAD_RATE, 5000), BTX_OK);
  CHECK_EQ(btx_torrent_limits(t, limits), BTX_OK);
  CHECK_EQ(limits[BTX_LIMIT_DOWNLOAD_RATE], 5000);
  CHECK_EQ(limits[BTX_LIMIT_UPLOAD_RATE], 0);
  CHECK_EQ(btx_torrent_queue(t, 5, 0), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_queue(t, BTX_QUEUE_SET, -1), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_force_reannounce(t, 0, 0, 0), BTX_E_INVALID_ARGUMENT);  // no trackers
  CHECK_EQ(btx_torrent_force_reannounce(t, -1, -1, 0), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_force_reannounce(t, 0, -1, 2), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_scrape(t, -2), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_add_tracker(t, u8(std::string("http://127.0.0.1:1/announce")), 27, 256), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_add_tracker(t, nullptr, 0, 0), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_add_tracker(t, u8(std::string("http://127.0.0.1:1/announce")), 27, 3), BTX_OK);
  CHECK_EQ(btx_torrent_scrape(t, 1), BTX_E_INVALID_ARGUMENT);
  std::string junk = "d8:trackersi1ee";
  CHECK_EQ(btx_torrent_replace_trackers(t, u8(junk), n32(junk)), BTX_E_INVALID_ARGUMENT);
  std::string badtier = "d8:trackersld3:url5:http:4:tieri300eeee";
  CHECK_EQ(btx_torrent_replace_trackers(t, u8(badtier), n32(badtier)), BTX_E_INVALID_ARGUMENT);
  std::string trunc = "d8:trackersl";
  CHECK_EQ(btx_torrent_replace_trackers(t, u8(trunc), n32(trunc)), BTX_E_INVALID_ARGUMENT);
  uint32_t tb = 0, ts = 0;
  CHECK_EQ(btx_torrent_trackers(t, &tb, &ts), BTX_OK);
  CHECK_EQ(btx_blob_free(tb), BTX_OK);
  CHECK_EQ(btx_torrent_trackers(t, nullptr, &ts), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_save_resume_flags(t, 8), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_need_save_resume(t, nullptr), BTX_E_INVALID_ARGUMENT);

  // Without metadata: NO_METADATA wherever an index is needed.
  CHECK_EQ(btx_torrent_file_priority(m, 0, &u), BTX_E_NO_METADATA);
  CHECK_EQ(btx_torrent_set_file_priority(m, 0, 1), BTX_E_NO_METADATA);
  CHECK_EQ(btx_torrent_file_priorities(m, small, 1, &u), BTX_E_NO_METADATA);
  CHECK_EQ(btx_torrent_set_file_priorities(m, prios, 0), BTX_E_NO_METADATA);
  CHECK_EQ(btx_torrent_piece_priority(m, 0, &u), BTX_E_NO_METADATA);
  CHECK_EQ(btx_torrent_set_piece_deadline(m, 0, 0, 0), BTX_E_NO_METADATA);
  CHECK_EQ(btx_torrent_rename_file(m, 0, u8(std::string("x")), 1), BTX_E_NO_METADATA);
  CHECK_EQ(btx_torrent_force_recheck(m), BTX_E_NO_METADATA);
  CHECK_EQ(btx_torrent_flush_cache(m), BTX_E_NO_METADATA);
  CHECK_EQ(btx_torrent_limits(m, limits), BTX_OK);

  // Stale handles.
  CHECK_EQ(btx_torrent_remove(t, 0), BTX_OK);
  CHECK_EQ(btx_torrent_force_recheck(t), BTX_E_BAD_HANDLE);
  CHECK_EQ(btx_torrent_queue_position(t, limits), BTX_E_BAD_HANDLE);
  CHECK_EQ(btx_torrent_set_flags(0, 0, 0), BTX_E_BAD_HANDLE);
  CHECK_EQ(btx_session_pause(s), BTX_OK);
  CHECK_EQ(btx_session_resume(s), BTX_OK);
  CHECK_EQ(btx_session_close(s), BTX_OK);
  CHECK_EQ(btx_torrent_web_seeds(m, &tb, &ts), BTX_E_BAD_HANDLE);
  CHECK_EQ(btx_session_pause(s), BTX_E_BAD_HANDLE);

  fs::remove_all(root);
  std::printf("%s control validation (%d failures)\n", g_failures ? "FAIL" : "ok  ", g_failures);
  return g_failures ? 1 : 0;
}
