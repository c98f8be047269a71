// C++ tests of the inspection, session-control, settings and bulk-status
// entry points' validation: null pointers, bad lengths, buffers too small,
// garbage state, unknown settings, missing metadata and dead handles all
// come back as status codes, never as a crash.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <libtorrent/bdecode.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>

#include "btx.h"

static int g_failures = 0;
#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++g_failures;                                                                 \
    }                                                                               \
  } while (0)
#define CHECK_EQ(a, b)                                                                                  \
  do {                                                                                                  \
    auto va = (a);                                                                                      \
    auto vb = (b);                                                                                      \
    if (!(va == vb)) {                                                                                  \
      std::fprintf(stderr, "%s:%d: CHECK_EQ failed: %s (%lld) != %s (%lld)\n", __FILE__, __LINE__, #a, \
                   (long long)va, #b, (long long)vb);                                                   \
      ++g_failures;                                                                                     \
    }                                                                                                   \
  } while (0)

static std::string bencode(lt::entry const& e) {
  std::string out;
  lt::bencode(std::back_inserter(out), e);
  return out;
}
static uint8_t const* u8(std::string const& s) { return reinterpret_cast<uint8_t const*>(s.data()); }
static uint32_t n32(std::string const& s) { return static_cast<uint32_t>(s.size()); }

static std::string isolated_settings() {
  lt::entry e(lt::entry::dictionary_t);
  e["listen_interfaces"] = "127.0.0.1:0";
  e["enable_dht"] = 0;
  e["enable_lsd"] = 0;
  e["enable_upnp"] = 0;
  e["enable_natpmp"] = 0;
  e["dht_bootstrap_nodes"] = "";
  return bencode(e);
}

static btx_session open_session() {
  std::string s = isolated_settings();
  btx_session h = 0;
  CHECK_EQ(btx_session_open(u8(s), n32(s), 0, &h), BTX_OK);
  return h;
}

static btx_torrent add_magnet(btx_session s, char const* hex40) {
  lt::entry e(lt::entry::dictionary_t);
  e["magnet"] = std::string("magnet:?xt=urn:btih:") + hex40;
  e["save_path"] = "/tmp/btx-inspect-tests";
  e["flags_set"] = 16;  // paused
  e["flags_unset"] = 32;
  std::string b = bencode(e);
  btx_torrent t = 0;
  CHECK_EQ(btx_torrent_add(s, u8(b), n32(b), &t), BTX_OK);
  return t;
}

static void test_inspect_validation() {
  btx_session s = open_session();
  btx_torrent t = add_magnet(s, "0123456789abcdef0123456789abcdef01234567");
  std::vector<double> nums(BTX_STATUS_EX_NUM_FIELDS);
  std::vector<uint8_t> strs(256);
  uint32_t out[4] = {9, 9, 9, 9};
  CHECK_EQ(btx_torrent_status_ex(t, nums.data(), strs.data(), n32(std::string(strs.size(), 0))), BTX_OK);
  CHECK_EQ(nums[BTX_STX_TORRENT], static_cast<double>(t));
  CHECK_EQ(nums[BTX_ST_TOTAL_SIZE], 0.0);
  CHECK_EQ(btx_torrent_status_ex(t, nullptr, strs.data(), 256), BTX_E_INVALID_ARGUMENT);
  // Without metadata: files, pieces, availability cannot answer.
  CHECK_EQ(btx_torrent_files(t, 0, nums.data(), 60, strs.data(), 256, out), BTX_E_NO_METADATA);
  CHECK_EQ(btx_torrent_files(t, 4, nums.data(), 60, strs.data(), 256, out), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_files(t, 0, nullptr, 60, strs.data(), 256, out), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_pieces(t, strs.data(), 256, out), BTX_E_NO_METADATA);
  CHECK_EQ(btx_torrent_pieces(t, strs.data(), 256, nullptr), BTX_E_INVALID_ARGUMENT);
  int32_t avail[4];
  uint32_t count = 7;
  CHECK_EQ(btx_torrent_piece_availability(t, avail, 4, &count), BTX_E_NO_METADATA);
  CHECK_EQ(btx_torrent_piece_availability(t, nullptr, 4, &count), BTX_E_INVALID_ARGUMENT);
  // No peers: an empty record list, even with no buffers at all.
  CHECK_EQ(btx_torrent_peers(t, nullptr, 0, nullptr, 0, out), BTX_OK);
  CHECK_EQ(out[0], 0u);
  CHECK_EQ(btx_torrent_peers(t, nums.data(), 60, strs.data(), 256, nullptr), BTX_E_INVALID_ARGUMENT);

  // Bulk status: too-small buffers report the sizes needed.
  btx_torrent t2 = add_magnet(s, "1123456789abcdef0123456789abcdef01234567");
  CHECK_EQ(btx_session_status_all(s, nums.data(), 10, strs.data(), 256, out), BTX_E_BUFFER_TOO_SMALL);
  CHECK_EQ(out[0], 0u);
  CHECK_EQ(out[2], 2u * BTX_STATUS_EX_NUM_FIELDS);
  std::vector<double> all(out[2]);
  std::vector<uint8_t> allstrs(out[3] + 1);
  CHECK_EQ(btx_session_status_all(s, all.data(), out[2], allstrs.data(), out[3] + 1, out), BTX_OK);
  CHECK_EQ(out[0], 2u);
  double a = all[BTX_STX_TORRENT], b = all[BTX_STATUS_EX_NUM_FIELDS + BTX_STX_TORRENT];
  CHECK((a == t && b == t2) || (a == t2 && b == t));
  CHECK_EQ(btx_session_status_all(s, nullptr, 10, strs.data(), 256, out), BTX_E_INVALID_ARGUMENT);
  // A removed torrent leaves the bulk status at once.
  CHECK_EQ(btx_torrent_remove(t2, 0), BTX_OK);
  CHECK_EQ(btx_session_status_all(s, all.data(), n32(std::string(all.size(), 0)), allstrs.data(),
                                  n32(std::string(allstrs.size(), 0)), out),
           BTX_OK);
  CHECK_EQ(out[0], 1u);
  CHECK_EQ(all[BTX_STX_TORRENT], static_cast<double>(t));
  CHECK_EQ(btx_torrent_peers(t2, nums.data(), 60, strs.data(), 256, out), BTX_E_BAD_HANDLE);

  CHECK_EQ(btx_session_close(s), BTX_OK);
  CHECK_EQ(btx_torrent_status_ex(t, nums.data(), strs.data(), 256), BTX_E_BAD_HANDLE);
  CHECK_EQ(btx_session_status_all(s, all.data(), 10, strs.data(), 256, out), BTX_E_BAD_HANDLE);
}

static void test_session_control_validation() {
  btx_session s = open_session();
  uint32_t paused = 9;
  CHECK_EQ(btx_session_is_paused(s, &paused), BTX_OK);
  CHECK_EQ(paused, 0u);
  CHECK_EQ(btx_session_pause(s), BTX_OK);
  CHECK_EQ(btx_session_is_paused(s, &paused), BTX_OK);
  CHECK_EQ(paused, 1u);
  CHECK_EQ(btx_session_resume(s), BTX_OK);
  CHECK_EQ(btx_session_is_paused(s, nullptr), BTX_E_INVALID_ARGUMENT);

  btx_torrent t = add_magnet(s, "2123456789abcdef0123456789abcdef01234567");
  uint8_t hash[32] = {0x21, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23,
                      0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67};
  btx_torrent found = 0;
  CHECK_EQ(btx_session_find_torrent(s, hash, 20, &found), BTX_OK);
  CHECK_EQ(found, t);
  CHECK_EQ(btx_session_find_torrent(s, hash, 32, &found), BTX_OK);
  CHECK_EQ(found, 0u);
  CHECK_EQ(btx_session_find_torrent(s, hash, 19, &found), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_session_find_torrent(s, nullptr, 20, &found), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_session_find_torrent(s, hash, 20, nullptr), BTX_E_INVALID_ARGUMENT);

  double stats[4];
  uint32_t n = 0;
  CHECK_EQ(btx_session_stats(s, stats, 4, &n), BTX_E_BUFFER_TOO_SMALL);
  CHECK(n > 200);
  std::vector<double> full(n);
  CHECK_EQ(btx_session_stats(s, full.data(), n, &n), BTX_OK);
  CHECK_EQ(full[0], 0.0);  // no snapshot taken yet
  std::vector<uint8_t> text(1 << 16);
  uint32_t len = 0;
  CHECK_EQ(btx_stats_metrics(text.data(), 1 << 16, &len), BTX_OK);
  lt::error_code ec;
  auto metrics = lt::bdecode({reinterpret_cast<char const*>(text.data()), static_cast<std::ptrdiff_t>(len)}, ec);
  CHECK(!ec && metrics.type() == lt::bdecode_node::list_t && metrics.list_size() > 200);

  uint32_t blob = 0, size = 0;
  CHECK_EQ(btx_session_save_state(s, 8, &blob, &size), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_session_save_state(s, 0, nullptr, &size), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_session_save_state(s, 0, &blob, &size), BTX_OK);
  std::vector<uint8_t> state(size);
  CHECK_EQ(btx_blob_take(blob, state.data(), size), BTX_OK);
  std::string settings = isolated_settings();
  btx_session r = 0;
  CHECK_EQ(btx_session_open_state(u8(settings), n32(settings), state.data(), size, 0, &r), BTX_OK);
  CHECK_EQ(btx_session_close(r), BTX_OK);
  for (std::string bad : {std::string("xyz"), std::string("li1ee"), std::string("d8:settingsi1ee"),
                          std::string("d9:dht state3:abce")}) {
    CHECK_EQ(btx_session_open_state(u8(settings), n32(settings), u8(bad), n32(bad), 0, &r), BTX_E_INVALID_ARGUMENT);
  }
  CHECK_EQ(btx_session_open_state(u8(settings), n32(settings), nullptr, 5, 0, &r), BTX_E_INVALID_ARGUMENT);

  // Batched adds: a bad list fails; bad entries are reported per entry.
  uint32_t batch = 0;
  std::string notalist = "d1:ai1ee";
  CHECK_EQ(btx_session_add_post(s, u8(notalist), n32(notalist), &batch), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(batch, 0u);
  lt::entry list(lt::entry::list_t);
  lt::entry good(lt::entry::dictionary_t);
  good["magnet"] = "magnet:?xt=urn:btih:3123456789abcdef0123456789abcdef01234567";
  good["save_path"] = "/tmp/btx-inspect-tests";
  lt::entry badmagnet = good;
  badmagnet["magnet"] = "magnet:?xt=urn:btih:zz";
  lt::entry dup(lt::entry::dictionary_t);
  dup["magnet"] = "magnet:?xt=urn:btih:2123456789abcdef0123456789abcdef01234567";  // t, already there
  dup["save_path"] = "/tmp/btx-inspect-tests";
  list.list().push_back(good);
  list.list().push_back(badmagnet);
  list.list().push_back(lt::entry(5));
  list.list().push_back(dup);
  list.list().push_back(good);  // twice in one batch
  std::string lb = bencode(list);
  CHECK_EQ(btx_session_add_post(s, u8(lb), n32(lb), &batch), BTX_OK);
  CHECK(batch != 0);
  btx_torrent ids[5];
  int32_t codes[5];
  CHECK_EQ(btx_session_add_collect(s, batch, ids, codes, 4), BTX_E_BUFFER_TOO_SMALL);
  CHECK_EQ(btx_session_add_collect(s, batch, ids, codes, 5), BTX_OK);
  CHECK_EQ(codes[0], BTX_OK);
  CHECK(ids[0] != 0);
  CHECK_EQ(codes[1], BTX_E_INVALID_MAGNET);
  CHECK_EQ(codes[2], BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(codes[3], BTX_E_DUPLICATE_TORRENT);
  CHECK_EQ(codes[4], BTX_E_DUPLICATE_TORRENT);
  CHECK_EQ(ids[4], 0u);
  CHECK_EQ(btx_session_add_collect(s, batch, ids, codes, 5), BTX_E_BAD_HANDLE);  // collected once only
  CHECK_EQ(btx_session_close(s), BTX_OK);
  CHECK_EQ(btx_session_pause(s), BTX_E_BAD_HANDLE);
  CHECK_EQ(btx_session_find_torrent(s, hash, 20, &found), BTX_E_BAD_HANDLE);
}

static void test_settings_catalog() {
  std::vector<uint8_t> buf(1 << 16);
  uint32_t len = 0;
  CHECK_EQ(btx_settings_catalog(buf.data(), 4, &len), BTX_E_BUFFER_TOO_SMALL);
  CHECK_EQ(btx_settings_catalog(buf.data(), 1 << 16, &len), BTX_OK);
  lt::error_code ec;
  auto cat = lt::bdecode({reinterpret_cast<char const*>(buf.data()), static_cast<std::ptrdiff_t>(len)}, ec);
  CHECK(!ec && cat.type() == lt::bdecode_node::list_t);
  CHECK(cat.list_size() > 240);

  btx_session s = open_session();
  lt::entry names(lt::entry::list_t);
  names.list().push_back(lt::entry("upload_rate_limit"));
  names.list().push_back(lt::entry("enable_dht"));
  std::string nb = bencode(names);
  CHECK_EQ(btx_session_get_settings(s, u8(nb), n32(nb), buf.data(), 1 << 16, &len), BTX_OK);
  auto got = lt::bdecode({reinterpret_cast<char const*>(buf.data()), static_cast<std::ptrdiff_t>(len)}, ec);
  CHECK(!ec && got.dict_find_int_value("upload_rate_limit", -1) == 0);
  CHECK(got.dict_find_int_value("enable_dht", -1) == 0);
  names.list().push_back(lt::entry("no_such_setting"));
  nb = bencode(names);
  CHECK_EQ(btx_session_get_settings(s, u8(nb), n32(nb), buf.data(), 1 << 16, &len), BTX_E_UNKNOWN_SETTING);
  std::string notalist = "i5e";
  CHECK_EQ(btx_session_get_settings(s, u8(notalist), n32(notalist), buf.data(), 1 << 16, &len),
           BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_session_get_settings(s, nullptr, 0, buf.data(), 1 << 16, &len), BTX_OK);  // all of them
  auto all = lt::bdecode({reinterpret_cast<char const*>(buf.data()), static_cast<std::ptrdiff_t>(len)}, ec);
  CHECK(!ec && all.dict_size() == cat.list_size());
  CHECK_EQ(btx_session_get_settings(s, nullptr, 0, buf.data(), 8, &len), BTX_E_BUFFER_TOO_SMALL);
  CHECK_EQ(btx_session_close(s), BTX_OK);
}

// The incremental bulk status: tags, delta writes, sizes, and the info-hash bulk read.
static void test_status_poll() {
  btx_session s = open_session();
  std::vector<btx_torrent> ts;
  for (int i = 0; i < 3; ++i) {
    lt::entry e(lt::entry::dictionary_t);
    char hex[41];
    std::snprintf(hex, sizeof hex, "%02d23456789abcdef0123456789abcdef01234567", 40 + i);
    e["magnet"] = std::string("magnet:?xt=urn:btih:") + hex;
    e["save_path"] = "/tmp/btx-inspect-tests";
    e["flags_set"] = 16;    // paused
    e["flags_unset"] = 32;  // auto-managed
    std::string b = bencode(e);
    btx_torrent t = 0;
    CHECK_EQ(btx_torrent_add(s, u8(b), n32(b), &t), BTX_OK);
    ts.push_back(t);
  }
  uint32_t io[8] = {};
  std::vector<double> nums(3 * BTX_STATUS_EX_NUM_FIELDS);
  std::vector<uint8_t> strs(4096);
  CHECK_EQ(btx_session_status_poll(s, nums.data(), 3, strs.data(), 4096, io), BTX_E_BUFFER_TOO_SMALL);
  CHECK_EQ(io[2], 3u * BTX_STATUS_EX_NUM_FIELDS);
  CHECK_EQ(btx_session_status_poll(s, nums.data(), 3, strs.data(), 4096, nullptr), BTX_E_INVALID_ARGUMENT);
  io[0] = 0;
  CHECK_EQ(btx_session_status_poll(s, nums.data(), static_cast<uint32_t>(nums.size()), strs.data(), 4096, io), BTX_OK);
  CHECK_EQ(io[0], 3u);
  CHECK_EQ(io[5], 3u);  // tag 0: every record written
  uint32_t tag = io[4];
  CHECK(tag != 0);
  double paused_flag = 0;
  for (int i = 0; i < 3; ++i) {
    double const* r = nums.data() + i * BTX_STATUS_EX_NUM_FIELDS;
    CHECK((static_cast<uint64_t>(r[BTX_ST_FLAGS]) & 16) != 0);
    CHECK_EQ(r[BTX_ST_SAVE_PATH_LEN], 22.0);  // "/tmp/btx-inspect-tests"
    uint32_t off = static_cast<uint32_t>(r[BTX_STX_STR_OFF] + r[BTX_ST_NAME_LEN]);
    CHECK(std::memcmp(strs.data() + off, "/tmp/btx-inspect-tests", 22) == 0);
    paused_flag += r[BTX_ST_FLAGS];
  }
  // Nothing changed: nothing written.
  io[0] = tag;
  CHECK_EQ(btx_session_status_poll(s, nums.data(), static_cast<uint32_t>(nums.size()), strs.data(), 4096, io), BTX_OK);
  CHECK_EQ(io[5], 0u);
  CHECK(io[4] > tag);
  tag = io[4];
  // One torrent resumed: its record is written, and shows it.
  CHECK_EQ(btx_torrent_resume(ts[1]), BTX_OK);
  bool seen = false;
  for (int tries = 0; tries < 200 && !seen; ++tries) {
    io[0] = tag;
    CHECK_EQ(btx_session_status_poll(s, nums.data(), static_cast<uint32_t>(nums.size()), strs.data(), 4096, io), BTX_OK);
    tag = io[4];
    for (int i = 0; i < 3; ++i) {
      double const* r = nums.data() + i * BTX_STATUS_EX_NUM_FIELDS;
      if (static_cast<uint32_t>(r[BTX_STX_TORRENT]) == ts[1] && (static_cast<uint64_t>(r[BTX_ST_FLAGS]) & 16) == 0) seen = true;
    }
  }
  CHECK(seen);
  // A removed torrent leaves the list; a stale tag means a full write.
  CHECK_EQ(btx_torrent_remove(ts[2], 0), BTX_OK);
  io[0] = tag;
  CHECK_EQ(btx_session_status_poll(s, nums.data(), static_cast<uint32_t>(nums.size()), strs.data(), 4096, io), BTX_OK);
  CHECK_EQ(io[0], 2u);
  CHECK_EQ(io[5], 2u);
  // Info-hashes in bulk; a dead handle gives flags 0.
  uint8_t hashes[3 * 52];
  uint8_t flags[3];
  CHECK_EQ(btx_torrent_info_hashes(ts.data(), 3, hashes, flags), BTX_OK);
  CHECK_EQ(flags[0], 1);
  CHECK_EQ(hashes[0], 0x40);
  CHECK_EQ(hashes[52], 0x41);
  CHECK_EQ(flags[2], 0);
  CHECK_EQ(btx_torrent_info_hashes(nullptr, 3, hashes, flags), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_session_close(s), BTX_OK);
  CHECK_EQ(btx_session_status_poll(s, nums.data(), 3, strs.data(), 4096, io), BTX_E_BAD_HANDLE);
  (void)paused_flag;
}

int main() {
  test_inspect_validation();
  test_session_control_validation();
  test_settings_catalog();
  test_status_poll();
  if (g_failures) {
    std::fprintf(stderr, "%d check(s) failed\n", g_failures);
    return 1;
  }
  std::printf("inspect_tests: all checks passed\n");
  return 0;
}
