// The event layer: pops libtorrent alerts and encodes them, one record per
// alert, into a caller-owned buffer (wire format in docs/architecture.md).
// Every alert type arrives, with its name and message; the types listed in
// kDescriptors also carry typed fields. The schema (field names per type)
// is exported from the same table, so the TypeScript decoder cannot drift.
#include <array>
#include <atomic>
#include <cstring>
#include <iterator>
#include <string>

#include <libtorrent/alert_types.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/hasher.hpp>
#include <libtorrent/operations.hpp>
#include <libtorrent/write_resume_data.hpp>

#include "state.hpp"

namespace {

constexpr uint32_t kAsciiBit = 0x80000000u;  // string length word: all bytes < 0x80

using NumFn = double (*)(lt::alert const*);
using StrFn = std::string (*)(lt::alert const*);

struct Descriptor {
  int type;
  std::vector<std::pair<char const*, NumFn>> nums;
  std::vector<std::pair<char const*, StrFn>> strs;
};

#define NUM(T, name, expr) \
  { name, [](lt::alert const* a) -> double { auto const* x = static_cast<lt::T const*>(a); (void)x; return static_cast<double>(expr); } }
#define STR(T, name, expr) \
  { name, [](lt::alert const* a) -> std::string { auto const* x = static_cast<lt::T const*>(a); (void)x; return std::string(expr); } }

std::string ep_str(lt::tcp::endpoint const& ep) {
  std::string addr = ep.address().to_string();
  if (ep.address().is_v6()) return "[" + addr + "]:" + std::to_string(ep.port());
  return addr + ":" + std::to_string(ep.port());
}
std::string ec_str(lt::error_code const& ec) { return ec ? ec.message() : std::string(); }

// ---- ip filter and dht: helpers
std::string uep_str(lt::udp::endpoint const& ep) { return ep_str(lt::tcp::endpoint(ep.address(), ep.port())); }
template <class Bytes>
std::string hex_str(Bytes const& b) {
  static char const digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::size(b) * 2);
  for (auto c : b) {
    auto u = static_cast<unsigned char>(c);
    out += digits[u >> 4];
    out += digits[u & 15];
  }
  return out;
}
std::string bencoded(lt::entry const& e) {
  std::string out;
  if (e.type() != lt::entry::undefined_t) lt::bencode(std::back_inserter(out), e);
  return out;
}
char const* blocked_reason(int r) {
  static char const* const names[] = {"ip_filter",    "port_filter",  "i2p_mixed",
                                      "privileged_ports", "utp_disabled", "tcp_disabled",
                                      "invalid_local_interface", "ssrf_mitigation"};
  return r >= 0 && r < 8 ? names[r] : "unknown";
}
bool all_zero(std::array<char, 32> const& k) {
  for (char c : k)
    if (c) return false;
  return true;
}
// BEP 44 target of a mutable item: SHA-1(public key + salt).
std::string mutable_target(std::array<char, 32> const& pk, std::string const& salt) {
  lt::hasher h(pk.data(), 32);
  if (!salt.empty()) h.update(salt.data(), static_cast<int>(salt.size()));
  return hex_str(h.final());
}

