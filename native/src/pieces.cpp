// Inspection of a torrent's content: files (with progress), the pieces we
// have, and how many peers have each piece.
#include <cstring>

#include <libtorrent/torrent_info.hpp>

#include "state.hpp"
#include "status.hpp"

namespace {

std::shared_ptr<lt::torrent_info const> metadata_of(lt::torrent_handle const& h) {
  auto ti = h.torrent_file();
  if (!ti || !ti->is_valid()) btx::fail(BTX_E_NO_METADATA, "the torrent's metadata is not known yet");
  return ti;
}

}  // namespace

extern "C" BTX_API int32_t btx_torrent_files(btx_torrent h, uint32_t flags, double* nums, uint32_t nums_cap,
                                             uint8_t* strs, uint32_t strs_cap, uint32_t* out) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!out || (!nums && nums_cap) || (!strs && strs_cap)) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    if (flags & ~(BTX_FILES_PRECISE | BTX_FILES_WITH_PAD)) btx::fail(BTX_E_INVALID_ARGUMENT, "unknown files flags");
    out[0] = out[1] = out[2] = out[3] = 0;
    auto ti = metadata_of(t.handle);
    lt::file_storage const& fs = ti->files();
    bool const pads = flags & BTX_FILES_WITH_PAD;
    std::vector<std::string> paths;
    uint64_t need_strs = 0, count = 0;
    for (lt::file_index_t i : fs.file_range()) {
      if (!pads && fs.pad_file_at(i)) continue;
      ++count;
      paths.push_back(fs.file_path(i));
      need_strs += paths.back().size();
    }
    uint64_t need_nums = count * BTX_FILE_NUM_FIELDS;
    out[2] = static_cast<uint32_t>(need_nums);
    out[3] = static_cast<uint32_t>(need_strs);
    if (need_nums > nums_cap || need_strs > strs_cap)
      btx::fail(BTX_E_BUFFER_TOO_SMALL, "file buffers too small: see out[2], out[3]");
    std::vector<std::int64_t> progress;
    t.handle.file_progress(progress, (flags & BTX_FILES_PRECISE) ? lt::file_progress_flags_t{}
                                                                  : lt::torrent_handle::piece_granularity);
    std::vector<lt::download_priority_t> prio = t.handle.get_file_priorities();
    uint32_t used = 0;
    size_t k = 0;
    for (lt::file_index_t i : fs.file_range()) {
      bool const pad = fs.pad_file_at(i);
      if (!pads && pad) continue;
      int const idx = static_cast<int>(i);
      double* n = nums + k * BTX_FILE_NUM_FIELDS;
      n[BTX_FILE_INDEX] = idx;
      n[BTX_FILE_SIZE] = static_cast<double>(fs.file_size(i));
      n[BTX_FILE_OFFSET] = static_cast<double>(fs.file_offset(i));
      n[BTX_FILE_PROGRESS] = idx < static_cast<int>(progress.size()) ? static_cast<double>(progress[idx]) : 0.0;
      n[BTX_FILE_PRIORITY] = idx < static_cast<int>(prio.size()) ? static_cast<int>(static_cast<std::uint8_t>(prio[idx])) : 4;
      n[BTX_FILE_FLAGS] = static_cast<double>(static_cast<std::uint8_t>(fs.file_flags(i)));
      uint32_t a = btx::put_str(paths[k], strs + used, strs_cap - used);
      used += a;
      n[BTX_FILE_PATH_LEN] = a;
      ++k;
    }
    out[0] = static_cast<uint32_t>(count);
    out[1] = used;
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_pieces(btx_torrent h, uint8_t* buf, uint32_t cap, uint32_t* out) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!out || (!buf && cap)) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    out[0] = out[1] = 0;
    lt::torrent_status st = t.handle.status(lt::torrent_handle::query_pieces);
    if (!st.has_metadata) btx::fail(BTX_E_NO_METADATA, "the torrent's metadata is not known yet");
    int const n = st.pieces.size();
    uint32_t const bytes = static_cast<uint32_t>((n + 7) / 8);
    out[0] = static_cast<uint32_t>(n);
    out[1] = bytes;
    if (bytes > cap) btx::fail(BTX_E_BUFFER_TOO_SMALL, "bitfield buffer too small: see out[1]");
    std::memset(buf, 0, bytes);
    for (int i = 0; i < n; ++i)
      if (st.pieces.get_bit(lt::piece_index_t(i))) buf[i >> 3] |= static_cast<uint8_t>(0x80u >> (i & 7));
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_piece_availability(btx_torrent h, int32_t* out, uint32_t cap,
                                                          uint32_t* out_count) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!out_count || (!out && cap)) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    *out_count = 0;
    metadata_of(t.handle);  // libtorrent asserts metadata before reading its picker
    std::vector<int> avail;
    t.handle.piece_availability(avail);
    *out_count = static_cast<uint32_t>(avail.size());
    if (avail.size() > cap) btx::fail(BTX_E_BUFFER_TOO_SMALL, "availability buffer too small: see out_count");
    for (size_t i = 0; i < avail.size(); ++i) out[i] = avail[i];
    return BTX_OK;
  });
}
