// The IP filter: the user's allow/block ranges, added in bulk as packed
// binary records, cleared, exported and queried. On a session opened with
// BTX_SESSION_LOOPBACK_ONLY the engine's filter is always the user's rules
// with the loopback-only rules written over them, so no user rule can
// re-open an address outside 127.0.0.0/8 and ::1.
#include <array>
#include <cstring>

#include <libtorrent/address.hpp>
#include <libtorrent/ip_filter.hpp>

#include "state.hpp"

namespace btx {

void add_loopback_guard(lt::ip_filter& f) {
  using lt::make_address_v4;
  using lt::make_address_v6;
  f.add_rule(make_address_v4("0.0.0.0"), make_address_v4("126.255.255.255"), lt::ip_filter::blocked);
  f.add_rule(make_address_v4("128.0.0.0"), make_address_v4("255.255.255.255"), lt::ip_filter::blocked);
  f.add_rule(make_address_v6("::"), make_address_v6("::"), lt::ip_filter::blocked);
  f.add_rule(make_address_v6("::2"), make_address_v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), lt::ip_filter::blocked);
}

lt::ip_filter loopback_only_filter() {
  lt::ip_filter f;
  add_loopback_guard(f);
  return f;
}

}  // namespace btx

namespace {

constexpr uint32_t kRecord = BTX_IP_RANGE_SIZE;

struct Range {
  lt::address first, last;
  uint32_t access;
};

// Reads and validates record `i`; throws INVALID_ARGUMENT naming it.
Range read_record(uint8_t const* r, uint32_t i) {
  auto bad = [i](char const* why) { btx::fail(BTX_E_INVALID_ARGUMENT, "IP range " + std::to_string(i) + ": " + why); };
  uint8_t const family = r[0], access = r[1];
  if (access > 1) bad("access must be 0 (allow) or 1 (block)");
  uint8_t const* a = r + 2;
  uint8_t const* b = r + 18;
  if (family == 4) {
    for (int k = 4; k < 16; ++k)
      if (a[k] || b[k]) bad("an IPv4 address must leave bytes 4..15 zero");
    if (std::memcmp(a, b, 4) > 0) bad("first is after last (reversed range)");
    lt::address_v4::bytes_type x, y;
    std::memcpy(x.data(), a, 4);
    std::memcpy(y.data(), b, 4);
    return {lt::address_v4(x), lt::address_v4(y), access};
  }
  if (family == 6) {
    if (std::memcmp(a, b, 16) > 0) bad("first is after last (reversed range)");
    lt::address_v6::bytes_type x, y;
    std::memcpy(x.data(), a, 16);
    std::memcpy(y.data(), b, 16);
    return {lt::address_v6(x), lt::address_v6(y), access};
  }
  bad("family must be 4 or 6");
  return {};
}

// Gives the engine the user's rules, guarded when the session is loopback-only.
// Call with ip_filter_mu held (keeps set_ip_filter calls in order).
void install(btx::SessionState& s, lt::session& ses) {
  if (s.flags & BTX_SESSION_LOOPBACK_ONLY) {
    lt::ip_filter f = s.user_ip_filter;
    btx::add_loopback_guard(f);
    ses.set_ip_filter(std::move(f));
  } else {
    ses.set_ip_filter(s.user_ip_filter);
  }
}

void put_record(std::vector<char>& out, lt::address const& first, lt::address const& last, uint32_t access) {
  std::array<char, kRecord> r{};
  r[0] = first.is_v4() ? 4 : 6;
  r[1] = (access & lt::ip_filter::blocked) ? 1 : 0;
  if (first.is_v4()) {
    auto x = first.to_v4().to_bytes(), y = last.to_v4().to_bytes();
    std::memcpy(&r[2], x.data(), 4);
    std::memcpy(&r[18], y.data(), 4);
  } else {
    auto x = first.to_v6().to_bytes(), y = last.to_v6().to_bytes();
    std::memcpy(&r[2], x.data(), 16);
    std::memcpy(&r[18], y.data(), 16);
  }
  out.insert(out.end(), r.begin(), r.end());
}

}  // namespace