// Fields beyond name/torrent/message. Keep this list in step with the
// TypeScript event types (src/events.ts); tests compare the two.
std::vector<Descriptor> const& descriptors() {
  static std::vector<Descriptor> const d = {
      {lt::state_changed_alert::alert_type,
       {NUM(state_changed_alert, "state", x->state), NUM(state_changed_alert, "prevState", x->prev_state)},
       {}},
      {lt::piece_finished_alert::alert_type, {NUM(piece_finished_alert, "piece", static_cast<int>(x->piece_index))}, {}},
      {lt::hash_failed_alert::alert_type, {NUM(hash_failed_alert, "piece", static_cast<int>(x->piece_index))}, {}},
      {lt::file_completed_alert::alert_type, {NUM(file_completed_alert, "file", static_cast<int>(x->index))}, {}},
      {lt::torrent_error_alert::alert_type,
       {NUM(torrent_error_alert, "errorCode", x->error.value())},
       {STR(torrent_error_alert, "error", ec_str(x->error)), STR(torrent_error_alert, "file", x->filename())}},
      {lt::file_error_alert::alert_type,
       {NUM(file_error_alert, "errorCode", x->error.value())},
       {STR(file_error_alert, "error", ec_str(x->error)), STR(file_error_alert, "file", x->filename()),
        STR(file_error_alert, "operation", lt::operation_name(x->op))}},
      {lt::metadata_failed_alert::alert_type, {}, {STR(metadata_failed_alert, "error", ec_str(x->error))}},
      {lt::tracker_announce_alert::alert_type,
       {NUM(tracker_announce_alert, "event", static_cast<int>(x->event))},
       {STR(tracker_announce_alert, "url", x->tracker_url())}},
      {lt::tracker_reply_alert::alert_type,
       {NUM(tracker_reply_alert, "numPeers", x->num_peers)},
       {STR(tracker_reply_alert, "url", x->tracker_url())}},
      {lt::tracker_error_alert::alert_type,
       {NUM(tracker_error_alert, "timesInRow", x->times_in_row)},
       {STR(tracker_error_alert, "url", x->tracker_url()), STR(tracker_error_alert, "error", ec_str(x->error)),
        STR(tracker_error_alert, "failureReason", x->failure_reason())}},
      {lt::tracker_warning_alert::alert_type,
       {},
       {STR(tracker_warning_alert, "url", x->tracker_url()), STR(tracker_warning_alert, "warning", x->warning_message())}},
      {lt::scrape_reply_alert::alert_type,
       {NUM(scrape_reply_alert, "incomplete", x->incomplete), NUM(scrape_reply_alert, "complete", x->complete)},
       {STR(scrape_reply_alert, "url", x->tracker_url())}},
      {lt::scrape_failed_alert::alert_type,
       {},
       {STR(scrape_failed_alert, "url", x->tracker_url()), STR(scrape_failed_alert, "error", *x->error_message() ? std::string(x->error_message()) : ec_str(x->error))}},
      {lt::torrent_delete_failed_alert::alert_type, {}, {STR(torrent_delete_failed_alert, "error", ec_str(x->error))}},
      {lt::save_resume_data_failed_alert::alert_type,
       {NUM(save_resume_data_failed_alert, "notModified", x->error == lt::errors::resume_data_not_modified ? 1 : 0)},
       {STR(save_resume_data_failed_alert, "error", ec_str(x->error))}},
      {lt::storage_moved_alert::alert_type,
       {},
       {STR(storage_moved_alert, "path", x->storage_path()), STR(storage_moved_alert, "oldPath", x->old_path())}},
      {lt::storage_moved_failed_alert::alert_type,
       {},
       {STR(storage_moved_failed_alert, "error", ec_str(x->error)), STR(storage_moved_failed_alert, "file", x->file_path())}},
      {lt::file_renamed_alert::alert_type,
       {NUM(file_renamed_alert, "file", static_cast<int>(x->index))},
       {STR(file_renamed_alert, "newName", x->new_name()), STR(file_renamed_alert, "oldName", x->old_name())}},
      // ---- torrent control
      {lt::file_rename_failed_alert::alert_type,
       {NUM(file_rename_failed_alert, "file", static_cast<int>(x->index))},
       {STR(file_rename_failed_alert, "error", ec_str(x->error))}},
      // The piece's bytes stay in the shim: only its index and size cross.
      {lt::read_piece_alert::alert_type,
       {NUM(read_piece_alert, "piece", static_cast<int>(x->piece)), NUM(read_piece_alert, "size", x->size)},
       {STR(read_piece_alert, "error", ec_str(x->error))}},
      {lt::url_seed_alert::alert_type,
       {},
       {STR(url_seed_alert, "url", x->server_url()), STR(url_seed_alert, "error", x->error_message())}},
      {lt::performance_alert::alert_type, {NUM(performance_alert, "warning", x->warning_code)}, {}},
      {lt::peer_connect_alert::alert_type, {}, {STR(peer_connect_alert, "peer", ep_str(x->endpoint))}},
      {lt::peer_disconnected_alert::alert_type,
       {},
       {STR(peer_disconnected_alert, "peer", ep_str(x->endpoint)), STR(peer_disconnected_alert, "error", ec_str(x->error))}},
      {lt::listen_succeeded_alert::alert_type,
       {NUM(listen_succeeded_alert, "port", x->port), NUM(listen_succeeded_alert, "socketType", static_cast<int>(x->socket_type))},
       {STR(listen_succeeded_alert, "address", x->address.to_string())}},
      {lt::listen_failed_alert::alert_type,
       {NUM(listen_failed_alert, "port", x->port)},
       {STR(listen_failed_alert, "address", x->address.to_string()), STR(listen_failed_alert, "error", ec_str(x->error))}},
      {lt::alerts_dropped_alert::alert_type,
       {NUM(alerts_dropped_alert, "types", x->dropped_alerts.count())},
       {STR(alerts_dropped_alert, "dropped", [x] {
          std::string names;
          for (std::size_t i = 0; i < x->dropped_alerts.size(); ++i)
            if (x->dropped_alerts.test(i)) {
              if (!names.empty()) names += ',';
              names += lt::alert_name(static_cast<int>(i));
            }
          return names;
        }())}},
      // Resume data crosses only because the user asked for it: stored as a
      // blob the TypeScript layer takes while decoding this event.
      {lt::save_resume_data_alert::alert_type,
       {NUM(save_resume_data_alert, "blob", 0), NUM(save_resume_data_alert, "size", 0)},
       {}},
      // ---- ip filter and dht. A string field named "x:bytes" carries raw
      // bytes (the decoder makes a Uint8Array `x`); "x:list" carries a
      // comma-separated list (the decoder makes a string[] `x`).
      {lt::peer_blocked_alert::alert_type,
       {},
       {STR(peer_blocked_alert, "peer", ep_str(x->endpoint)), STR(peer_blocked_alert, "reason", blocked_reason(x->reason))}},
      {lt::dht_get_peers_reply_alert::alert_type,
       {NUM(dht_get_peers_reply_alert, "numPeers", x->num_peers())},
       {STR(dht_get_peers_reply_alert, "infoHash", hex_str(x->info_hash)), STR(dht_get_peers_reply_alert, "peers:list", [x] {
          std::string out;
          for (auto const& ep : x->peers()) {
            if (!out.empty()) out += ',';
            out += ep_str(ep);
          }
          return out;
        }())}},
      {lt::dht_announce_alert::alert_type,
       {NUM(dht_announce_alert, "port", x->port)},
       {STR(dht_announce_alert, "ip", x->ip.to_string()), STR(dht_announce_alert, "infoHash", hex_str(x->info_hash))}},
      {lt::dht_get_peers_alert::alert_type, {}, {STR(dht_get_peers_alert, "infoHash", hex_str(x->info_hash))}},
      {lt::dht_reply_alert::alert_type, {NUM(dht_reply_alert, "numPeers", x->num_peers)}, {}},
      {lt::dht_error_alert::alert_type,
       {NUM(dht_error_alert, "errorCode", x->error.value())},
       {STR(dht_error_alert, "error", ec_str(x->error)), STR(dht_error_alert, "operation", lt::operation_name(x->op))}},
      {lt::dht_stats_alert::alert_type,
       {NUM(dht_stats_alert, "nodes",
            [x] {
              int n = 0;
              for (auto const& b : x->routing_table) n += b.num_nodes;
              return n;
            }()),
        NUM(dht_stats_alert, "replacements",
            [x] {
              int n = 0;
              for (auto const& b : x->routing_table) n += b.num_replacements;
              return n;
            }()),
        NUM(dht_stats_alert, "buckets", x->routing_table.size()),
        NUM(dht_stats_alert, "activeLookups", x->active_requests.size())},
       {STR(dht_stats_alert, "nodeId", hex_str(x->nid)), STR(dht_stats_alert, "localEndpoint", uep_str(x->local_endpoint))}},
      {lt::dht_direct_response_alert::alert_type,
       {NUM(dht_direct_response_alert, "timedOut", x->response().type() == lt::bdecode_node::none_t ? 1 : 0)},
       {STR(dht_direct_response_alert, "endpoint", uep_str(x->endpoint)), STR(dht_direct_response_alert, "nodeId", [x] {
          auto r = x->response();
          if (r.type() != lt::bdecode_node::dict_t) return std::string();
          auto body = r.dict_find_dict("r");
          auto id = body ? body.dict_find_string_value("id") : lt::string_view();
          return hex_str(std::string(id));
        }())}},
      {lt::dht_immutable_item_alert::alert_type,
       {},
       {STR(dht_immutable_item_alert, "target", hex_str(x->target)), STR(dht_immutable_item_alert, "value:bytes", bencoded(x->item))}},
      {lt::dht_mutable_item_alert::alert_type,
       {NUM(dht_mutable_item_alert, "seq", x->seq), NUM(dht_mutable_item_alert, "authoritative", x->authoritative ? 1 : 0)},
       {STR(dht_mutable_item_alert, "publicKey", hex_str(x->key)), STR(dht_mutable_item_alert, "signature", hex_str(x->signature)),
        STR(dht_mutable_item_alert, "salt:bytes", x->salt), STR(dht_mutable_item_alert, "value:bytes", bencoded(x->item))}},
      // requestId and error are filled in encode() from the shim's pending puts.
      {lt::dht_put_alert::alert_type,
       {NUM(dht_put_alert, "numSuccess", x->num_success), NUM(dht_put_alert, "seq", x->seq), NUM(dht_put_alert, "requestId", 0)},
       {STR(dht_put_alert, "target", all_zero(x->public_key) ? hex_str(x->target) : mutable_target(x->public_key, x->salt)),
        STR(dht_put_alert, "publicKey", all_zero(x->public_key) ? std::string() : hex_str(x->public_key)),
        STR(dht_put_alert, "signature", all_zero(x->public_key) ? std::string() : hex_str(x->signature)),
        STR(dht_put_alert, "salt:bytes", x->salt), STR(dht_put_alert, "error", std::string())}},
  };
  return d;
}
#undef NUM
#undef STR

