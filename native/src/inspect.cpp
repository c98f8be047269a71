// Torrent inspection: info-hashes and the status record.
#include <cstring>

#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>

#include "state.hpp"

namespace {


// Copies up to `cap` bytes of `s`, cut back to a UTF-8 boundary.
uint32_t put_str(std::string const& s, uint8_t* out, uint32_t cap) {
  size_t n = s.size() < cap ? s.size() : cap;
  if (n < s.size())
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  if (n) std::memcpy(out, s.data(), n);
  return static_cast<uint32_t>(n);
}

}  // namespace

extern "C" BTX_API int32_t btx_torrent_info_hash(btx_torrent h, uint8_t* out, uint32_t* out_flags) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!out || !out_flags) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    lt::info_hash_t ih = t.handle.info_hashes();
    std::memcpy(out, ih.v1.data(), 20);
    std::memcpy(out + 20, ih.v2.data(), 32);
    *out_flags = (ih.has_v1() ? 1u : 0u) | (ih.has_v2() ? 2u : 0u);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_status(btx_torrent h, double* nums, uint8_t* strs, uint32_t strs_cap) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!nums || (!strs && strs_cap)) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    lt::torrent_status st = t.handle.status(lt::torrent_handle::query_name | lt::torrent_handle::query_save_path |
                                            lt::torrent_handle::query_torrent_file);
    auto ti = st.torrent_file.lock();
    double* n = nums;
    n[BTX_ST_STATE] = st.state;
    n[BTX_ST_PROGRESS] = st.progress;
    n[BTX_ST_DOWNLOAD_RATE] = st.download_payload_rate;
    n[BTX_ST_UPLOAD_RATE] = st.upload_payload_rate;
    n[BTX_ST_NUM_PEERS] = st.num_peers;
    n[BTX_ST_NUM_SEEDS] = st.num_seeds;
    n[BTX_ST_TOTAL_DONE] = static_cast<double>(st.total_done);
    n[BTX_ST_TOTAL_WANTED] = static_cast<double>(st.total_wanted);
    n[BTX_ST_TOTAL_WANTED_DONE] = static_cast<double>(st.total_wanted_done);
    n[BTX_ST_TOTAL_SIZE] = ti ? static_cast<double>(ti->total_size()) : 0.0;
    n[BTX_ST_TOTAL_DOWNLOAD] = static_cast<double>(st.total_payload_download);
    n[BTX_ST_TOTAL_UPLOAD] = static_cast<double>(st.total_payload_upload);
    n[BTX_ST_ALL_TIME_DOWNLOAD] = static_cast<double>(st.all_time_download);
    n[BTX_ST_ALL_TIME_UPLOAD] = static_cast<double>(st.all_time_upload);
    n[BTX_ST_FLAGS] = static_cast<double>(static_cast<std::uint64_t>(st.flags) & ((1ull << 53) - 1));
    n[BTX_ST_HAS_METADATA] = st.has_metadata;
    n[BTX_ST_IS_SEEDING] = st.is_seeding;
    n[BTX_ST_IS_FINISHED] = st.is_finished;
    n[BTX_ST_NUM_PIECES] = st.num_pieces;
    n[BTX_ST_PIECE_COUNT] = ti ? ti->num_pieces() : 0;
    n[BTX_ST_PIECE_SIZE] = ti ? ti->piece_length() : 0;
    n[BTX_ST_QUEUE_POSITION] = static_cast<int>(st.queue_position);
    n[BTX_ST_NUM_CONNECTIONS] = st.num_connections;
    n[BTX_ST_LIST_PEERS] = st.list_peers;
    n[BTX_ST_LIST_SEEDS] = st.list_seeds;
    n[BTX_ST_NUM_COMPLETE] = st.num_complete;
    n[BTX_ST_NUM_INCOMPLETE] = st.num_incomplete;
    n[BTX_ST_DISTRIBUTED_COPIES] = st.distributed_copies;
    n[BTX_ST_ADDED_TIME] = static_cast<double>(st.added_time);
    n[BTX_ST_COMPLETED_TIME] = static_cast<double>(st.completed_time);
    n[BTX_ST_ACTIVE_SECONDS] = static_cast<double>(st.active_duration.count());
    n[BTX_ST_SEEDING_SECONDS] = static_cast<double>(st.seeding_duration.count());
    n[BTX_ST_ERROR_CODE] = st.errc.value();
    n[BTX_ST_ERROR_FILE] = static_cast<int>(st.error_file);
    std::string err = st.errc ? st.errc.message() : std::string();
    uint32_t used = 0;
    uint32_t a = put_str(st.name, strs, strs_cap);
    used += a;
    uint32_t b = put_str(st.save_path, strs + used, strs_cap - used);
    used += b;
    uint32_t c = put_str(err, strs + used, strs_cap - used);
    n[BTX_ST_NAME_LEN] = a;
    n[BTX_ST_SAVE_PATH_LEN] = b;
    n[BTX_ST_ERROR_LEN] = c;
    return BTX_OK;
  });
}