extern "C" BTX_API int32_t btx_ip_filter_add(btx_session h, uint8_t const* records, uint32_t len) {
  return btx::with_session(h, [&](btx::SessionState& s, lt::session& ses) -> int32_t {
    if (len % kRecord != 0) btx::fail(BTX_E_INVALID_ARGUMENT, "IP ranges: length is not a multiple of 34 bytes");
    if (len && !records) btx::fail(BTX_E_INVALID_ARGUMENT, "IP ranges: null buffer");
    uint32_t const n = len / kRecord;
    // Validate every record before touching the filter: all or nothing.
    std::vector<Range> ranges;
    ranges.reserve(n);
    for (uint32_t i = 0; i < n; ++i) ranges.push_back(read_record(records + size_t(i) * kRecord, i));
    std::lock_guard<std::mutex> l(s.ip_filter_mu);
    for (auto const& r : ranges) s.user_ip_filter.add_rule(r.first, r.last, r.access ? lt::ip_filter::blocked : 0);
    install(s, ses);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_ip_filter_clear(btx_session h) {
  return btx::with_session(h, [&](btx::SessionState& s, lt::session& ses) -> int32_t {
    std::lock_guard<std::mutex> l(s.ip_filter_mu);
    s.user_ip_filter = lt::ip_filter();
    install(s, ses);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_ip_filter_export(btx_session h, uint32_t which, uint32_t* out_blob, uint32_t* out_size) {
  return btx::with_session(h, [&](btx::SessionState& s, lt::session& ses) -> int32_t {
    if (!out_blob || !out_size) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    if (which > BTX_IP_FILTER_USER) btx::fail(BTX_E_INVALID_ARGUMENT, "which must be 0 (in force) or 1 (user rules)");
    lt::ip_filter f;
    {
      std::lock_guard<std::mutex> l(s.ip_filter_mu);
      f = s.user_ip_filter;
      if (which == BTX_IP_FILTER_IN_FORCE && (s.flags & BTX_SESSION_LOOPBACK_ONLY)) btx::add_loopback_guard(f);
    }
    auto t = f.export_filter();
    auto const& v4 = std::get<0>(t);
    auto const& v6 = std::get<1>(t);
    std::vector<char> out;
    out.reserve((v4.size() + v6.size()) * kRecord);
    for (auto const& r : v4) put_record(out, r.first, r.last, r.flags);
    for (auto const& r : v6) put_record(out, r.first, r.last, r.flags);
    *out_size = static_cast<uint32_t>(out.size());
    *out_blob = btx::store_blob(std::move(out));
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_ip_filter_access(btx_session h, uint8_t const* host, uint32_t host_len,
                                                uint32_t* out_access) {
  return btx::with_session(h, [&](btx::SessionState& s, lt::session&) -> int32_t {
    if (!out_access) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    if (!host || host_len == 0 || host_len > 64) btx::fail(BTX_E_INVALID_ARGUMENT, "host must be a numeric IP address");
    std::string text(reinterpret_cast<char const*>(host), host_len);
    lt::error_code ec;
    lt::address a = lt::make_address(text, ec);
    if (ec) btx::fail(BTX_E_INVALID_ARGUMENT, "not a numeric IP address: " + text);
    std::lock_guard<std::mutex> l(s.ip_filter_mu);
    uint32_t access = s.user_ip_filter.access(a);
    if (s.flags & BTX_SESSION_LOOPBACK_ONLY) {
      bool loopback = a.is_v4() ? (a.to_v4().to_bytes()[0] == 127) : a == lt::address(lt::address_v6::loopback());
      if (!loopback) access = lt::ip_filter::blocked;
    }
    *out_access = (access & lt::ip_filter::blocked) ? 1u : 0u;
    return BTX_OK;
  });
}