constexpr int kMaxTypes = 128;

struct Tables {
  std::array<Descriptor const*, kMaxTypes> by_type{};
  Tables() {
    for (auto const& d : descriptors()) by_type[static_cast<size_t>(d.type)] = &d;
  }
};
Tables const& tables() {
  static Tables t;
  return t;
}

// Zero-initialised: 0 unknown yet, 1 not about a torrent, 2 a torrent_alert.
std::array<std::atomic<int8_t>, kMaxTypes> g_is_torrent_alert{};

lt::torrent_alert const* as_torrent_alert(lt::alert const* a) {
  int t = a->type();
  if (t < 0 || t >= kMaxTypes) return dynamic_cast<lt::torrent_alert const*>(a);
  int8_t k = g_is_torrent_alert[static_cast<size_t>(t)].load(std::memory_order_relaxed);
  if (k == 1) return nullptr;
  if (k == 2) return static_cast<lt::torrent_alert const*>(a);
  auto const* ta = dynamic_cast<lt::torrent_alert const*>(a);
  g_is_torrent_alert[static_cast<size_t>(t)].store(ta ? 2 : 1, std::memory_order_relaxed);
  return ta;
}

inline uint32_t pad4(uint32_t n) { return (n + 3u) & ~3u; }
inline uint32_t pad8(uint32_t n) { return (n + 7u) & ~7u; }

