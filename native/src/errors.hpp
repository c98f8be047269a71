// The exception firewall and last-error storage.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

#include "btx.h"

namespace btx {

// Thrown inside the shim to fail with a specific status code.
struct Error : std::runtime_error {
  int32_t code;
  Error(int32_t c, std::string const& msg) : std::runtime_error(msg), code(c) {}
};

[[noreturn]] inline void fail(int32_t code, std::string const& msg) { throw Error(code, msg); }

struct SessionState;
// Records the error text for the calling thread (and for `s`, when given).
int32_t record_error(SessionState* s, int32_t code, char const* msg) noexcept;

// Runs `body` (returning int32_t), turning every exception into a status code.
// `s` receives the error text too when the call is about a session.
template <class F>
int32_t guard(SessionState* s, F&& body) noexcept {
  try {
    return body();
  } catch (Error const& e) {
    return record_error(s, e.code, e.what());
  } catch (std::bad_alloc const&) {
    return record_error(s, BTX_E_INTERNAL, "out of memory");
  } catch (std::exception const& e) {
    return record_error(s, BTX_E_INTERNAL, e.what());
  } catch (...) {
    return record_error(s, BTX_E_INTERNAL, "unknown exception");
  }
}

// Copies `text` into a caller buffer with the btx length rules.
int32_t write_out(std::string const& text, uint8_t* buf, uint32_t cap, uint32_t* out_len) noexcept;

}  // namespace btx
