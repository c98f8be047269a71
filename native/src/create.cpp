// Creating torrents: v1, v2 or hybrid, from a file or a directory.
#include <filesystem>

#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/file_storage.hpp>
#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/torrent_info.hpp>

#include "state.hpp"

namespace fs = std::filesystem;

extern "C" BTX_API int32_t btx_create_torrent(uint8_t const* opts, uint32_t len, uint32_t* out_blob, uint32_t* out_size) {
  return btx::guard(nullptr, [&]() -> int32_t {
    if (!out_blob || !out_size) btx::fail(BTX_E_INVALID_ARGUMENT, "out is null");
    auto d = btx::parse_dict(opts, len, "create options");
    std::string path = btx::dict_str(d, "path");
    if (path.empty()) btx::fail(BTX_E_INVALID_ARGUMENT, "path is required");
    std::error_code fec;
    fs::path abs = fs::absolute(fs::path(path), fec);
    if (fec || !fs::exists(abs, fec)) btx::fail(BTX_E_PATH_NOT_FOUND, "no such file or directory: " + path);
    // "dir/" names the same torrent as "dir".
    if (!abs.has_filename()) abs = abs.parent_path();

    int64_t version = btx::dict_int(d, "version", 3);
    lt::create_flags_t flags{};
    if (version == 1) flags = lt::create_torrent::v1_only;
    else if (version == 2) flags = lt::create_torrent::v2_only;
    else if (version != 3) btx::fail(BTX_E_INVALID_ARGUMENT, "version must be 1 (v1), 2 (v2) or 3 (hybrid)");

    int64_t piece_size = btx::dict_int(d, "piece_size", 0);
    if (piece_size != 0 && (piece_size < 16384 || piece_size > (int64_t(1) << 28) || (piece_size & (piece_size - 1)) != 0))
      btx::fail(BTX_E_INVALID_ARGUMENT, "piece size must be 0 (automatic) or a power of two from 16 KiB to 256 MiB");

    lt::file_storage files;
    lt::add_files(files, abs.string(), flags);
    if (files.num_files() == 0) btx::fail(BTX_E_CREATE_FAILED, "no files to add under " + path);
    if (files.total_size() == 0) btx::fail(BTX_E_CREATE_FAILED, "cannot create a torrent of zero bytes: " + path);
    // BEP 52 writes a file tree with one file as a single-file torrent: a
    // v2-only torrent of a directory holding one file would lose the
    // directory (readers, libtorrent included, name it after the file and
    // look for the file outside the directory). Refuse rather than create a
    // torrent that does not describe the data.
    if (version == 2 && files.num_files() == 1 && fs::is_directory(abs, fec))
      btx::fail(BTX_E_INVALID_ARGUMENT,
                "a v2-only torrent cannot hold a directory with a single file (BEP 52 makes it a single-file "
                "torrent): create it from the file itself, or use version v1 or hybrid");

    lt::create_torrent ct(files, static_cast<int>(piece_size), flags);
    int tier = 0;
    for (auto const& url : btx::dict_str_list(d, "trackers")) ct.add_tracker(url, tier++);
    for (auto const& url : btx::dict_str_list(d, "web_seeds")) ct.add_url_seed(url);
    std::string comment = btx::dict_str(d, "comment");
    if (!comment.empty()) ct.set_comment(comment.c_str());
    std::string creator = btx::dict_str(d, "creator", "TorrentXT");
    if (!creator.empty()) ct.set_creator(creator.c_str());
    ct.set_priv(btx::dict_int(d, "private", 0) != 0);

    lt::error_code ec;
    lt::set_piece_hashes(ct, abs.parent_path().string(), ec);
    if (ec) btx::fail(BTX_E_CREATE_FAILED, "hashing failed: " + ec.message());
    std::vector<char> torrent = ct.generate_buf();

    lt::torrent_info ti(lt::span<char const>(torrent.data(), static_cast<std::ptrdiff_t>(torrent.size())), ec, lt::from_span);
    if (ec) btx::fail(BTX_E_CREATE_FAILED, "generated torrent does not load: " + ec.message());
    lt::entry result(lt::entry::dictionary_t);
    result["torrent"] = std::string(torrent.begin(), torrent.end());
    auto ih = ti.info_hashes();
    if (ih.has_v1()) result["v1"] = std::string(ih.v1.data(), 20);
    if (ih.has_v2()) result["v2"] = std::string(ih.v2.data(), 32);
    result["magnet"] = lt::make_magnet_uri(ti);
    std::vector<char> out;
    lt::bencode(std::back_inserter(out), result);
    *out_size = static_cast<uint32_t>(out.size());
    *out_blob = btx::store_blob(std::move(out));
    return BTX_OK;
  });
}