struct Encoded {
  uint32_t torrent = 0;
  double nums[8];
  uint32_t nnum = 0;
  std::string strs[6];
  uint32_t nstr = 0;
  uint32_t size() const {
    uint32_t n = 16 + 8 * nnum;
    for (uint32_t i = 0; i < nstr; ++i) n += 4 + pad4(static_cast<uint32_t>(strs[i].size()));
    return pad8(n);
  }
};

// After the last alert about a removed torrent is written, forget its id.
// The caller holds s.torrents_mu.
void forget_if_last(btx::SessionState& s, lt::alert const* a) {
  int const type = a->type();
  bool removed = type == lt::torrent_removed_alert::alert_type;
  if (!removed && type != lt::torrent_deleted_alert::alert_type && type != lt::torrent_delete_failed_alert::alert_type)
    return;
  auto const* ta = static_cast<lt::torrent_alert const*>(a);
  auto it = s.torrents.find(ta->handle);
  if (it != s.torrents.end() && !(removed && it->second.deleting)) s.torrents.erase(it);
}

// Fills `e` from alert `a`. Has no side effect but a resume-data blob.
// The caller holds s.torrents_mu.
void encode(btx::SessionState& s, lt::alert const* a, Encoded& e) {
  e.nnum = 0;
  e.nstr = 0;
  e.torrent = 0;
  int const type = a->type();
  if (auto const* ta = as_torrent_alert(a)) {
    auto it = s.torrents.find(ta->handle);
    if (it != s.torrents.end()) e.torrent = it->second.id;
  }
  e.strs[e.nstr++] = a->message();
  Descriptor const* d = (type >= 0 && type < kMaxTypes) ? tables().by_type[static_cast<size_t>(type)] : nullptr;
  if (!d) return;
  if (type == lt::save_resume_data_alert::alert_type) {
    auto const* x = static_cast<lt::save_resume_data_alert const*>(a);
    std::vector<char> buf = lt::write_resume_data_buf(x->params);
    double size = static_cast<double>(buf.size());
    e.nums[e.nnum++] = btx::store_blob(std::move(buf));
    e.nums[e.nnum++] = size;
    return;
  }
  for (auto const& f : d->nums) e.nums[e.nnum++] = f.second(a);
  for (auto const& f : d->strs) e.strs[e.nstr++] = f.second(a);
  // ---- ip filter and dht: a mutable put's request id and outcome.
  if (type == lt::dht_put_alert::alert_type && !all_zero(static_cast<lt::dht_put_alert const*>(a)->public_key))
    btx::dht_put_outcome(s, a, e.nums[2], e.strs[5]);
}

