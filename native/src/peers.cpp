// Inspection of a torrent's connections: one record per peer.
#include <libtorrent/peer_info.hpp>

#include "state.hpp"
#include "status.hpp"

namespace {

std::string endpoint_str(lt::tcp::endpoint const& ep) {
  std::string addr = ep.address().to_string();
  if (ep.address().is_v6()) return "[" + addr + "]:" + std::to_string(ep.port());
  return addr + ":" + std::to_string(ep.port());
}

}  // namespace

extern "C" BTX_API int32_t btx_torrent_peers(btx_torrent h, double* nums, uint32_t nums_cap, uint8_t* strs,
                                             uint32_t strs_cap, uint32_t* out) {
  return btx::with_torrent(h, [&](btx::TorrentState& t) -> int32_t {
    if (!out || (!nums && nums_cap) || (!strs && strs_cap)) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    out[0] = out[1] = out[2] = out[3] = 0;
    std::vector<lt::peer_info> peers;
    t.handle.get_peer_info(peers);
    std::vector<std::string> addrs;
    addrs.reserve(peers.size());
    uint64_t need_strs = 0;
    for (auto const& p : peers) {
      addrs.push_back(endpoint_str(p.ip));
      need_strs += addrs.back().size() + p.client.size();
    }
    uint64_t need_nums = static_cast<uint64_t>(peers.size()) * BTX_PEER_NUM_FIELDS;
    out[2] = static_cast<uint32_t>(need_nums);
    out[3] = static_cast<uint32_t>(need_strs);
    if (need_nums > nums_cap || need_strs > strs_cap)
      btx::fail(BTX_E_BUFFER_TOO_SMALL, "peer buffers too small: see out[2], out[3]");
    uint32_t used = 0;
    for (size_t i = 0; i < peers.size(); ++i) {
      auto const& p = peers[i];
      double* n = nums + i * BTX_PEER_NUM_FIELDS;
      n[BTX_PEER_FLAGS] = static_cast<double>(static_cast<std::uint32_t>(p.flags));
      n[BTX_PEER_SOURCE] = static_cast<double>(static_cast<std::uint8_t>(p.source));
      n[BTX_PEER_CONNECTION_TYPE] = (p.connection_type & lt::peer_info::http_seed)  ? 2
                                    : (p.connection_type & lt::peer_info::web_seed) ? 1
                                                                                    : 0;
      n[BTX_PEER_DOWNLOAD_RATE] = p.payload_down_speed;
      n[BTX_PEER_UPLOAD_RATE] = p.payload_up_speed;
      n[BTX_PEER_TOTAL_DOWNLOAD] = static_cast<double>(p.total_download);
      n[BTX_PEER_TOTAL_UPLOAD] = static_cast<double>(p.total_upload);
      n[BTX_PEER_PROGRESS] = p.progress;
      n[BTX_PEER_NUM_PIECES] = p.num_pieces;
      n[BTX_PEER_RTT] = p.rtt;
      n[BTX_PEER_DOWNLOAD_QUEUE] = p.download_queue_length;
      n[BTX_PEER_UPLOAD_QUEUE] = p.upload_queue_length;
      n[BTX_PEER_NUM_HASHFAILS] = p.num_hashfails;
      uint32_t a = btx::put_str(addrs[i], strs + used, strs_cap - used);
      used += a;
      uint32_t b = btx::put_str(p.client, strs + used, strs_cap - used);
      used += b;
      n[BTX_PEER_ADDRESS_LEN] = a;
      n[BTX_PEER_CLIENT_LEN] = b;
    }
    out[0] = static_cast<uint32_t>(peers.size());
    out[1] = used;
    return BTX_OK;
  });
}
