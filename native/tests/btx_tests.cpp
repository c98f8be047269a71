// C++ tests of the btx C ABI: handles, the exception firewall, argument
// validation, events and a real loopback transfer between two sessions.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <libtorrent/bdecode.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>

#include "btx.h"

namespace fs = std::filesystem;

static int g_failures = 0;
#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++g_failures;                                                          \
    }                                                                        \
  } while (0)
#define CHECK_EQ(a, b)                                                                          \
  do {                                                                                          \
    auto va = (a);                                                                              \
    auto vb = (b);                                                                              \
    if (!(va == vb)) {                                                                          \
      std::fprintf(stderr, "%s:%d: CHECK_EQ failed: %s (%lld) != %s (%lld)\n", __FILE__, __LINE__, #a, \
                   (long long)va, #b, (long long)vb);                                           \
      ++g_failures;                                                                             \
    }                                                                                           \
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
  e["allow_multiple_connections_per_ip"] = 1;
  return bencode(e);
}

static btx_session open_session() {
  std::string s = isolated_settings();
  btx_session h = 0;
  CHECK_EQ(btx_session_open(u8(s), n32(s), 0, &h), BTX_OK);
  return h;
}

static std::string last_error(btx_session s) {
  char buf[512];
  uint32_t len = 0;
  btx_last_error(s, reinterpret_cast<uint8_t*>(buf), sizeof buf, &len);
  return std::string(buf, len < sizeof buf ? len : sizeof buf);
}

static fs::path make_tree(char const* name) {
  fs::path root = fs::temp_directory_path() / ("btx-test-" + std::to_string(::getpid())) / name;
  fs::create_directories(root / "data" / "sub");
  std::ofstream(root / "data" / "a.bin", std::ios::binary) << std::string(300000, 'a');
  std::string b(70000, '\0');
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<char>(i * 31 + 7);
  std::ofstream(root / "data" / "sub" / "b.bin", std::ios::binary) << b;
  return root;
}

struct Created {
  std::string torrent, v1, v2, magnet;
};
static Created create(fs::path const& path, int version) {
  lt::entry o(lt::entry::dictionary_t);
  o["path"] = path.string();
  o["version"] = version;
  o["piece_size"] = 32768;
  std::string opts = bencode(o);
  uint32_t blob = 0, size = 0;
  Created c;
  int32_t rc = btx_create_torrent(u8(opts), n32(opts), &blob, &size);
  CHECK_EQ(rc, BTX_OK);
  if (rc != BTX_OK) return c;
  std::vector<uint8_t> buf(size);
  CHECK_EQ(btx_blob_take(blob, buf.data(), size), BTX_OK);
  CHECK_EQ(btx_blob_take(blob, buf.data(), size), BTX_E_BAD_HANDLE);  // taken once
  lt::error_code ec;
  auto n = lt::bdecode({reinterpret_cast<char const*>(buf.data()), static_cast<std::ptrdiff_t>(size)}, ec);
  CHECK(!ec);
  c.torrent = std::string(n.dict_find_string_value("torrent"));
  c.v1 = std::string(n.dict_find_string_value("v1"));
  c.v2 = std::string(n.dict_find_string_value("v2"));
  c.magnet = std::string(n.dict_find_string_value("magnet"));
  return c;
}

static int32_t add(btx_session s, char const* key, std::string const& value, std::string const& save, btx_torrent* out) {
  lt::entry p(lt::entry::dictionary_t);
  p[key] = value;
  if (!save.empty()) p["save_path"] = save;
  std::string b = bencode(p);
  return btx_torrent_add(s, u8(b), n32(b), out);
}

// Drains events until `pred(type_name, torrent)` holds or the deadline passes.
static bool drain_until(btx_session s, std::function<bool(std::string const&, uint32_t)> pred, int seconds,
                        std::atomic<bool> const* stop = nullptr) {
  std::vector<uint8_t> buf(1 << 16);
  uint32_t count = 0;
  btx_alert_type_count(&count);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline && !(stop && *stop)) {
    int32_t w = btx_session_wait(s, 200);
    if (w == BTX_E_TIMEOUT) continue;
    if (w != BTX_OK) return false;
    uint32_t out[3];
    do {
      if (btx_session_drain(s, buf.data(), n32(std::string(buf.size(), 0)), out) != BTX_OK) return false;
      uint32_t off = 0;
      for (uint32_t i = 0; i < out[1]; ++i) {
        uint32_t size;
        uint16_t type;
        uint32_t torrent;
        std::memcpy(&size, &buf[off], 4);
        std::memcpy(&type, &buf[off + 4], 2);
        std::memcpy(&torrent, &buf[off + 8], 4);
        CHECK(size % 8 == 0 && size >= 16);
        char name[128];
        uint32_t len = 0;
        btx_alert_name(type, reinterpret_cast<uint8_t*>(name), sizeof name, &len);
        if (pred(std::string(name, len), torrent)) return true;
        off += size;
      }
      CHECK_EQ(off, out[0]);
    } while (out[2]);
  }
  return false;
}