void write_record(Encoded const& e, uint16_t type, uint8_t* out) {
  uint32_t size = e.size();
  uint16_t nstr = static_cast<uint16_t>(e.nstr);
  std::memcpy(out + 0, &size, 4);
  std::memcpy(out + 4, &type, 2);
  std::memcpy(out + 6, &nstr, 2);
  std::memcpy(out + 8, &e.torrent, 4);
  std::memcpy(out + 12, &e.nnum, 4);
  uint32_t off = 16;
  std::memcpy(out + off, e.nums, 8 * e.nnum);
  off += 8 * e.nnum;
  for (uint32_t i = 0; i < e.nstr; ++i) {
    uint32_t len = static_cast<uint32_t>(e.strs[i].size());
    // Bit 31 of the length word: every byte is ASCII, so a reader may take
    // the bytes as Latin-1 text (one character per byte) without checking.
    bool ascii = true;
    for (unsigned char c : e.strs[i])
      if (c & 0x80) {
        ascii = false;
        break;
      }
    uint32_t word = len | (ascii ? kAsciiBit : 0u);
    std::memcpy(out + off, &word, 4);
    std::memcpy(out + off + 4, e.strs[i].data(), len);
    uint32_t padded = pad4(len);
    if (padded > len) std::memset(out + off + 4 + len, 0, padded - len);
    off += 4 + padded;
  }
  if (size > off) std::memset(out + off, 0, size - off);
}

}  // namespace

