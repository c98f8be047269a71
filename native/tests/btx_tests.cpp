// C++ tests of the btx C ABI: handles, the exception firewall, argument
// validation, events and a real loopback transfer between two sessions.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <libtorrent/bdecode.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>

#include "btx.h"
#include "../src/handles.hpp"  // header-only: unit-tested directly below

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

static std::string isolated_settings(lt::entry e = lt::entry(lt::entry::dictionary_t)) {
  e["listen_interfaces"] = "127.0.0.1:0";
  e["enable_dht"] = 0;
  e["enable_lsd"] = 0;
  e["enable_upnp"] = 0;
  e["enable_natpmp"] = 0;
  e["dht_bootstrap_nodes"] = "";
  e["allow_multiple_connections_per_ip"] = 1;
  return bencode(e);
}

static btx_session open_session(lt::entry extra = lt::entry(lt::entry::dictionary_t)) {
  std::string s = isolated_settings(std::move(extra));
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

// One decoded event record (wire format: docs/architecture.md, "Events").
struct Ev {
  std::string name;
  uint32_t torrent = 0;
  std::vector<double> nums;
  std::vector<std::string> strs;  // strs[0] is the alert's message
};

// Events drained but not yet looked at, per session (one drainer per
// session at a time, as the ABI expects; the map itself is shared).
static std::mutex g_backlog_mu;
static std::map<btx_session, std::deque<Ev>> g_backlog;
static std::deque<Ev>& backlog(btx_session s) {
  std::lock_guard<std::mutex> l(g_backlog_mu);
  return g_backlog[s];
}

// Drains events until `pred(event)` holds or the deadline passes; returns
// false on timeout, on a closed session, or once `stop` is set. Events after
// the matching one stay queued for the next call.
static bool drain_until_ms(btx_session s, std::function<bool(Ev const&)> pred, int millis,
                           std::atomic<bool> const* stop = nullptr) {
  std::deque<Ev>& q = backlog(s);
  while (!q.empty()) {
    Ev ev = std::move(q.front());
    q.pop_front();
    if (pred(ev)) return true;
  }
  std::vector<uint8_t> buf(1 << 16);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(millis);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0 || (stop && *stop)) return false;
    int32_t w = btx_session_wait(s, static_cast<int32_t>(left < 200 ? left : 200));
    if (w == BTX_E_TIMEOUT) continue;
    if (w != BTX_OK) return false;
    uint32_t out[3];
    do {
      if (btx_session_drain(s, buf.data(), static_cast<uint32_t>(buf.size()), out) != BTX_OK) return false;
      uint32_t off = 0;
      for (uint32_t i = 0; i < out[1]; ++i) {
        uint32_t size, torrent, nnum;
        uint16_t type, nstr;
        std::memcpy(&size, &buf[off], 4);
        std::memcpy(&type, &buf[off + 4], 2);
        std::memcpy(&nstr, &buf[off + 6], 2);
        std::memcpy(&torrent, &buf[off + 8], 4);
        std::memcpy(&nnum, &buf[off + 12], 4);
        CHECK(size % 8 == 0 && size >= 16);
        Ev ev;
        ev.torrent = torrent;
        char name[128];
        uint32_t len = 0;
        btx_alert_name(type, reinterpret_cast<uint8_t*>(name), sizeof name, &len);
        ev.name.assign(name, len);
        uint32_t p = off + 16;
        for (uint32_t k = 0; k < nnum; ++k, p += 8) {
          double d;
          std::memcpy(&d, &buf[p], 8);
          ev.nums.push_back(d);
        }
        for (uint32_t k = 0; k < nstr; ++k) {
          uint32_t sl;
          std::memcpy(&sl, &buf[p], 4);
          bool const ascii = (sl & 0x80000000u) != 0;
          sl &= 0x7fffffffu;
          std::string str(reinterpret_cast<char const*>(&buf[p + 4]), sl);
          bool all_ascii = true;
          for (unsigned char c : str) all_ascii = all_ascii && c < 0x80;
          CHECK(ascii == all_ascii);  // the flag tells the truth
          ev.strs.push_back(std::move(str));
          p += 4 + ((sl + 3u) & ~3u);
        }
        CHECK(p <= off + size);
        off += size;
        q.push_back(std::move(ev));
      }
      CHECK_EQ(off, out[0]);
    } while (out[2]);
    while (!q.empty()) {
      Ev ev = std::move(q.front());
      q.pop_front();
      if (pred(ev)) return true;
    }
  }
}