static void test_library() {
  CHECK_EQ(btx_abi_version(), (uint32_t)BTX_ABI_VERSION);
  char buf[128];
  uint32_t len = 0;
  CHECK_EQ(btx_version(reinterpret_cast<uint8_t*>(buf), sizeof buf, &len), BTX_OK);
  CHECK(std::string(buf, len).find("libtorrent/2.") != std::string::npos);
  CHECK_EQ(btx_version(reinterpret_cast<uint8_t*>(buf), 3, &len), BTX_E_BUFFER_TOO_SMALL);
  uint32_t n = 0;
  CHECK_EQ(btx_alert_type_count(&n), BTX_OK);
  CHECK(n > 90);
  CHECK_EQ(btx_alert_name(n, reinterpret_cast<uint8_t*>(buf), sizeof buf, &len), BTX_E_INVALID_ARGUMENT);
  std::vector<uint8_t> schema(1 << 16);
  CHECK_EQ(btx_event_schema(schema.data(), n32(std::string(schema.size(), 0)), &len), BTX_OK);
  lt::error_code ec;
  auto sch = lt::bdecode({reinterpret_cast<char const*>(schema.data()), static_cast<std::ptrdiff_t>(len)}, ec);
  CHECK(!ec && sch.type() == lt::bdecode_node::dict_t);
  CHECK(bool(sch.dict_find_list("state_changed")));
}

static void test_bad_handles() {
  uint32_t port = 0;
  CHECK_EQ(btx_session_listen_port(0, &port), BTX_E_BAD_HANDLE);
  CHECK_EQ(btx_session_listen_port(0x7fffffffu, &port), BTX_E_BAD_HANDLE);
  CHECK_EQ(btx_torrent_pause(0), BTX_E_BAD_HANDLE);
  CHECK_EQ(btx_torrent_pause(0xdeadbeefu), BTX_E_BAD_HANDLE);
  CHECK_EQ(btx_session_close(12345), BTX_E_BAD_HANDLE);
  CHECK(last_error(0).find("invalid") != std::string::npos);
  CHECK_EQ(btx_blob_free(99), BTX_E_BAD_HANDLE);
}

static void test_settings_validation() {
  btx_session h = 0;
  lt::entry e(lt::entry::dictionary_t);
  e["no_such_setting"] = 1;
  std::string b = bencode(e);
  CHECK_EQ(btx_session_open(u8(b), n32(b), 0, &h), BTX_E_UNKNOWN_SETTING);
  CHECK(last_error(0).find("no_such_setting") != std::string::npos);
  lt::entry f(lt::entry::dictionary_t);
  f["enable_dht"] = "yes";
  b = bencode(f);
  CHECK_EQ(btx_session_open(u8(b), n32(b), 0, &h), BTX_E_SETTING_TYPE);
  std::string garbage = "d3:abc";
  CHECK_EQ(btx_session_open(u8(garbage), n32(garbage), 0, &h), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_session_open(nullptr, 0, 0x80, &h), BTX_E_INVALID_ARGUMENT);

  btx_session s = open_session();
  lt::entry g(lt::entry::dictionary_t);
  g["download_rate_limit"] = "fast";
  b = bencode(g);
  CHECK_EQ(btx_session_apply_settings(s, u8(b), n32(b)), BTX_E_SETTING_TYPE);
  CHECK(last_error(s).find("download_rate_limit") != std::string::npos);
  CHECK_EQ(btx_session_close(s), BTX_OK);
  CHECK_EQ(btx_session_close(s), BTX_E_BAD_HANDLE);
}

