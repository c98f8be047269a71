// The status record, shared by btx_torrent_status, btx_torrent_status_ex and
// btx_session_status_all (inspect.cpp fills it; status_all.cpp batches it).
#pragma once
#include <cstdint>
#include <string>

#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>

namespace btx {

// What every status query asks libtorrent for.
inline constexpr lt::status_flags_t kStatusQuery =
    lt::torrent_handle::query_name | lt::torrent_handle::query_save_path | lt::torrent_handle::query_torrent_file |
    lt::torrent_handle::query_distributed_copies | lt::torrent_handle::query_last_seen_complete;

// Bytes of the torrent's real files (pad files excluded).
int64_t real_total_size(lt::torrent_info const& ti);

// The error text of a status (empty when there is none).
std::string status_error(lt::torrent_status const& st);

// Copies up to `cap` bytes of `s`, cut back to a UTF-8 boundary.
uint32_t put_str(std::string const& s, uint8_t* out, uint32_t cap);

// Fills the BTX_ST_* fields (and, with `ex`, the BTX_STX_* fields) of one
// record from `st`, writing its strings to `strs` (truncated to `cap`).
// `real_size` < 0: computed from the torrent file. Returns the string bytes
// written.
// `now` is lt::clock_type::now() (read once per batch).
uint32_t fill_status(lt::torrent_status const& st, int64_t real_size, bool ex, uint32_t torrent, lt::time_point now,
                     double* n, uint8_t* strs, uint32_t cap);

}  // namespace btx
