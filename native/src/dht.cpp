// The DHT: nodes, announces and peer lookups, routing-table stats, state
// save/load, and BEP 44 items (immutable, and mutable items signed here with
// ed25519 inside libtorrent's put callback, on its network thread), plus
// signature checks and re-puts of mutable items signed elsewhere.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>

#include <libtorrent/address.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/hasher.hpp>
#include <libtorrent/kademlia/announce_flags.hpp>
#include <libtorrent/kademlia/ed25519.hpp>
#include <libtorrent/kademlia/item.hpp>
#include <libtorrent/kademlia/types.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/settings_pack.hpp>

#include "state.hpp"

namespace btx {

// A mutable put in flight. The callback (network thread) writes the outcome
// fields, then publishes them with `outcome` (release); the drain reads them
// after the dht_put alert, which libtorrent posts after the callback ran.
struct PutRequest {
  uint32_t id = 0;
  std::array<char, 32> pk{};
  std::string salt;
  lt::entry value;
  std::string bencoded;  // canonical bencoding of `value`
  bool has_seq = false, has_cas = false;
  int64_t seq = 0, cas = 0;
  // btx_dht_put_mutable_signed: the held item's signature (with `seq`);
  // no secret key is involved.
  std::array<char, 64> sig{};
  std::atomic<int> outcome{0};  // 0 pending, then one of the kPut* below
  int64_t put_seq = 0;
  std::array<char, 64> put_sig{};
};

// The one copy of a put's secret key: owned by the put callback only (not
// by the pending list), wiped when the callback ran or when libtorrent drops
// the callback unrun.
struct Secret {
  std::array<char, 64> sk{};
  void wipe() noexcept {
    volatile char* p = sk.data();
    for (size_t i = 0; i < sk.size(); ++i) p[i] = 0;
  }
  ~Secret() { wipe(); }
};

struct DhtPuts {
  std::mutex mu;
  uint32_t next_id = 0;
  std::vector<std::shared_ptr<PutRequest>> pending;
};

}  // namespace btx

