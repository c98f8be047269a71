// C++ tests of the IP filter and DHT entry points' validation: bad records,
// reversed ranges, the loopback guard, BEP 44 sizes and keys. No network:
// sessions listen on 127.0.0.1 with the DHT off unless a case needs it on.
#include <array>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/kademlia/ed25519.hpp>
#include <libtorrent/kademlia/item.hpp>
#include <libtorrent/kademlia/types.hpp>

#include "btx.h"

static int g_failures = 0;
#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
      ++g_failures;                                                                   \
    }                                                                                 \
  } while (0)
#define CHECK_EQ(a, b)                                                                                     \
  do {                                                                                                     \
    long long va = (a), vb = (b);                                                                          \
    if (va != vb) {                                                                                        \
      std::fprintf(stderr, "%s:%d: CHECK_EQ failed: %s (%lld) != %s (%lld)\n", __FILE__, __LINE__, #a, va, \
                   #b, vb);                                                                                \
      ++g_failures;                                                                                        \
    }                                                                                                      \
  } while (0)

static std::string bencode(lt::entry const& e) {
  std::string out;
  lt::bencode(std::back_inserter(out), e);
  return out;
}
static uint8_t const* u8(std::string const& s) { return reinterpret_cast<uint8_t const*>(s.data()); }
static uint32_t n32(std::string const& s) { return static_cast<uint32_t>(s.size()); }

static btx_session open_session(bool dht, uint32_t flags) {
  lt::entry e(lt::entry::dictionary_t);
  e["listen_interfaces"] = "127.0.0.1:0";
  e["enable_dht"] = dht ? 1 : 0;
  e["enable_lsd"] = 0;
  e["enable_upnp"] = 0;
  e["enable_natpmp"] = 0;
  e["dht_bootstrap_nodes"] = "";
  std::string s = bencode(e);
  btx_session h = 0;
  CHECK_EQ(btx_session_open(u8(s), n32(s), flags, &h), BTX_OK);
  return h;
}

using Record = std::array<uint8_t, BTX_IP_RANGE_SIZE>;
static Record v4(uint8_t access, std::array<uint8_t, 4> a, std::array<uint8_t, 4> b) {
  Record r{};
  r[0] = 4;
  r[1] = access;
  std::memcpy(&r[2], a.data(), 4);
  std::memcpy(&r[18], b.data(), 4);
  return r;
}
static Record v6(uint8_t access, uint8_t last_a, uint8_t last_b) {
  Record r{};
  r[0] = 6;
  r[1] = access;
  r[2] = 0x20;
  r[18] = 0x20;
  r[17] = last_a;
  r[33] = last_b;
  return r;
}
static int32_t add(btx_session s, std::vector<Record> const& rs) {
  std::vector<uint8_t> buf;
  for (auto const& r : rs) buf.insert(buf.end(), r.begin(), r.end());
  return btx_ip_filter_add(s, buf.data(), static_cast<uint32_t>(buf.size()));
}
static uint32_t access_of(btx_session s, char const* ip) {
  uint32_t a = 99;
  CHECK_EQ(btx_ip_filter_access(s, reinterpret_cast<uint8_t const*>(ip), static_cast<uint32_t>(std::strlen(ip)), &a),
           BTX_OK);
  return a;
}
static std::vector<uint8_t> export_filter(btx_session s, uint32_t which) {
  uint32_t blob = 0, size = 0;
  CHECK_EQ(btx_ip_filter_export(s, which, &blob, &size), BTX_OK);
  std::vector<uint8_t> out(size);
  CHECK_EQ(btx_blob_take(blob, out.data(), size), BTX_OK);
  return out;
}

static void ip_filter_validation() {
  btx_session s = open_session(false, 0);
  auto before = export_filter(s, BTX_IP_FILTER_IN_FORCE);
  CHECK_EQ(before.size(), 2 * BTX_IP_RANGE_SIZE);  // all v4 allowed, all v6 allowed
  // Reversed, bad family, bad access, non-zero IPv4 padding: all refused, and
  // a good record in the same call is not applied either.
  Record good = v4(1, {10, 0, 0, 0}, {10, 0, 0, 255});
  Record reversed4 = v4(1, {10, 0, 0, 9}, {10, 0, 0, 1});
  Record reversed6 = v6(1, 9, 1);
  Record family = good;
  family[0] = 5;
  Record access = good;
  access[1] = 2;
  Record padding = good;
  padding[2 + 4] = 1;
  for (auto const& bad : {reversed4, reversed6, family, access, padding}) CHECK_EQ(add(s, {good, bad}), BTX_E_INVALID_ARGUMENT);
  CHECK(export_filter(s, BTX_IP_FILTER_IN_FORCE) == before);
  CHECK_EQ(access_of(s, "10.0.0.1"), 0);
  // Length not a multiple of 34; null buffer with a length.
  CHECK_EQ(btx_ip_filter_add(s, good.data(), 33), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_ip_filter_add(s, nullptr, 34), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_ip_filter_add(s, nullptr, 0), BTX_OK);
  // Accepted: first == last, and a v6 range.
  CHECK_EQ(add(s, {good, v4(1, {10, 9, 9, 9}, {10, 9, 9, 9}), v6(1, 1, 9)}), BTX_OK);
  CHECK_EQ(access_of(s, "10.0.0.7"), 1);
  CHECK_EQ(access_of(s, "10.0.1.0"), 0);
  CHECK_EQ(access_of(s, "10.9.9.9"), 1);
  CHECK_EQ(access_of(s, "2000::5"), 1);
  CHECK_EQ(export_filter(s, BTX_IP_FILTER_IN_FORCE).size(), 8 * BTX_IP_RANGE_SIZE);
  // Bad arguments of the other calls.
  uint32_t a = 0, blob = 0, size = 0;
  CHECK_EQ(btx_ip_filter_access(s, reinterpret_cast<uint8_t const*>("10.0.0"), 6, &a), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_ip_filter_access(s, nullptr, 0, &a), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_ip_filter_export(s, 2, &blob, &size), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_ip_filter_clear(s), BTX_OK);
  CHECK(export_filter(s, BTX_IP_FILTER_IN_FORCE) == before);
  CHECK_EQ(btx_session_close(s), BTX_OK);
  CHECK_EQ(btx_ip_filter_clear(s), BTX_E_BAD_HANDLE);
}

static void ip_filter_loopback_guard() {
  btx_session s = open_session(false, BTX_SESSION_LOOPBACK_ONLY);
  CHECK_EQ(access_of(s, "10.0.0.1"), 1);
  CHECK_EQ(access_of(s, "127.0.0.2"), 0);
  // Allow everything: the guard stays on top.
  CHECK_EQ(add(s, {v4(0, {0, 0, 0, 0}, {255, 255, 255, 255}), v4(1, {127, 0, 0, 2}, {127, 0, 0, 2})}), BTX_OK);
  CHECK_EQ(access_of(s, "10.0.0.1"), 1);
  CHECK_EQ(access_of(s, "0.0.0.0"), 1);
  CHECK_EQ(access_of(s, "::2"), 1);
  CHECK_EQ(access_of(s, "::1"), 0);
  CHECK_EQ(access_of(s, "127.0.0.1"), 0);
  CHECK_EQ(access_of(s, "127.0.0.2"), 1);
  CHECK_EQ(export_filter(s, BTX_IP_FILTER_USER).size(), 4 * BTX_IP_RANGE_SIZE);    // allow, block .2, allow, v6 allow
  CHECK_EQ(export_filter(s, BTX_IP_FILTER_IN_FORCE).size(), 8 * BTX_IP_RANGE_SIZE);  // 5 v4 + 3 v6
  CHECK_EQ(btx_session_close(s), BTX_OK);
}

static void dht_validation() {
  btx_session off = open_session(false, BTX_SESSION_LOOPBACK_ONLY);
  std::string hello = "5:hello";
  uint8_t target[20];
  CHECK_EQ(btx_dht_put_immutable(off, u8(hello), n32(hello), target), BTX_E_ENGINE);  // DHT off
  std::string big = "997:" + std::string(997, 'x');                                    // 1001 bytes
  CHECK_EQ(btx_dht_put_immutable(off, u8(big), n32(big), target), BTX_E_INVALID_ARGUMENT);
  std::string trailing = "5:helloX";
  CHECK_EQ(btx_dht_put_immutable(off, u8(trailing), n32(trailing), target), BTX_E_INVALID_ARGUMENT);
  std::string junk = "x";
  CHECK_EQ(btx_dht_put_immutable(off, u8(junk), n32(junk), target), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_dht_put_immutable(off, nullptr, 0, target), BTX_E_INVALID_ARGUMENT);
  // Unsorted dictionary keys are re-encoded canonically before the size check.
  std::string unsorted = "d1:bi1e1:ai2ee";
  CHECK_EQ(btx_dht_put_immutable(off, u8(unsorted), n32(unsorted), target), BTX_E_ENGINE);

  // Key pairs: a seed determines the pair.
  uint8_t seed[32], pk1[32], sk1[64], pk2[32], sk2[64], pk3[32], sk3[64], out_seed[32];
  std::memset(seed, 7, sizeof seed);
  CHECK_EQ(btx_dht_keypair(seed, pk1, sk1, nullptr), BTX_OK);
  CHECK_EQ(btx_dht_keypair(seed, pk2, sk2, out_seed), BTX_OK);
  CHECK(std::memcmp(pk1, pk2, 32) == 0 && std::memcmp(sk1, sk2, 64) == 0 && std::memcmp(seed, out_seed, 32) == 0);
  CHECK_EQ(btx_dht_keypair(nullptr, pk3, sk3, out_seed), BTX_OK);
  CHECK(std::memcmp(pk1, pk3, 32) != 0);
  CHECK_EQ(btx_dht_keypair(seed, nullptr, sk1, nullptr), BTX_E_INVALID_ARGUMENT);

  uint32_t req = 0;
  int64_t seq_cas[2] = {1, 0};
  std::string v = "1:v";
  // Another pair's secret key, salt over 64 bytes, bad seq, unknown flags.
  CHECK_EQ(btx_dht_put_mutable(off, pk1, sk3, u8(v), n32(v), nullptr, 0, seq_cas, BTX_DHT_PUT_SEQ, &req),
           BTX_E_INVALID_ARGUMENT);
  std::string salt(65, 's');
  CHECK_EQ(btx_dht_put_mutable(off, pk1, sk1, u8(v), n32(v), u8(salt), n32(salt), seq_cas, 0, &req),
           BTX_E_INVALID_ARGUMENT);
  int64_t negative[2] = {-1, 0};
  CHECK_EQ(btx_dht_put_mutable(off, pk1, sk1, u8(v), n32(v), nullptr, 0, negative, BTX_DHT_PUT_SEQ, &req),
           BTX_E_INVALID_ARGUMENT);
  int64_t huge[2] = {0, int64_t(1) << 53};
  CHECK_EQ(btx_dht_put_mutable(off, pk1, sk1, u8(v), n32(v), nullptr, 0, huge, BTX_DHT_PUT_CAS, &req),
           BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_dht_put_mutable(off, pk1, sk1, u8(v), n32(v), nullptr, 0, seq_cas, 4, &req), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_dht_put_mutable(off, pk1, sk1, u8(big), n32(big), nullptr, 0, seq_cas, 0, &req),
           BTX_E_INVALID_ARGUMENT);
  // Valid, but the DHT is off.
  CHECK_EQ(btx_dht_put_mutable(off, pk1, sk1, u8(v), n32(v), nullptr, 0, seq_cas, BTX_DHT_PUT_SEQ, &req), BTX_E_ENGINE);
  CHECK_EQ(btx_dht_get_mutable(off, pk1, u8(salt), n32(salt)), BTX_E_INVALID_ARGUMENT);

  // Nodes: numeric, loopback on a loopback-only session, ports 1..65535.
  auto node = [&](char const* host, uint32_t port) {
    return btx_dht_add_node(off, reinterpret_cast<uint8_t const*>(host), static_cast<uint32_t>(std::strlen(host)), port);
  };
  CHECK_EQ(node("10.0.0.1", 6881), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(node("localhost", 6881), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(node("127.0.0.1", 0), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(node("127.0.0.1", 65536), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(node("127.0.0.1", 6881), BTX_OK);
  uint8_t ih[20] = {1};
  CHECK_EQ(btx_dht_announce(off, ih, 70000, 0), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_dht_announce(off, ih, 0, 8), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_dht_announce(off, nullptr, 0, 0), BTX_E_INVALID_ARGUMENT);
  std::string no_state = "d1:ai1ee";
  CHECK_EQ(btx_dht_load_state(off, u8(no_state), n32(no_state)), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_dht_load_state(off, u8(junk), n32(junk)), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_session_close(off), BTX_OK);

  // With the DHT on, a valid immutable put is accepted; its target is SHA-1 of the value.
  btx_session on = open_session(true, BTX_SESSION_LOOPBACK_ONLY);
  CHECK_EQ(btx_dht_put_immutable(on, u8(hello), n32(hello), target), BTX_OK);
  static uint8_t const expected[20] = {0xe2, 0x89, 0x10, 0xea, 0x0a, 0xdb, 0x94, 0xdd, 0x45, 0xce,
                                       0xd7, 0x5f, 0xbf, 0xf3, 0xe1, 0x35, 0xc0, 0x1b, 0xc4, 0x37};
  CHECK(std::memcmp(target, expected, 20) == 0);
  CHECK_EQ(btx_dht_put_mutable(on, pk1, sk1, u8(v), n32(v), nullptr, 0, seq_cas, BTX_DHT_PUT_SEQ, &req), BTX_OK);
  CHECK(req != 0);
  CHECK_EQ(btx_session_close(on), BTX_OK);
}

// Items signed elsewhere: btx_dht_verify_mutable agrees with libtorrent's
// own signer (sign_mutable_item) and refuses every altered part;
// btx_dht_put_mutable_signed checks the signature before anything else.
static void dht_signed_items() {
  uint8_t seed[32], pk[32], sk[64], pk2[32], sk2[64];
  std::memset(seed, 3, sizeof seed);
  CHECK_EQ(btx_dht_keypair(seed, pk, sk, nullptr), BTX_OK);
  CHECK_EQ(btx_dht_keypair(nullptr, pk2, sk2, nullptr), BTX_OK);
  std::string v = "d2:ih20:aaaaaaaaaaaaaaaaaaaae";
  std::string salt = "channel";
  int64_t seq = 42;
  auto sign = [&](std::string const& value, std::string const& s, int64_t q) {
    lt::dht::signature sig = lt::dht::sign_mutable_item({value.data(), (std::ptrdiff_t)value.size()},
                                                        {s.data(), (std::ptrdiff_t)s.size()}, lt::dht::sequence_number(q),
                                                        lt::dht::public_key(reinterpret_cast<char const*>(pk)),
                                                        lt::dht::secret_key(reinterpret_cast<char const*>(sk)));
    std::array<uint8_t, 64> out;
    std::memcpy(out.data(), sig.bytes.data(), 64);
    return out;
  };
  auto sig = sign(v, salt, seq);
  auto verify = [&](uint8_t const* key, uint8_t const* sg, int64_t q, std::string const& s, std::string const& value) {
    return btx_dht_verify_mutable(key, sg, &q, s.empty() ? nullptr : u8(s), n32(s), u8(value), n32(value));
  };
  CHECK_EQ(verify(pk, sig.data(), seq, salt, v), BTX_OK);
  CHECK_EQ(verify(pk, sig.data(), seq + 1, salt, v), BTX_E_DHT_BAD_SIGNATURE);     // another seq
  CHECK_EQ(verify(pk, sig.data(), seq, "other", v), BTX_E_DHT_BAD_SIGNATURE);      // another salt
  CHECK_EQ(verify(pk, sig.data(), seq, "", v), BTX_E_DHT_BAD_SIGNATURE);           // no salt
  CHECK_EQ(verify(pk2, sig.data(), seq, salt, v), BTX_E_DHT_BAD_SIGNATURE);        // another key
  std::string v2 = "d2:ih20:baaaaaaaaaaaaaaaaaaae";
  CHECK_EQ(verify(pk, sig.data(), seq, salt, v2), BTX_E_DHT_BAD_SIGNATURE);        // another value
  auto forged = sig;
  forged[10] ^= 1;
  CHECK_EQ(verify(pk, forged.data(), seq, salt, v), BTX_E_DHT_BAD_SIGNATURE);      // one bit flipped
  // Without a salt the message has no salt part.
  auto plain = sign(v, "", 0);
  CHECK_EQ(verify(pk, plain.data(), 0, "", v), BTX_OK);
  // The value is checked in canonical form: unsorted keys verify as sorted.
  std::string sorted = "d1:ai2e1:bi1ee", unsorted = "d1:bi1e1:ai2ee";
  auto sig3 = sign(sorted, salt, 7);
  CHECK_EQ(verify(pk, sig3.data(), 7, salt, unsorted), BTX_OK);
  // Malformed arguments.
  int64_t neg = -1, huge = int64_t(1) << 53;
  CHECK_EQ(btx_dht_verify_mutable(pk, sig.data(), &neg, u8(salt), n32(salt), u8(v), n32(v)), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_dht_verify_mutable(pk, sig.data(), &huge, u8(salt), n32(salt), u8(v), n32(v)), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_dht_verify_mutable(pk, sig.data(), nullptr, u8(salt), n32(salt), u8(v), n32(v)), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_dht_verify_mutable(nullptr, sig.data(), &seq, u8(salt), n32(salt), u8(v), n32(v)), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_dht_verify_mutable(pk, nullptr, &seq, u8(salt), n32(salt), u8(v), n32(v)), BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_dht_verify_mutable(pk, sig.data(), &seq, u8(salt), n32(salt), nullptr, 0), BTX_E_INVALID_ARGUMENT);
  std::string long_salt(65, 's');
  CHECK_EQ(btx_dht_verify_mutable(pk, sig.data(), &seq, u8(long_salt), n32(long_salt), u8(v), n32(v)),
           BTX_E_INVALID_ARGUMENT);
  std::string junk = "5:hello!";
  CHECK_EQ(btx_dht_verify_mutable(pk, sig.data(), &seq, u8(salt), n32(salt), u8(junk), n32(junk)),
           BTX_E_INVALID_ARGUMENT);
  // The error text is readable for session-less calls.
  uint8_t text[256];
  uint32_t text_len = 0;
  CHECK_EQ(verify(pk, forged.data(), seq, salt, v), BTX_E_DHT_BAD_SIGNATURE);
  CHECK_EQ(btx_last_error(0, text, sizeof text, &text_len), BTX_OK);
  CHECK(std::string(reinterpret_cast<char*>(text), text_len).find("signature") != std::string::npos);

  // Signed puts: the signature is checked before the DHT is needed.
  uint32_t req = 0;
  btx_session off = open_session(false, BTX_SESSION_LOOPBACK_ONLY);
  CHECK_EQ(btx_dht_put_mutable_signed(off, pk, forged.data(), &seq, u8(salt), n32(salt), u8(v), n32(v), &req),
           BTX_E_DHT_BAD_SIGNATURE);
  CHECK_EQ(btx_dht_put_mutable_signed(off, pk2, sig.data(), &seq, u8(salt), n32(salt), u8(v), n32(v), &req),
           BTX_E_DHT_BAD_SIGNATURE);
  CHECK_EQ(btx_dht_put_mutable_signed(off, pk, sig.data(), &seq, u8(salt), n32(salt), u8(v), n32(v), nullptr),
           BTX_E_INVALID_ARGUMENT);
  CHECK_EQ(btx_dht_put_mutable_signed(off, pk, sig.data(), &seq, u8(salt), n32(salt), u8(v), n32(v), &req),
           BTX_E_ENGINE);  // valid, but the DHT is off
  CHECK_EQ(btx_session_close(off), BTX_OK);
  CHECK_EQ(btx_dht_put_mutable_signed(off, pk, sig.data(), &seq, u8(salt), n32(salt), u8(v), n32(v), &req),
           BTX_E_BAD_HANDLE);
  btx_session on = open_session(true, BTX_SESSION_LOOPBACK_ONLY);
  CHECK_EQ(btx_dht_put_mutable_signed(on, pk, forged.data(), &seq, u8(salt), n32(salt), u8(v), n32(v), &req),
           BTX_E_DHT_BAD_SIGNATURE);
  req = 0;
  CHECK_EQ(btx_dht_put_mutable_signed(on, pk, sig.data(), &seq, u8(salt), n32(salt), u8(v), n32(v), &req), BTX_OK);
  CHECK(req != 0);
  CHECK_EQ(btx_session_close(on), BTX_OK);
}

int main() {
  ip_filter_validation();
  ip_filter_loopback_guard();
  dht_validation();
  dht_signed_items();
  if (g_failures) {
    std::fprintf(stderr, "%d check(s) failed\n", g_failures);
    return 1;
  }
  std::printf("ip filter and dht: all checks passed\n");
  return 0;
}
