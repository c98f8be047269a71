#!/usr/bin/python3
"""Create a random-data test file and a v1 .torrent for it (no trackers).

Usage: /usr/bin/python3 bench/py/mktorrent.py --data DIR --name NAME
           --size-mb MB --out FILE.torrent [--piece-kib K]

Writes DIR/NAME (MB * 1e6 random bytes; reused if it already has that
size), then FILE.torrent (lt.create_torrent, v1_only, single file, no
trackers; piece size = --piece-kib KiB, default: libtorrent's automatic
choice).  Prints one JSON line:
  {"torrent", "data_file", "bytes", "piece_length", "num_pieces",
   "info_hash", "seconds"}
"""
import argparse
import os
import time

import libtorrent as lt

from common import emit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="directory for the data file")
    ap.add_argument("--name", default="bench.bin")
    ap.add_argument("--size-mb", type=float, default=200.0, help="MB (1e6 bytes)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--piece-kib", type=int, default=0)
    args = ap.parse_args()

    t0 = time.perf_counter()
    os.makedirs(args.data, exist_ok=True)
    path = os.path.join(args.data, args.name)
    size = int(args.size_mb * 1e6)
    if not (os.path.exists(path) and os.path.getsize(path) == size):
        with open(path, "wb") as f:
            left = size
            while left:
                n = min(left, 4 << 20)
                f.write(os.urandom(n))
                left -= n

    fs = lt.file_storage()
    lt.add_files(fs, path)
    ct = lt.create_torrent(fs, args.piece_kib * 1024, flags=lt.create_torrent.v1_only)
    ct.set_creator("TorrentXT bench")
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(path)))
    data = lt.bencode(ct.generate())
    with open(args.out, "wb") as f:
        f.write(data)
    ti = lt.torrent_info(args.out)
    emit({
        "torrent": os.path.abspath(args.out),
        "data_file": os.path.abspath(path),
        "bytes": ti.total_size(),
        "piece_length": ti.piece_length(),
        "num_pieces": ti.num_pieces(),
        "info_hash": str(ti.info_hashes().v1),
        "seconds": round(time.perf_counter() - t0, 3),
    })


if __name__ == "__main__":
    main()
