#!/usr/bin/python3
"""Add / status-poll cost and per-torrent memory of python-libtorrent.

Usage: /usr/bin/python3 bench/py/status.py [--count N] [--status-reps M]

One session, isolated profile (listen 127.0.0.1:0, DHT/LSD/UPnP/NAT-PMP
off, no bootstrap nodes), default settings except alert_queue_size =
4N + 1000 so no add_torrent_alert is dropped (alert_mask stays the default
error-only; add_torrent_alert is posted regardless of the mask).

Torrents are magnet-style add_torrent_params: info_hashes = a distinct
random v1 info-hash (os.urandom(20), generated before timing), save_path =
a fresh temp dir, flags = default - auto_managed + paused, so nothing ever
runs or touches the network.  Building the add_torrent_params object for
each torrent IS inside the timed loops (that's part of adding).

Measured, in this order:
  (d) rss_before = RssAnon (KiB) after startup, before any add.
  (a) async_add: time.perf_counter() from just before the first
      ses.async_add_torrent() to the moment the N-th add_torrent_alert has
      been popped (wait_for_alert + pop_alerts).  -> async_add_us_per_torrent
  (d) rss_after = RssAnon after those N torrents are in and the add alerts
      have been freed (a second pop_alerts()).
      rss_kib_per_torrent = (rss_after - rss_before) / N
  (b) full poll: ses.get_torrent_status(lambda t: True) of the N torrents,
      5 times, median in ms (also min).
  (c) one handle.status() on one of the torrents, each call timed
      individually, median (and p10/p90) of M=1000 calls, in µs.
  (a') sync_add: ses.add_torrent() of another N such torrents (session then
      holds 2N), total wall time / N.  -> sync_add_us_per_torrent

Output (one JSON line): see keys in main().
"""
import argparse
import os
import shutil
import statistics
import tempfile
import time

import libtorrent as lt

from common import emit, log, make_session, rss_anon_kib


def params(save_path, raw_hash):
    p = lt.add_torrent_params()
    p.info_hashes = lt.info_hash_t(lt.sha1_hash(raw_hash))
    p.save_path = save_path
    p.flags = (p.flags | lt.torrent_flags.paused) & ~lt.torrent_flags.auto_managed
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--status-reps", type=int, default=1000)
    ap.add_argument("--poll-reps", type=int, default=5)
    args = ap.parse_args()
    N = args.count

    ses = make_session(extra={"alert_queue_size": 4 * N + 1000})
    tmp = tempfile.mkdtemp(prefix="btx-status-")
    try:
        ses.get_settings()
        ses.pop_alerts()
        hashes = set()
        while len(hashes) < 2 * N:
            hashes.add(os.urandom(20))
        hashes = list(hashes)
        async_hashes, sync_hashes = hashes[:N], hashes[N:]

        ses.pop_alerts()
        rss_before = rss_anon_kib()

        # (a) async add
        got = 0
        errors = 0
        one = None
        t0 = time.perf_counter()
        for h in async_hashes:
            ses.async_add_torrent(params(tmp, h))
        while got < N:
            ses.wait_for_alert(1000)
            for a in ses.pop_alerts():
                if isinstance(a, lt.add_torrent_alert):
                    got += 1
                    if a.error.value():
                        errors += 1
                    elif one is None:
                        one = a.handle
        async_s = time.perf_counter() - t0
        if errors:
            log("WARNING: %d async adds failed" % errors)

        ses.pop_alerts()  # frees the previous generation of alerts
        ses.pop_alerts()
        rss_after = rss_anon_kib()

        # (b) full poll
        polls = []
        n_polled = None
        for _ in range(args.poll_reps):
            t0 = time.perf_counter()
            st = ses.get_torrent_status(lambda t: True)
            polls.append(time.perf_counter() - t0)
            n_polled = len(st)
            del st

        # (c) one handle.status()
        one_st = []
        for _ in range(args.status_reps):
            t0 = time.perf_counter()
            one.status()
            one_st.append(time.perf_counter() - t0)
        one_st.sort()
        q = lambda f: one_st[min(len(one_st) - 1, int(f * len(one_st)))]

        # (a') sync add of another N
        t0 = time.perf_counter()
        for h in sync_hashes:
            ses.add_torrent(params(tmp, h))
        sync_s = time.perf_counter() - t0
        ses.pop_alerts()

        for h in ses.get_torrents():
            ses.remove_torrent(h)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    emit({
        "count": N,
        "async_add_us_per_torrent": round(async_s / N * 1e6, 2),
        "async_add_total_s": round(async_s, 4),
        "async_add_errors": errors,
        "sync_add_us_per_torrent": round(sync_s / N * 1e6, 2),
        "sync_add_total_s": round(sync_s, 4),
        "poll_all_ms_median": round(statistics.median(polls) * 1e3, 3),
        "poll_all_ms_min": round(min(polls) * 1e3, 3),
        "poll_torrents": n_polled,
        "poll_reps": args.poll_reps,
        "one_status_us_median": round(statistics.median(one_st) * 1e6, 2),
        "one_status_us_p10": round(q(0.10) * 1e6, 2),
        "one_status_us_p90": round(q(0.90) * 1e6, 2),
        "status_reps": args.status_reps,
        "rss_anon_kib_before": rss_before,
        "rss_anon_kib_after": rss_after,
        "rss_kib_per_torrent": round((rss_after - rss_before) / N, 3),
    })


if __name__ == "__main__":
    main()