extern "C" BTX_API int32_t btx_alert_type_count(uint32_t* out_count) {
  return btx::guard(nullptr, [&]() -> int32_t {
    if (!out_count) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    *out_count = lt::num_alert_types;
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_alert_name(uint32_t type, uint8_t* buf, uint32_t cap, uint32_t* out_len) {
  return btx::guard(nullptr, [&]() -> int32_t {
    if (type >= static_cast<uint32_t>(lt::num_alert_types)) btx::fail(BTX_E_INVALID_ARGUMENT, "alert type out of range");
    char const* name = lt::alert_name(static_cast<int>(type));
    return btx::write_out(name ? name : "", buf, cap, out_len);
  });
}

extern "C" BTX_API int32_t btx_event_schema(uint8_t* buf, uint32_t cap, uint32_t* out_len) {
  return btx::guard(nullptr, [&]() -> int32_t {
    lt::entry e(lt::entry::dictionary_t);
    for (auto const& d : descriptors()) {
      lt::entry::list_type nums, strs;
      for (auto const& f : d.nums) nums.emplace_back(std::string(f.first));
      for (auto const& f : d.strs) strs.emplace_back(std::string(f.first));
      lt::entry::list_type pair;
      pair.emplace_back(std::move(nums));
      pair.emplace_back(std::move(strs));
      e[lt::alert_name(d.type)] = std::move(pair);
    }
    std::string out;
    lt::bencode(std::back_inserter(out), e);
    return btx::write_out(out, buf, cap, out_len);
  });
}

extern "C" BTX_API int32_t btx_session_drain(btx_session h, uint8_t* buf, uint32_t cap, uint32_t* out) {
  return btx::with_session(h, [&](btx::SessionState& ss, lt::session& ses) -> int32_t {
    if (!out || (!buf && cap)) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    out[0] = out[1] = out[2] = 0;
    btx::SessionState* s = &ss;
    std::lock_guard<std::mutex> l(s->drain_mu);
    uint32_t off = 0, count = 0;
    bool popped = false;
    thread_local Encoded e;
    // Taken once for the whole batch, not per alert (encode and
    // forget_if_last read the torrent table). Nothing below calls into the
    // engine synchronously but pop_alerts, which never waits for us.
    std::lock_guard<std::mutex> torrents_lock(s->torrents_mu);
    for (;;) {
      if (s->next_alert >= s->alerts.size()) {
        if (popped) break;  // at most one pop per call keeps each call bounded
        ses.pop_alerts(&s->alerts);
        s->next_alert = 0;
        popped = true;
        if (s->alerts.empty()) break;
      }
      lt::alert const* a = s->alerts[s->next_alert];
      if (a->type() == lt::state_update_alert::alert_type) {
        // The status poll's own (status_poll.cpp caught it as it was posted).
        ++s->next_alert;
        continue;
      }
      encode(*s, a, e);
      uint32_t size = e.size();
      if (off + size > cap) {
        if (count == 0) {
          // Not even one record fits. Its encoding already happened (a blob may
          // exist): free it and skip nothing — report the needed size.
          if (a->type() == lt::save_resume_data_alert::alert_type) btx::blobs().release(static_cast<uint32_t>(e.nums[0]));
          out[0] = size;
          return btx::record_error(s, BTX_E_BUFFER_TOO_SMALL, "event buffer smaller than one record");
        }
        if (a->type() == lt::save_resume_data_alert::alert_type) btx::blobs().release(static_cast<uint32_t>(e.nums[0]));
        out[2] = 1;
        break;
      }
      write_record(e, static_cast<uint16_t>(a->type()), buf + off);
      forget_if_last(*s, a);
      btx::capture_stats(*s, a);
      off += size;
      ++count;
      ++s->next_alert;
    }
    if (s->next_alert < s->alerts.size()) out[2] = 1;
    out[0] = off;
    out[1] = count;
    return BTX_OK;
  });
}