static bool drain_until(btx_session s, std::function<bool(std::string const&, uint32_t)> pred, int seconds,
                        std::atomic<bool> const* stop = nullptr) {
  return drain_until_ms(s, [&](Ev const& e) { return pred(e.name, e.torrent); }, seconds * 1000, stop);
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
  // A v2-only torrent of a directory with one file would lose the directory
  // (BEP 52 single-file form): refused. v1 and hybrid keep it.
  fs::path lone = root / "lone";
  fs::create_directories(lone);
  { std::ofstream(lone / "only.bin") << std::string(20000, 'x'); }
  lt::entry l(lt::entry::dictionary_t);
  l["path"] = lone.string();
  l["version"] = 2;
  b = bencode(l);
  CHECK_EQ(btx_create_torrent(u8(b), n32(b), &blob, &size), BTX_E_INVALID_ARGUMENT);
  CHECK(!create(lone, 1).v1.empty() && !create(lone, 3).v2.empty());
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

static std::vector<double> status(btx_torrent t, std::string* name = nullptr, std::string* save_path = nullptr) {
  std::vector<double> nums(BTX_STATUS_NUM_FIELDS, -1.0);
  uint8_t strs[2048];
  CHECK_EQ(btx_torrent_status(t, nums.data(), strs, sizeof strs), BTX_OK);
  auto n = static_cast<size_t>(nums[BTX_ST_NAME_LEN]);
  auto p = static_cast<size_t>(nums[BTX_ST_SAVE_PATH_LEN]);
  if (name) name->assign(reinterpret_cast<char*>(strs), n);
  if (save_path) save_path->assign(reinterpret_cast<char*>(strs) + n, p);
  return nums;
}

static bool is_event(Ev const& e, char const* name, btx_torrent t) { return e.name == name && e.torrent == t; }

// Adds `torrent` as a seed of the data under `root` and waits until checked.
static btx_torrent add_seed(btx_session s, std::string const& torrent, fs::path const& root) {
  btx_torrent t = 0;
  CHECK_EQ(add(s, "torrent", torrent, root.string(), &t), BTX_OK);
  CHECK(drain_until_ms(s, [&](Ev const& e) { return is_event(e, "torrent_checked", t); }, 20000));
  return t;
}

// The table itself: a slot's generation must never come back to a value a
// stale handle still holds (12 generation bits wrap after 4095 reuses).
static void test_handle_table_wrap() {
  btx::HandleTable<int> table;
  uint32_t first = table.insert(std::make_shared<int>(1));
  CHECK(first != 0);
  CHECK(table.release(first) != nullptr);
  CHECK(table.release(first) == nullptr);
  uint32_t aliased = 0, reissued = 0;
  for (int i = 0; i < 10000; ++i) {
    uint32_t h = table.insert(std::make_shared<int>(i));
    CHECK(h != 0);
    if (h == first) ++reissued;
    if (table.get(first)) ++aliased;
    table.release(h);
  }
  CHECK_EQ(reissued, 0u);
  CHECK_EQ(aliased, 0u);
  CHECK(table.get(0) == nullptr);
  CHECK(table.get(0xffffffffu) == nullptr);
}

static void test_handle_generations() {
  // A closed session's handle stays bad after its slot is reused.
  btx_session a = open_session();
  CHECK_EQ(btx_session_close(a), BTX_OK);
  btx_session b = open_session();
  CHECK(a != b);
  CHECK_EQ(a & 0xfffffu, b & 0xfffffu);  // same slot, next generation
  uint32_t port = 0;
  CHECK_EQ(btx_session_listen_port(a, &port), BTX_E_BAD_HANDLE);
  CHECK_EQ(btx_session_close(a), BTX_E_BAD_HANDLE);
  CHECK_EQ(btx_session_listen_port(b, &port), BTX_OK);

  // Remove and re-add the same info-hash: a new handle in the same slot; the
  // late torrent_removed event still names the old handle.
  std::string const m = "magnet:?xt=urn:btih:2123456789abcdef0123456789abcdef01234567";
  btx_torrent t1 = 0, t2 = 0;
  CHECK_EQ(add(b, "magnet", m, "/tmp/btx-x", &t1), BTX_OK);
  CHECK_EQ(btx_torrent_remove(t1, 0), BTX_OK);
  CHECK_EQ(add(b, "magnet", m, "/tmp/btx-x", &t2), BTX_OK);
  CHECK(t1 != t2);
  CHECK_EQ(t1 & 0xfffffu, t2 & 0xfffffu);
  CHECK_EQ(btx_torrent_pause(t1), BTX_E_BAD_HANDLE);
  CHECK_EQ(btx_torrent_pause(t2), BTX_OK);
  uint32_t removed_for = 0;
  CHECK(drain_until_ms(b, [&](Ev const& e) {
    if (e.name != "torrent_removed") return false;
    removed_for = e.torrent;
    return true;
  }, 5000));
  CHECK_EQ(removed_for, t1);
  CHECK_EQ(btx_torrent_resume(t2), BTX_OK);

  // A torrent handle of a closed session stays bad when a torrent of another
  // session takes its slot.
  CHECK_EQ(btx_session_close(b), BTX_OK);
  btx_session c = open_session();
  btx_torrent t3 = 0;
  CHECK_EQ(add(c, "magnet", m, "/tmp/btx-x", &t3), BTX_OK);
  CHECK(t3 != t2);
  CHECK_EQ(btx_torrent_pause(t2), BTX_E_BAD_HANDLE);
  CHECK_EQ(btx_torrent_pause(t3), BTX_OK);
  CHECK_EQ(btx_session_close(c), BTX_OK);
  CHECK_EQ(btx_torrent_pause(t3), BTX_E_BAD_HANDLE);
}

static void test_status_strings() {
  btx_session s = open_session();
  lt::entry p(lt::entry::dictionary_t);
  p["magnet"] = "magnet:?xt=urn:btih:3123456789abcdef0123456789abcdef01234567";
  p["save_path"] = "/tmp/btx-x";
  p["name"] = "h\xc3\xa9llo";  // "héllo"
  std::string b = bencode(p);
  btx_torrent t = 0;
  CHECK_EQ(btx_torrent_add(s, u8(b), n32(b), &t), BTX_OK);
  std::string name, save;
  auto st = status(t, &name, &save);
  CHECK(name == "h\xc3\xa9llo");
  CHECK(save == "/tmp/btx-x");
  CHECK_EQ(st[BTX_ST_HAS_METADATA], 0.0);
  CHECK_EQ(st[BTX_ST_TOTAL_SIZE], 0.0);
  // Truncation never splits a UTF-8 sequence: 2 bytes hold only "h".
  std::vector<double> nums(BTX_STATUS_NUM_FIELDS);
  uint8_t small[2];
  CHECK_EQ(btx_torrent_status(t, nums.data(), small, sizeof small), BTX_OK);
  CHECK_EQ(nums[BTX_ST_NAME_LEN], 1.0);
  CHECK_EQ(nums[BTX_ST_SAVE_PATH_LEN], 1.0);
  CHECK_EQ(nums[BTX_ST_ERROR_LEN], 0.0);
  // No string buffer at all is allowed: lengths are 0.
  CHECK_EQ(btx_torrent_status(t, nums.data(), nullptr, 0), BTX_OK);
  CHECK_EQ(nums[BTX_ST_NAME_LEN], 0.0);
  CHECK_EQ(btx_torrent_status(t, nullptr, small, sizeof small), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_session_close(s), BTX_OK);
}

static void test_remove_deletes_files() {
  fs::path root = make_tree("delete");
  Created c = create(root / "data", 3);
  btx_session s = open_session();
  btx_torrent t = add_seed(s, c.torrent, root);
  CHECK_EQ(status(t)[BTX_ST_IS_SEEDING], 1.0);
  CHECK(fs::exists(root / "data" / "sub" / "b.bin"));
  CHECK_EQ(btx_torrent_remove(t, 2), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_torrent_remove(t, BTX_REMOVE_DELETE_FILES), BTX_OK);
  CHECK_EQ(btx_torrent_pause(t), BTX_E_BAD_HANDLE);
  // Both events still name the removed handle.
  CHECK(drain_until_ms(s, [&](Ev const& e) { return is_event(e, "torrent_removed", t); }, 5000));
  CHECK(drain_until_ms(s, [&](Ev const& e) { return is_event(e, "torrent_deleted", t); }, 5000));
  CHECK(!fs::exists(root / "data" / "a.bin"));
  CHECK(!fs::exists(root / "data" / "sub" / "b.bin"));
  CHECK_EQ(btx_session_close(s), BTX_OK);
}

static void test_resume_round_trip() {
  fs::path root = make_tree("resume");
  Created c = create(root / "data", 3);
  btx_session s = open_session();
  btx_torrent t = add_seed(s, c.torrent, root);
  uint8_t ih[52], ih2[52];
  uint32_t fl = 0, fl2 = 0;
  CHECK_EQ(btx_torrent_info_hash(t, ih, &fl), BTX_OK);
  CHECK_EQ(fl, 3u);

  CHECK_EQ(btx_torrent_save_resume(t), BTX_OK);
  Ev saved;
  CHECK(drain_until_ms(s, [&](Ev const& e) {
    if (e.torrent != t || (e.name != "save_resume_data" && e.name != "save_resume_data_failed")) return false;
    saved = e;
    return true;
  }, 5000));
  CHECK(saved.name == "save_resume_data");
  CHECK_EQ(saved.nums.size(), (size_t)2);
  std::string resume;
  if (saved.nums.size() == 2) {
    auto blob = static_cast<uint32_t>(saved.nums[0]);
    auto size = static_cast<uint32_t>(saved.nums[1]);
    CHECK(size > 100);
    resume.assign(size, '\0');
    uint8_t* dst = reinterpret_cast<uint8_t*>(&resume[0]);
    CHECK_EQ(btx_blob_take(blob, dst, size - 1), BTX_E_BUFFER_TOO_SMALL);  // kept on failure
    CHECK_EQ(btx_blob_take(blob, dst, size), BTX_OK);
    CHECK_EQ(btx_blob_take(blob, dst, size), BTX_E_BAD_HANDLE);
  }

  CHECK_EQ(btx_torrent_remove(t, 0), BTX_OK);
  CHECK(drain_until_ms(s, [&](Ev const& e) { return is_event(e, "torrent_removed", t); }, 5000));
  CHECK(fs::exists(root / "data" / "a.bin"));

  // Re-add from the resume data alone: save path and metadata come with it.
  btx_torrent t2 = 0;
  CHECK_EQ(add(s, "resume", resume, "", &t2), BTX_OK);
  CHECK(t2 != t);
  CHECK_EQ(btx_torrent_info_hash(t2, ih2, &fl2), BTX_OK);
  CHECK_EQ(fl2, 3u);
  CHECK(std::memcmp(ih, ih2, sizeof ih) == 0);
  CHECK(drain_until_ms(s, [&](Ev const& e) { return is_event(e, "torrent_checked", t2); }, 5000));
  std::string name, save;
  auto st = status(t2, &name, &save);
  CHECK_EQ(st[BTX_ST_TOTAL_DONE], 370000.0);
  CHECK_EQ(st[BTX_ST_IS_SEEDING], 1.0);
  CHECK(name == "data");
  CHECK(save == root.string());
  // Adding it again is a duplicate.
  btx_torrent t3 = 0;
  CHECK_EQ(add(s, "resume", resume, "", &t3), BTX_E_DUPLICATE_TORRENT);
  CHECK_EQ(btx_session_close(s), BTX_OK);
}

static void test_pause_stops_transfer() {
  // Big enough (8 MiB in 16 KiB pieces) that the pause lands mid-transfer.
  fs::path root = fs::temp_directory_path() / ("btx-test-" + std::to_string(::getpid())) / "pause";
  fs::create_directories(root / "big");
  {
    std::string chunk(1 << 20, '\0');
    std::ofstream f(root / "big" / "big.bin", std::ios::binary);
    for (int m = 0; m < 8; ++m) {
      for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>((i * 131 + m * 7) >> 3);
      f << chunk;
    }
  }
  lt::entry o(lt::entry::dictionary_t);
  o["path"] = (root / "big").string();
  o["version"] = 1;
  o["piece_size"] = 16384;
  std::string opts = bencode(o);
  uint32_t blob = 0, size = 0;
  CHECK_EQ(btx_create_torrent(u8(opts), n32(opts), &blob, &size), BTX_OK);
  std::vector<char> res(size);
  CHECK_EQ(btx_blob_take(blob, reinterpret_cast<uint8_t*>(res.data()), size), BTX_OK);
  lt::error_code ec;
  auto n = lt::bdecode(res, ec);
  std::string torrent(n.dict_find_string_value("torrent"));

  // TCP only: under heavy load, uTP over loopback has stalled a resumed
  // transfer for many seconds; this test is about pause, not uTP.
  lt::entry tcp(lt::entry::dictionary_t);
  tcp["enable_outgoing_utp"] = 0;
  tcp["enable_incoming_utp"] = 0;
  btx_session seeder = open_session(tcp), leecher = open_session(tcp);
  add_seed(seeder, torrent, root);
  btx_torrent lt_ = 0;
  CHECK_EQ(add(leecher, "torrent", torrent, (root / "out").string(), &lt_), BTX_OK);
  uint32_t port = 0;
  CHECK_EQ(btx_session_listen_port(seeder, &port), BTX_OK);
  std::string host = "127.0.0.1";
  std::atomic<bool> stop{false};
  std::thread pump([&] { drain_until(seeder, [](std::string const&, uint32_t) { return false; }, 30, &stop); });

  CHECK_EQ(btx_torrent_connect_peer(lt_, u8(host), n32(host), port), BTX_OK);
  CHECK(drain_until_ms(leecher, [&](Ev const& e) { return is_event(e, "piece_finished", lt_); }, 10000));
  CHECK_EQ(btx_torrent_pause(lt_), BTX_OK);
  CHECK(drain_until_ms(leecher, [&](Ev const& e) { return is_event(e, "torrent_paused", lt_); }, 5000));
  auto a = status(lt_);
  CHECK_EQ(a[BTX_ST_IS_FINISHED], 0.0);  // the pause landed mid-transfer
  CHECK(a[BTX_ST_TOTAL_DOWNLOAD] > 0);
  CHECK(static_cast<uint64_t>(a[BTX_ST_FLAGS]) & 16u);  // torrent_flags::paused (bit 4)
  CHECK_EQ(static_cast<uint64_t>(a[BTX_ST_FLAGS]) & 32u, 0u);  // not auto_managed (bit 5)
  // While paused no peer connects and no payload arrives. Pieces whose
  // blocks were already in flight may still finish hashing, so the piece
  // count is not frozen, but the payload counter is. (The wait is for an
  // event that must not come, bounded by a deadline.)
  bool connected = drain_until_ms(leecher, [&](Ev const& e) { return is_event(e, "peer_connect", lt_); }, 500);
  CHECK(!connected);
  auto b = status(lt_);
  CHECK_EQ(b[BTX_ST_TOTAL_DOWNLOAD], a[BTX_ST_TOTAL_DOWNLOAD]);
  CHECK_EQ(b[BTX_ST_NUM_PEERS], 0.0);
  CHECK_EQ(b[BTX_ST_NUM_CONNECTIONS], 0.0);
  CHECK_EQ(b[BTX_ST_IS_FINISHED], 0.0);

  // Resumed, it finishes.
  CHECK_EQ(btx_torrent_resume(lt_), BTX_OK);
  CHECK_EQ(btx_torrent_connect_peer(lt_, u8(host), n32(host), port), BTX_OK);
  CHECK(drain_until_ms(leecher, [&](Ev const& e) { return is_event(e, "torrent_finished", lt_); }, 20000));
  auto c = status(lt_);
  CHECK_EQ(c[BTX_ST_TOTAL_DONE], 8.0 * (1 << 20));
  stop = true;
  pump.join();
  CHECK_EQ(btx_session_close(leecher), BTX_OK);
  CHECK_EQ(btx_session_close(seeder), BTX_OK);
}

// Torrent and session calls racing a close on other threads: every call
// returns OK, BAD_HANDLE or CLOSED: no crash, no hang, no INTERNAL.
static void test_close_races_calls() {
  fs::path root = make_tree("race");
  Created c = create(root / "data", 3);
  for (int round = 0; round < 8; ++round) {
    btx_session s = open_session();
    btx_torrent t = 0, m = 0;  // t: with storage (checking races the close too); m: a magnet
    CHECK_EQ(add(s, "torrent", c.torrent, root.string(), &t), BTX_OK);
    CHECK_EQ(add(s, "magnet", "magnet:?xt=urn:btih:4123456789abcdef0123456789abcdef01234567", "/tmp/btx-x", &m), BTX_OK);
    std::atomic<int> unexpected{0}, started{0};
    std::atomic<long> calls{0};
    auto ok = [&](int32_t rc) {
      calls++;
      if (rc != BTX_OK && rc != BTX_E_BAD_HANDLE && rc != BTX_E_CLOSED) {
        std::fprintf(stderr, "round %d: unexpected status %d: %s\n", round, rc, last_error(0).c_str());
        unexpected++;
      }
      return rc == BTX_OK;
    };
    std::vector<std::thread> threads;
    threads.emplace_back([&] {
      std::vector<double> nums(BTX_STATUS_NUM_FIELDS);
      uint8_t strs[256];
      uint8_t ih[52];
      uint32_t f;
      started++;
      while (ok(btx_torrent_status(t, nums.data(), strs, sizeof strs)) | ok(btx_torrent_info_hash(m, ih, &f))) {
      }
    });
    threads.emplace_back([&] {
      started++;
      while (ok(btx_torrent_pause(t)) | ok(btx_torrent_resume(m)) | ok(btx_torrent_save_resume(t)) |
             ok(btx_torrent_resume(t))) {
      }
    });
    threads.emplace_back([&] {
      std::vector<uint8_t> buf(1 << 14);
      uint32_t out[3], port;
      started++;
      while (ok(btx_session_drain(s, buf.data(), static_cast<uint32_t>(buf.size()), out)) |
             ok(btx_session_listen_port(s, &port))) {
        // Resume data blobs are not taken here: they are freed at exit.
      }
    });
    // Adds racing the close: no handle may outlive the session. Each added
    // torrent but the newest is removed again (a session closing with
    // thousands of torrents would only make the test slow).
    std::vector<btx_torrent> added;
    threads.emplace_back([&] {
      started++;
      for (uint32_t i = 0;; ++i) {
        char hex[41];
        std::snprintf(hex, sizeof hex, "%08x%032x", 0x50000000u + i, round);
        btx_torrent a = 0;
        if (!ok(add(s, "magnet", std::string("magnet:?xt=urn:btih:") + hex, "/tmp/btx-x", &a))) break;
        if (!added.empty() && !ok(btx_torrent_remove(added.back(), 0))) break;
        added.push_back(a);
      }
    });
    while (started < 4 || calls < 300) std::this_thread::yield();
    CHECK_EQ(btx_session_close(s), BTX_OK);
    for (auto& th : threads) th.join();
    CHECK_EQ(unexpected.load(), 0);
    for (btx_torrent a : added) CHECK_EQ(btx_torrent_pause(a), BTX_E_BAD_HANDLE);
  }
}

int main(int argc, char** argv) {
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
      {"handle table wrap", test_handle_table_wrap},
      {"handle generations", test_handle_generations},
      {"status strings", test_status_strings},
      {"remove deletes files", test_remove_deletes_files},
      {"resume round trip", test_resume_round_trip},
      {"pause stops transfer", test_pause_stops_transfer},
      {"close races calls", test_close_races_calls},
  };
  // --check-list NAME...: the names ctest registers (CMakeLists.txt) must be
  // exactly the tests here, so a new test cannot be left out of ctest.
  if (argc >= 2 && std::strcmp(argv[1], "--check-list") == 0) {
    std::vector<std::string> mine, listed(argv + 2, argv + argc);
    for (auto& t : tests) mine.emplace_back(t.name);
    std::sort(mine.begin(), mine.end());
    std::sort(listed.begin(), listed.end());
    if (mine == listed) return 0;
    std::fprintf(stderr, "ctest's list of test names differs from the tests in btx_tests.cpp:\n");
    for (auto& n : mine)
      if (!std::binary_search(listed.begin(), listed.end(), n)) std::fprintf(stderr, "  not in CMakeLists.txt: %s\n", n.c_str());
    for (auto& n : listed)
      if (!std::binary_search(mine.begin(), mine.end(), n)) std::fprintf(stderr, "  no such test: %s\n", n.c_str());
    return 1;
  }
  int passed = 0, failed = 0;
  for (auto& t : tests) {
    // Arguments, when given, name the tests to run (ctest runs one per case).
    bool selected = argc < 2;
    for (int i = 1; i < argc; ++i) selected = selected || std::strcmp(argv[i], t.name) == 0;
    if (!selected) continue;
    int before = g_failures;
    t.fn();
    bool ok = g_failures == before;
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", t.name);
    (ok ? passed : failed)++;
  }
  fs::remove_all(fs::temp_directory_path() / ("btx-test-" + std::to_string(::getpid())));
  if (passed + failed == 0) {
    std::fprintf(stderr, "no test is named like that\n");
    return 2;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
