// Torrent inspection: info-hashes and the status record.
#include <cstring>

#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>

#include "state.hpp"
#include "status.hpp"

namespace btx {

uint32_t put_str(std::string const& s, uint8_t* out, uint32_t cap) {
  size_t n = s.size() < cap ? s.size() : cap;
  if (n < s.size())
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  if (n) std::memcpy(out, s.data(), n);
  return static_cast<uint32_t>(n);
}

int64_t real_total_size(lt::torrent_info const& ti) {
  lt::file_storage const& fs = ti.files();
  int64_t total = fs.total_size();
  for (lt::file_index_t i : fs.file_range())
    if (fs.pad_file_at(i)) total -= fs.file_size(i);
  return total;
}

std::string status_error(lt::torrent_status const& st) { return st.errc ? st.errc.message() : std::string(); }

namespace {
double seconds_since(lt::time_point t, lt::time_point now) {
  if (t == lt::time_point{}) return -1;  // never
  return static_cast<double>(lt::total_seconds(now - t));
}
}  // namespace

uint32_t fill_status(lt::torrent_status const& st, int64_t real_size, bool ex, uint32_t torrent, lt::time_point now,
                     double* n, uint8_t* strs, uint32_t cap) {
  auto ti = st.torrent_file.lock();
  if (real_size < 0) real_size = ti ? real_total_size(*ti) : 0;
  n[BTX_ST_STATE] = st.state;
  n[BTX_ST_PROGRESS] = st.progress;
  n[BTX_ST_DOWNLOAD_RATE] = st.download_payload_rate;
  n[BTX_ST_UPLOAD_RATE] = st.upload_payload_rate;
  n[BTX_ST_NUM_PEERS] = st.num_peers;
  n[BTX_ST_NUM_SEEDS] = st.num_seeds;
  n[BTX_ST_TOTAL_DONE] = static_cast<double>(st.total_done);
  n[BTX_ST_TOTAL_WANTED] = static_cast<double>(st.total_wanted);
  n[BTX_ST_TOTAL_WANTED_DONE] = static_cast<double>(st.total_wanted_done);
  n[BTX_ST_TOTAL_SIZE] = ti ? static_cast<double>(real_size) : 0.0;
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
  uint32_t used = 0;
  uint32_t a = put_str(st.name, strs, cap);
  used += a;
  uint32_t b = put_str(st.save_path, strs + used, cap - used);
  used += b;
  uint32_t c = 0;
  if (st.errc) {
    c = put_str(status_error(st), strs + used, cap - used);
    used += c;
  }
  n[BTX_ST_NAME_LEN] = a;
  n[BTX_ST_SAVE_PATH_LEN] = b;
  n[BTX_ST_ERROR_LEN] = c;
  if (!ex) return used;

  n[BTX_STX_NEXT_ANNOUNCE] = static_cast<double>(lt::total_seconds(st.next_announce));
  n[BTX_STX_TOTAL_DOWNLOAD_ALL] = static_cast<double>(st.total_download);
  n[BTX_STX_TOTAL_UPLOAD_ALL] = static_cast<double>(st.total_upload);
  n[BTX_STX_DOWNLOAD_RATE_ALL] = st.download_rate;
  n[BTX_STX_UPLOAD_RATE_ALL] = st.upload_rate;
  n[BTX_STX_TOTAL_FAILED_BYTES] = static_cast<double>(st.total_failed_bytes);
  n[BTX_STX_TOTAL_REDUNDANT_BYTES] = static_cast<double>(st.total_redundant_bytes);
  n[BTX_STX_LAST_SEEN_COMPLETE] = static_cast<double>(st.last_seen_complete);
  n[BTX_STX_NUM_UPLOADS] = st.num_uploads;
  n[BTX_STX_UPLOADS_LIMIT] = st.uploads_limit;
  n[BTX_STX_CONNECTIONS_LIMIT] = st.connections_limit;
  n[BTX_STX_CONNECT_CANDIDATES] = st.connect_candidates;
  n[BTX_STX_SEED_RANK] = st.seed_rank;
  n[BTX_STX_MOVING_STORAGE] = st.moving_storage;
  n[BTX_STX_ANNOUNCING_TO_TRACKERS] = st.announcing_to_trackers;
  n[BTX_STX_ANNOUNCING_TO_LSD] = st.announcing_to_lsd;
  n[BTX_STX_ANNOUNCING_TO_DHT] = st.announcing_to_dht;
  n[BTX_STX_HAS_INCOMING] = st.has_incoming;
  n[BTX_STX_NEED_SAVE_RESUME] = st.need_save_resume;
  n[BTX_STX_STORAGE_MODE] = static_cast<int>(st.storage_mode);
  n[BTX_STX_SINCE_UPLOAD] = seconds_since(st.last_upload, now);
  n[BTX_STX_SINCE_DOWNLOAD] = seconds_since(st.last_download, now);
  n[BTX_STX_FINISHED_SECONDS] = static_cast<double>(st.finished_duration.count());
  n[BTX_STX_BLOCK_SIZE] = st.block_size;
  n[BTX_STX_PROGRESS_PPM] = st.progress_ppm;
  n[BTX_STX_UP_BANDWIDTH_QUEUE] = st.up_bandwidth_queue;
  n[BTX_STX_DOWN_BANDWIDTH_QUEUE] = st.down_bandwidth_queue;
  uint32_t d = put_str(st.current_tracker, strs + used, cap - used);
  used += d;
  n[BTX_STX_TRACKER_LEN] = d;
  n[BTX_STX_TORRENT] = torrent;
  n[BTX_STX_STR_OFF] = 0;
  return used;
}

}  // namespace btx

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

extern "C" BTX_API int32_t btx_torrent_info_hashes(btx_torrent const* ts, uint32_t count, uint8_t* out,
                                                   uint8_t* flags) {
  return btx::guard(nullptr, [&]() -> int32_t {
    if (count && (!ts || !out || !flags)) btx::fail(BTX_E_INVALID_ARGUMENT, "null buffer");
    for (uint32_t i = 0; i < count; ++i) {
      uint8_t* o = out + static_cast<size_t>(i) * 52;
      flags[i] = 0;
      auto t = btx::torrents().get(ts[i]);
      if (!t) continue;
      lt::info_hash_t ih = t->handle.info_hashes();
      std::memcpy(o, ih.v1.data(), 20);
      std::memcpy(o + 20, ih.v2.data(), 32);
      flags[i] = static_cast<uint8_t>((ih.has_v1() ? 1u : 0u) | (ih.has_v2() ? 2u : 0u));
    }
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_status(btx_torrent h, double* nums, uint8_t* strs, uint32_t strs_cap) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!nums || (!strs && strs_cap)) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    lt::torrent_status st = t.handle.status(btx::kStatusQuery);
    btx::fill_status(st, -1, false, h, lt::clock_type::now(), nums, strs, strs_cap);
    return BTX_OK;
  });
}

extern "C" BTX_API int32_t btx_torrent_status_ex(btx_torrent h, double* nums, uint8_t* strs, uint32_t strs_cap) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!nums || (!strs && strs_cap)) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    lt::torrent_status st = t.handle.status(btx::kStatusQuery);
    btx::fill_status(st, -1, true, h, lt::clock_type::now(), nums, strs, strs_cap);
    return BTX_OK;
  });
}