static void test_add_validation() {
  btx_session s = open_session();
  btx_torrent t = 0;
  CHECK_EQ(add(s, "magnet", "magnet:?xt=urn:btih:nothex", "/tmp", &t), BTX_E_INVALID_MAGNET);
  CHECK_EQ(add(s, "magnet", "http://example.invalid/", "/tmp", &t), BTX_E_INVALID_MAGNET);
  CHECK_EQ(add(s, "torrent", "d4:infod6:lengthi-5eee", "/tmp", &t), BTX_E_INVALID_TORRENT);
  CHECK_EQ(add(s, "torrent", std::string("\x00\x01garbage", 9), "/tmp", &t), BTX_E_INVALID_TORRENT);
  CHECK_EQ(add(s, "resume", "not bencode", "/tmp", &t), BTX_E_INVALID_RESUME);
  CHECK_EQ(add(s, "magnet", "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", "", &t),
           BTX_E_INVALID_ARGUMENT);
  std::string both = "d6:magnet3:abc7:torrent3:abce";
  CHECK_EQ(btx_torrent_add(s, u8(both), n32(both), &t), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(add(s, "magnet", "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", "/tmp/btx-x", &t), BTX_OK);
  btx_torrent t2 = 0;
  CHECK_EQ(add(s, "magnet", "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", "/tmp/btx-x", &t2),
           BTX_E_DUPLICATE_TORRENT);
  std::string host = "not-an-ip";
  CHECK_EQ(btx_torrent_connect_peer(t, u8(host), n32(host), 80), BTX_E_INVALID_ARGUMENT);
  host = "127.0.0.1";
  CHECK_EQ(btx_torrent_connect_peer(t, u8(host), n32(host), 0), BTX_E_INVALID_ARGUMENT);
  uint8_t ih[52];
  uint32_t flags = 0;
  CHECK_EQ(btx_torrent_info_hash(t, ih, &flags), BTX_OK);
  CHECK_EQ(flags, 1u);
  CHECK_EQ(ih[0], 0x01);
  CHECK_EQ(btx_torrent_remove(t, 0), BTX_OK);
  CHECK_EQ(btx_torrent_remove(t, 0), BTX_E_BAD_HANDLE);
  CHECK_EQ(btx_torrent_status(t, nullptr, nullptr, 0), BTX_E_BAD_HANDLE);
  // A torrent handle dies with its session.
  CHECK_EQ(add(s, "magnet", "magnet:?xt=urn:btih:1123456789abcdef0123456789abcdef01234567", "/tmp/btx-x", &t2), BTX_OK);
  CHECK_EQ(btx_session_close(s), BTX_OK);
  CHECK_EQ(btx_torrent_pause(t2), BTX_E_BAD_HANDLE);
  CHECK_EQ(btx_torrent_add(s, u8(both), n32(both), &t), BTX_E_BAD_HANDLE);
}

static void test_create_validation() {
  lt::entry o(lt::entry::dictionary_t);
  o["path"] = "/nonexistent/btx/path";
  std::string b = bencode(o);
  uint32_t blob, size;
  CHECK_EQ(btx_create_torrent(u8(b), n32(b), &blob, &size), BTX_E_PATH_NOT_FOUND);
  fs::path root = make_tree("create");
  o["path"] = (root / "data").string();
  o["piece_size"] = 1000;
  b = bencode(o);
  CHECK_EQ(btx_create_torrent(u8(b), n32(b), &blob, &size), BTX_E_INVALID_ARGUMENT);
  o["piece_size"] = 0;
  o["version"] = 7;
  b = bencode(o);
  CHECK_EQ(btx_create_torrent(u8(b), n32(b), &blob, &size), BTX_E_INVALID_ARGUMENT);
  Created v1 = create(root / "data", 1), v2 = create(root / "data", 2), hy = create(root / "data", 3);
  CHECK(v1.v1.size() == 20 && v1.v2.empty());
  CHECK(v2.v1.empty() && v2.v2.size() == 32);
  CHECK(hy.v1.size() == 20 && hy.v2.size() == 32);
  CHECK(hy.magnet.find("urn:btih:") != std::string::npos && hy.magnet.find("urn:btmh:") != std::string::npos);
}

static void test_wait_and_wake() {
  btx_session s = open_session();
  // Drain whatever start-up produced, then an idle wait times out.
  drain_until(s, [](std::string const&, uint32_t) { return false; }, 1);
  CHECK_EQ(btx_session_wait(s, 50), BTX_E_TIMEOUT);
  CHECK_EQ(btx_session_wake(s), BTX_OK);
  CHECK_EQ(btx_session_wait(s, 1000), BTX_OK);
  // Close wakes a waiter blocked forever on another thread.
  int32_t result = -1;
  std::thread waiter([&] { result = btx_session_wait(s, -1); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_EQ(btx_session_close(s), BTX_OK);
  waiter.join();
  CHECK_EQ(result, BTX_E_CLOSED);
  CHECK_EQ(btx_session_wait(s, 10), BTX_E_CLOSED);
}

static void test_drain_buffer_too_small() {
  btx_session s = open_session();
  uint8_t tiny[8];
  uint32_t out[3] = {0, 0, 0};
  int32_t rc = BTX_OK;
  for (int i = 0; i < 20 && rc == BTX_OK; ++i) {
    btx_session_wait(s, 100);
    rc = btx_session_drain(s, tiny, sizeof tiny, out);
  }
  // Start-up posts listen_succeeded at least: one record, bigger than 8 bytes.
  CHECK_EQ(rc, BTX_E_BUFFER_TOO_SMALL);
  CHECK(out[0] > 8);
  std::vector<uint8_t> buf(out[0]);
  CHECK_EQ(btx_session_drain(s, buf.data(), out[0], out), BTX_OK);
  CHECK(out[1] >= 1);
  CHECK_EQ(btx_session_close(s), BTX_OK);
}

static void test_transfer(int version) {
  fs::path root = make_tree(("xfer" + std::to_string(version)).c_str());
  Created c = create(root / "data", version);
  btx_session seeder = open_session(), leecher = open_session();
  btx_torrent st = 0, lt_ = 0;
  CHECK_EQ(add(seeder, "torrent", c.torrent, root.string(), &st), BTX_OK);
  CHECK_EQ(add(leecher, "magnet", c.magnet, (root / "out").string(), &lt_), BTX_OK);
  uint32_t port = 0;
  CHECK_EQ(btx_session_listen_port(seeder, &port), BTX_OK);
  CHECK(port > 0);
  std::string host = "127.0.0.1";
  // The seeder must have checked its files before it can serve.
  CHECK(drain_until(seeder, [&](std::string const& n, uint32_t t) { return n == "torrent_checked" && t == st; }, 20));
  CHECK_EQ(btx_torrent_connect_peer(lt_, u8(host), n32(host), port), BTX_OK);
  std::atomic<bool> stop{false};
  std::thread pump([&] { drain_until(seeder, [](std::string const&, uint32_t) { return false; }, 30, &stop); });
  bool finished = drain_until(leecher, [&](std::string const& n, uint32_t t) { return n == "torrent_finished" && t == lt_; }, 30);
  stop = true;
  pump.join();
  CHECK(finished);
  std::vector<double> nums(BTX_STATUS_NUM_FIELDS);
  uint8_t strs[1024];
  CHECK_EQ(btx_torrent_status(lt_, nums.data(), strs, sizeof strs), BTX_OK);
  CHECK_EQ(nums[BTX_ST_TOTAL_DONE], 370000.0);
  CHECK_EQ(nums[BTX_ST_IS_FINISHED], 1.0);
  CHECK(std::string(reinterpret_cast<char*>(strs), static_cast<size_t>(nums[BTX_ST_NAME_LEN])) == "data");
  std::ifstream in(root / "out" / "data" / "sub" / "b.bin", std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK_EQ(got.size(), (size_t)70000);
  CHECK(got.size() == 70000 && got[1000] == static_cast<char>(1000 * 31 + 7));
  CHECK_EQ(btx_session_close(leecher), BTX_OK);
  CHECK_EQ(btx_session_close(seeder), BTX_OK);
}

int main() {
  struct {
    char const* name;
    std::function<void()> fn;
  } tests[] = {
      {"library", test_library},
      {"bad handles", test_bad_handles},
      {"settings validation", test_settings_validation},
      {"add validation", test_add_validation},
      {"create validation", test_create_validation},
      {"wait and wake", test_wait_and_wake},
      {"drain buffer too small", test_drain_buffer_too_small},
      {"transfer v1", [] { test_transfer(1); }},
      {"transfer v2", [] { test_transfer(2); }},
      {"transfer hybrid", [] { test_transfer(3); }},
  };
  int passed = 0, failed = 0;
  for (auto& t : tests) {
    int before = g_failures;
    t.fn();
    bool ok = g_failures == before;
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", t.name);
    (ok ? passed : failed)++;
  }
  fs::remove_all(fs::temp_directory_path() / ("btx-test-" + std::to_string(::getpid())));
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
