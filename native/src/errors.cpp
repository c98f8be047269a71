#include "errors.hpp"

#include <cstring>

#include "state.hpp"

namespace btx {

namespace {
thread_local std::string t_last_error;
}

int32_t record_error(SessionState* s, int32_t code, char const* msg) noexcept {
  try {
    t_last_error = msg;
    if (s) {
      std::lock_guard<std::mutex> l(s->err_mu);
      s->last_error = msg;
    }
  } catch (...) {
    // Out of memory while storing the text: the code still goes back.
  }
  return code;
}

int32_t write_out(std::string const& text, uint8_t* buf, uint32_t cap, uint32_t* out_len) noexcept {
  if (out_len) *out_len = static_cast<uint32_t>(text.size());
  if (text.size() > cap || (!buf && !text.empty())) return BTX_E_BUFFER_TOO_SMALL;
  if (!text.empty()) std::memcpy(buf, text.data(), text.size());
  return BTX_OK;
}

}  // namespace btx

extern "C" BTX_API int32_t btx_last_error(btx_session session, uint8_t* buf, uint32_t cap,
                                          uint32_t* out_len) {
  return btx::guard(nullptr, [&]() -> int32_t {
    std::string text;
    auto s = session ? btx::sessions().get(session) : nullptr;
    if (s) {
      std::lock_guard<std::mutex> l(s->err_mu);
      text = s->last_error;
    } else {
      text = btx::t_last_error;
    }
    return btx::write_out(text, buf, cap, out_len);
  });
}