namespace {

constexpr int kPutSigned = 1;
constexpr int kPutStale = 2;
constexpr int kPutCasMismatch = 3;
constexpr size_t kMaxItemSize = 1000;  // BEP 44: bencoded "v" at most 1000 bytes
constexpr size_t kMaxSaltSize = 64;     // BEP 44
constexpr int64_t kMaxSeq = (int64_t(1) << 53) - 1;  // exact in a double (events)

std::mutex g_puts_init_mu;

std::shared_ptr<btx::DhtPuts> puts_of(btx::SessionState& s) {
  std::lock_guard<std::mutex> l(g_puts_init_mu);
  if (!s.dht_puts) s.dht_puts = std::make_shared<btx::DhtPuts>();
  return s.dht_puts;
}

void require_dht(lt::session& ses) {
  if (!ses.is_dht_running()) btx::fail(BTX_E_ENGINE, "the DHT is not running (setting enable_dht is off)");
}

bool is_loopback(lt::address const& a) {
  return a.is_v4() ? a.to_v4().to_bytes()[0] == 127 : a == lt::address(lt::address_v6::loopback());
}

// A numeric address; on a loopback-only session, a loopback one.
lt::address read_host(btx::SessionState& s, uint8_t const* host, uint32_t len) {
  if (!host || len == 0 || len > 64) btx::fail(BTX_E_INVALID_ARGUMENT, "host must be a numeric IP address");
  std::string text(reinterpret_cast<char const*>(host), len);
  lt::error_code ec;
  lt::address a = lt::make_address(text, ec);
  if (ec) btx::fail(BTX_E_INVALID_ARGUMENT, "not a numeric IP address: " + text);
  if ((s.flags & BTX_SESSION_LOOPBACK_ONLY) && !is_loopback(a))
    btx::fail(BTX_E_INVALID_ARGUMENT, "an isolated session talks to loopback DHT nodes only, not " + text);
  return a;
}

void check_port(uint32_t port) {
  if (port < 1 || port > 65535) btx::fail(BTX_E_INVALID_ARGUMENT, "port must be 1..65535");
}

lt::sha1_hash read_hash(uint8_t const* p, char const* what) {
  if (!p) btx::fail(BTX_E_INVALID_ARGUMENT, std::string(what) + " is null");
  return lt::sha1_hash(reinterpret_cast<char const*>(p));
}

// Decodes a BEP 44 value: well-formed bencode, nothing trailing, at most
// 1000 bytes once canonically re-encoded.
lt::entry read_value(uint8_t const* buf, uint32_t len, std::string& canonical) {
  if (!buf || len == 0) btx::fail(BTX_E_INVALID_ARGUMENT, "value is empty (give a bencoded value)");
  if (len > 64 * 1024) btx::fail(BTX_E_INVALID_ARGUMENT, "value is larger than 1000 bytes bencoded (BEP 44)");
  lt::error_code ec;
  int pos = 0;
  lt::bdecode_node n =
      lt::bdecode({reinterpret_cast<char const*>(buf), static_cast<std::ptrdiff_t>(len)}, ec, &pos, 100, 100000);
  if (ec) btx::fail(BTX_E_INVALID_ARGUMENT, "value is not bencoded: " + ec.message());
  if (n.data_section().size() != static_cast<std::ptrdiff_t>(len))
    btx::fail(BTX_E_INVALID_ARGUMENT, "value has bytes after its bencoded end");
  lt::entry e;
  e = n;
  canonical.clear();
  lt::bencode(std::back_inserter(canonical), e);
  if (canonical.size() > kMaxItemSize)
    btx::fail(BTX_E_INVALID_ARGUMENT,
              "value is " + std::to_string(canonical.size()) + " bytes bencoded; BEP 44 allows at most 1000");
  return e;
}

// True when `sk` is the secret key of `pk` (signs a probe that `pk` verifies).
bool keys_match(lt::dht::public_key const& pk, lt::dht::secret_key const& sk) {
  static char const probe[] = "torrentxt key check";
  auto sig = lt::dht::ed25519_sign({probe, sizeof probe - 1}, pk, sk);
  return lt::dht::ed25519_verify(sig, {probe, sizeof probe - 1}, pk);
}

// The message a BEP 44 mutable item's signature covers (libtorrent's
// canonical_string): "4:salt<n>:<salt>" when there is a salt, then
// "3:seqi<seq>e1:v" and the bencoded value.
std::string signed_message(std::string const& bencoded, std::string const& salt, int64_t seq) {
  std::string m;
  if (!salt.empty()) m += "4:salt" + std::to_string(salt.size()) + ":" + salt;
  m += "3:seqi" + std::to_string(seq) + "e1:v";
  m += bencoded;
  return m;
}

// libtorrent's verify_mutable_item (not exported by its shared library).
bool verify_item(std::string const& bencoded, std::string const& salt, int64_t seq, std::array<char, 32> const& pk,
                 std::array<char, 64> const& sig) {
  std::string const m = signed_message(bencoded, salt, seq);
  lt::dht::signature s;
  s.bytes = sig;
  return lt::dht::ed25519_verify(s, {m.data(), static_cast<std::ptrdiff_t>(m.size())}, lt::dht::public_key(pk.data()));
}

// The common arguments of the verify and signed-put calls, validated.
struct SignedArgs {
  std::array<char, 32> pk{};
  std::array<char, 64> sig{};
  int64_t seq = 0;
  std::string salt;
  lt::entry value;
  std::string bencoded;
};

SignedArgs read_signed(uint8_t const* public_key, uint8_t const* signature, int64_t const* seq, uint8_t const* salt,
                       uint32_t salt_len, uint8_t const* value, uint32_t len) {
  SignedArgs a;
  if (!public_key || !signature) btx::fail(BTX_E_INVALID_ARGUMENT, "public key and signature are required");
  if (!seq) btx::fail(BTX_E_INVALID_ARGUMENT, "seq: null buffer");
  if (*seq < 0 || *seq > kMaxSeq) btx::fail(BTX_E_INVALID_ARGUMENT, "seq must be 0..2^53-1");
  if (salt_len > kMaxSaltSize) btx::fail(BTX_E_INVALID_ARGUMENT, "salt is longer than 64 bytes (BEP 44)");
  if (salt_len && !salt) btx::fail(BTX_E_INVALID_ARGUMENT, "salt: null buffer");
  a.value = read_value(value, len, a.bencoded);
  std::memcpy(a.pk.data(), public_key, 32);
  std::memcpy(a.sig.data(), signature, 64);
  a.seq = *seq;
  if (salt_len) a.salt.assign(reinterpret_cast<char const*>(salt), salt_len);
  return a;
}

void require_signature(SignedArgs const& a) {
  if (!verify_item(a.bencoded, a.salt, a.seq, a.pk, a.sig))
    btx::fail(BTX_E_DHT_BAD_SIGNATURE, "the signature does not verify for this public key, salt, seq and value (BEP 44)");
}

}  // namespace

namespace btx {

void dht_put_outcome(SessionState& s, lt::alert const* a, double& request_id, std::string& error) {
  request_id = 0;
  error.clear();
  auto const* x = static_cast<lt::dht_put_alert const*>(a);
  std::shared_ptr<DhtPuts> puts;
  {
    std::lock_guard<std::mutex> l(g_puts_init_mu);
    puts = s.dht_puts;
  }
  if (!puts) return;
  std::lock_guard<std::mutex> l(puts->mu);
  for (auto it = puts->pending.begin(); it != puts->pending.end(); ++it) {
    auto const& r = **it;
    int const outcome = r.outcome.load(std::memory_order_acquire);
    if (outcome == 0 || r.pk != x->public_key || r.salt != x->salt || r.put_seq != x->seq || r.put_sig != x->signature)
      continue;
    request_id = r.id;
    if (outcome == kPutStale) error = "DHT_STALE_SEQUENCE";
    else if (outcome == kPutCasMismatch) error = "DHT_CAS_MISMATCH";
    puts->pending.erase(it);
    return;
  }
}

}  // namespace btx

extern "C" BTX_API int32_t btx_dht_add_node(btx_session h, uint8_t const* host, uint32_t host_len, uint32_t port) {
  return btx::with_session(h, [&](btx::SessionState& s, lt::session& ses) -> int32_t {
    lt::address a = read_host(s, host, host_len);
    check_port(port);
    ses.add_dht_node({a.to_string(), static_cast<int>(port)});
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_dht_ping(btx_session h, uint8_t const* host, uint32_t host_len, uint32_t port) {
  return btx::with_session(h, [&](btx::SessionState& s, lt::session& ses) -> int32_t {
    lt::address a = read_host(s, host, host_len);
    check_port(port);
    require_dht(ses);
    lt::entry e;
    e["q"] = "ping";
    ses.dht_direct_request(lt::udp::endpoint(a, static_cast<std::uint16_t>(port)), e);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_dht_announce(btx_session h, uint8_t const* info_hash, uint32_t port, uint32_t flags) {
  return btx::with_session(h, [&](btx::SessionState&, lt::session& ses) -> int32_t {
    lt::sha1_hash ih = read_hash(info_hash, "info_hash");
    if (port > 65535) btx::fail(BTX_E_INVALID_ARGUMENT, "port must be 0 (implied) or 1..65535");
    if (flags & ~uint32_t(BTX_DHT_ANNOUNCE_SEED)) btx::fail(BTX_E_INVALID_ARGUMENT, "unknown announce flags");
    require_dht(ses);
    lt::dht::announce_flags_t f{};
    if (flags & BTX_DHT_ANNOUNCE_SEED) f |= lt::dht::announce::seed;
    if (port == 0) f |= lt::dht::announce::implied_port;
    ses.dht_announce(ih, static_cast<int>(port), f);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_dht_get_peers(btx_session h, uint8_t const* info_hash) {
  return btx::with_session(h, [&](btx::SessionState&, lt::session& ses) -> int32_t {
    lt::sha1_hash ih = read_hash(info_hash, "info_hash");
    require_dht(ses);
    ses.dht_get_peers(ih);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_dht_stats(btx_session h) {
  return btx::with_session(h, [&](btx::SessionState&, lt::session& ses) -> int32_t {
    ses.post_dht_stats();
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_dht_save_state(btx_session h, uint32_t* out_blob, uint32_t* out_size) {
  return btx::with_session(h, [&](btx::SessionState&, lt::session& ses) -> int32_t {
    if (!out_blob || !out_size) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    lt::session_params p = ses.session_state(lt::session_handle::save_dht_state);
    std::vector<char> buf = lt::write_session_params_buf(p, lt::session_handle::save_dht_state);
    *out_size = static_cast<uint32_t>(buf.size());
    *out_blob = btx::store_blob(std::move(buf));
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_dht_load_state(btx_session h, uint8_t const* state, uint32_t len) {
  return btx::with_session(h, [&](btx::SessionState& s, lt::session& ses) -> int32_t {
    auto d = btx::parse_dict(state, len, "DHT state");
    if (len == 0) btx::fail(BTX_E_INVALID_ARGUMENT, "DHT state is empty");
    auto dht = d.dict_find_dict("dht state");
    if (!dht) btx::fail(BTX_E_INVALID_ARGUMENT, "DHT state: no \"dht state\" dictionary (not saved by btx_dht_save_state?)");
    lt::session_params p = lt::read_session_params(d, lt::session_handle::save_dht_state);
    if (s.flags & BTX_SESSION_LOOPBACK_ONLY) {
      // Only loopback nodes may be contacted: drop the others.
      auto keep = [](std::vector<lt::udp::endpoint>& v) {
        v.erase(std::remove_if(v.begin(), v.end(), [](lt::udp::endpoint const& ep) { return !is_loopback(ep.address()); }),
                v.end());
      };
      keep(p.dht_state.nodes);
      keep(p.dht_state.nodes6);
    }
    ses.set_dht_state(std::move(p.dht_state));
    // The state is read when the DHT starts: restart it if it runs.
    if (ses.is_dht_running()) {
      lt::settings_pack off, on;
      off.set_bool(lt::settings_pack::enable_dht, false);
      on.set_bool(lt::settings_pack::enable_dht, true);
      ses.apply_settings(std::move(off));
      ses.apply_settings(std::move(on));
    }
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_dht_keypair(uint8_t const* seed, uint8_t* out_public, uint8_t* out_secret,
                                           uint8_t* out_seed) {
  return btx::guard(nullptr, [&]() -> int32_t {
    if (!out_public || !out_secret) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    std::array<char, 32> sd;
    if (seed) std::memcpy(sd.data(), seed, 32);
    else sd = lt::dht::ed25519_create_seed();
    lt::dht::public_key pk;
    lt::dht::secret_key sk;
    std::tie(pk, sk) = lt::dht::ed25519_create_keypair(sd);
    std::memcpy(out_public, pk.bytes.data(), 32);
    std::memcpy(out_secret, sk.bytes.data(), 64);
    if (out_seed) std::memcpy(out_seed, sd.data(), 32);
    volatile char* p = sk.bytes.data();
    for (size_t i = 0; i < sk.bytes.size(); ++i) p[i] = 0;
    volatile char* q = sd.data();
    for (size_t i = 0; i < sd.size(); ++i) q[i] = 0;
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_dht_put_immutable(btx_session h, uint8_t const* value, uint32_t len,
                                                 uint8_t* out_target) {
  return btx::with_session(h, [&](btx::SessionState&, lt::session& ses) -> int32_t {
    if (!out_target) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    std::string canonical;
    lt::entry e = read_value(value, len, canonical);
    require_dht(ses);
    lt::sha1_hash target = ses.dht_put_item(std::move(e));
    std::memcpy(out_target, target.data(), 20);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_dht_get_immutable(btx_session h, uint8_t const* target) {
  return btx::with_session(h, [&](btx::SessionState&, lt::session& ses) -> int32_t {
    lt::sha1_hash t = read_hash(target, "target");
    require_dht(ses);
    ses.dht_get_item(t);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_dht_put_mutable(btx_session h, uint8_t const* public_key, uint8_t const* secret_key,
                                               uint8_t const* value, uint32_t len, uint8_t const* salt,
                                               uint32_t salt_len, int64_t const* seq_cas, uint32_t flags,
                                               uint32_t* out_request) {
  return btx::with_session(h, [&](btx::SessionState& s, lt::session& ses) -> int32_t {
    if (!out_request) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    if (!public_key || !secret_key) btx::fail(BTX_E_INVALID_ARGUMENT, "public and secret keys are required");
    if (salt_len > kMaxSaltSize) btx::fail(BTX_E_INVALID_ARGUMENT, "salt is longer than 64 bytes (BEP 44)");
    if (salt_len && !salt) btx::fail(BTX_E_INVALID_ARGUMENT, "salt: null buffer");
    if (flags & ~uint32_t(BTX_DHT_PUT_SEQ | BTX_DHT_PUT_CAS)) btx::fail(BTX_E_INVALID_ARGUMENT, "unknown put flags");
    if (flags && !seq_cas) btx::fail(BTX_E_INVALID_ARGUMENT, "seq_cas: null buffer");
    auto req = std::make_shared<btx::PutRequest>();
    req->value = read_value(value, len, req->bencoded);
    if (flags & BTX_DHT_PUT_SEQ) {
      req->has_seq = true;
      req->seq = seq_cas[0];
      if (req->seq < 0 || req->seq > kMaxSeq) btx::fail(BTX_E_INVALID_ARGUMENT, "seq must be 0..2^53-1");
    }
    if (flags & BTX_DHT_PUT_CAS) {
      req->has_cas = true;
      req->cas = seq_cas[1];
      if (req->cas < 0 || req->cas > kMaxSeq) btx::fail(BTX_E_INVALID_ARGUMENT, "cas must be 0..2^53-1");
    }
    std::memcpy(req->pk.data(), public_key, 32);
    auto secret = std::make_shared<btx::Secret>();
    std::memcpy(secret->sk.data(), secret_key, 64);
    if (salt_len) req->salt.assign(reinterpret_cast<char const*>(salt), salt_len);
    {
      lt::dht::public_key pk(req->pk.data());
      lt::dht::secret_key sk(secret->sk.data());
      bool ok = keys_match(pk, sk);
      volatile char* p = sk.bytes.data();
      for (size_t i = 0; i < sk.bytes.size(); ++i) p[i] = 0;
      if (!ok) btx::fail(BTX_E_INVALID_ARGUMENT, "the secret key does not belong to the public key (ed25519, 64-byte libtorrent secret key)");
    }
    require_dht(ses);
    auto puts = puts_of(s);
    {
      std::lock_guard<std::mutex> l(puts->mu);
      req->id = ++puts->next_id;
      if (req->id == 0) req->id = ++puts->next_id;
      puts->pending.push_back(req);
    }
    *out_request = req->id;

    // Runs on libtorrent's network thread once the lookup found the current
    // item (if any): decide, sign, and never call out of the shim.
    std::shared_ptr<btx::Secret> held = std::move(secret);
    auto cb = [req, secret = std::move(held)](lt::entry& v, std::array<char, 64>& sig, std::int64_t& seq, std::string const& salt_) {
      bool const exists = v.type() != lt::entry::undefined_t;
      int64_t const current = seq;
      int outcome = kPutSigned;
      if (req->has_cas && (!exists || current != req->cas)) {
        outcome = kPutCasMismatch;
      } else {
        int64_t next = req->has_seq ? req->seq : (exists ? current + 1 : 1);
        if (exists && next <= current) {
          // Equal seq is a refresh when the value is the same; else stale.
          std::string cur;
          if (next == current) lt::bencode(std::back_inserter(cur), v);
          if (next < current || cur != req->bencoded) outcome = kPutStale;
        }
        if (outcome == kPutSigned) {
          lt::dht::secret_key sk(secret->sk.data());
          lt::dht::signature s = lt::dht::sign_mutable_item(req->bencoded, salt_, lt::dht::sequence_number(next),
                                                            lt::dht::public_key(req->pk.data()), sk);
          volatile char* p = sk.bytes.data();
          for (size_t i = 0; i < sk.bytes.size(); ++i) p[i] = 0;
          v = req->value;
          seq = next;
          sig = s.bytes;
        }
      }
      // Rejected: the current item is left as found (putting it back is a
      // refresh of an authentic item; with no item, nodes refuse the put).
      secret->wipe();
      req->put_seq = seq;
      req->put_sig = sig;
      req->outcome.store(outcome, std::memory_order_release);
    };
    try {
      ses.dht_put_item(req->pk, std::move(cb), req->salt);
    } catch (...) {
      std::lock_guard<std::mutex> l(puts->mu);
      puts->pending.erase(std::remove(puts->pending.begin(), puts->pending.end(), req), puts->pending.end());
      throw;
    }
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_dht_get_mutable(btx_session h, uint8_t const* public_key, uint8_t const* salt,
                                               uint32_t salt_len) {
  return btx::with_session(h, [&](btx::SessionState&, lt::session& ses) -> int32_t {
    if (!public_key) btx::fail(BTX_E_INVALID_ARGUMENT, "public key is null");
    if (salt_len > kMaxSaltSize) btx::fail(BTX_E_INVALID_ARGUMENT, "salt is longer than 64 bytes (BEP 44)");
    if (salt_len && !salt) btx::fail(BTX_E_INVALID_ARGUMENT, "salt: null buffer");
    require_dht(ses);
    std::array<char, 32> pk;
    std::memcpy(pk.data(), public_key, 32);
    ses.dht_get_item(pk, salt_len ? std::string(reinterpret_cast<char const*>(salt), salt_len) : std::string());
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_dht_verify_mutable(uint8_t const* public_key, uint8_t const* signature,
                                                  int64_t const* seq, uint8_t const* salt, uint32_t salt_len,
                                                  uint8_t const* value, uint32_t len) {
  return btx::guard(nullptr, [&]() -> int32_t {
    require_signature(read_signed(public_key, signature, seq, salt, salt_len, value, len));
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_dht_put_mutable_signed(btx_session h, uint8_t const* public_key,
                                                      uint8_t const* signature, int64_t const* seq,
                                                      uint8_t const* salt, uint32_t salt_len, uint8_t const* value,
                                                      uint32_t len, uint32_t* out_request) {
  return btx::with_session(h, [&](btx::SessionState& s, lt::session& ses) -> int32_t {
    if (!out_request) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    SignedArgs a = read_signed(public_key, signature, seq, salt, salt_len, value, len);
    require_signature(a);
    require_dht(ses);
    auto req = std::make_shared<btx::PutRequest>();
    req->pk = a.pk;
    req->sig = a.sig;
    req->seq = a.seq;
    req->has_seq = true;
    req->salt = std::move(a.salt);
    req->value = std::move(a.value);
    req->bencoded = std::move(a.bencoded);
    auto puts = puts_of(s);
    {
      std::lock_guard<std::mutex> l(puts->mu);
      req->id = ++puts->next_id;
      if (req->id == 0) req->id = ++puts->next_id;
      puts->pending.push_back(req);
    }
    *out_request = req->id;

    // On libtorrent's network thread, with the current item (if any): put
    // the held item unless the DHT already has a newer one (or another
    // value under the same seq). Nothing is signed here.
    auto cb = [req](lt::entry& v, std::array<char, 64>& sig, std::int64_t& seq_, std::string const&) {
      bool const exists = v.type() != lt::entry::undefined_t;
      int outcome = kPutSigned;
      if (exists && seq_ >= req->seq) {
        std::string cur;
        if (seq_ == req->seq) lt::bencode(std::back_inserter(cur), v);
        if (seq_ > req->seq || cur != req->bencoded) outcome = kPutStale;
      }
      if (outcome == kPutSigned) {
        v = req->value;
        seq_ = req->seq;
        sig = req->sig;
      }
      req->put_seq = seq_;
      req->put_sig = sig;
      req->outcome.store(outcome, std::memory_order_release);
    };
    try {
      ses.dht_put_item(req->pk, std::move(cb), req->salt);
    } catch (...) {
      std::lock_guard<std::mutex> l(puts->mu);
      puts->pending.erase(std::remove(puts->pending.begin(), puts->pending.end(), req), puts->pending.end());
      throw;
    }
    return BTX_OK;
  });
}
