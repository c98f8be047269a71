#!/usr/bin/python3
"""Alert drain throughput of python-libtorrent (anchor for the TS events bench).

Usage: /usr/bin/python3 bench/py/events.py [--count N] [--torrents T]
                                           [--batch-rounds K]

HOW THE ALERTS ARE GENERATED (mirror this exactly on the TypeScript side):
  1. One session, isolated profile (listen_interfaces=127.0.0.1:0, DHT/LSD/
     UPnP/NAT-PMP off, dht_bootstrap_nodes=''), plus
       alert_mask       = 65   (alert_category::error | alert_category::status)
       alert_queue_size = 2 * (alerts per cycle) + 10000 (nothing is dropped)
     Startup alerts (listen_succeeded etc.) are popped and discarded.
  2. T torrents (default 1000) are added, one after another, each from the
     magnet URI "magnet:?xt=urn:btih:<40 random hex>" (no trackers, no
     name), save_path = a fresh temp dir, flags = default minus
     auto_managed plus paused (added paused, not auto-managed), using the
     synchronous ses.add_torrent().  Each add posts exactly 3 alerts:
       add_torrent_alert, torrent_added_alert, state_changed_alert
       (checking_resume_data -> downloading_metadata).
  3. R rounds in total, R = ceil((N - 3T) / 2T), N = --count (default
     1,000,000).  One round = for each of the T handles in add order:
     handle.resume(); handle.pause().  Each resume posts one
     torrent_resumed_alert and each pause one torrent_paused_alert.
     Nothing touches the network: magnets without trackers, DHT off.
  4. The work is done in CYCLES of K rounds (K = --batch-rounds, default 50,
     i.e. 100,000 alerts per cycle with T=1000).  The first cycle also
     contains the T adds (step 2).  Each cycle:
       generate (adds if first cycle, then K rounds)
       barrier: one synchronous call, handles[-1].status(), so the network
                thread has processed every queued resume/pause
       TIMED drain (see below)
     Cycles keep the pop_alerts() list at a realistic size (an application
     pops periodically); one 1M-element list is dominated by allocator/GC
     noise.
  Expected total = 3T + 2*T*R  (1,001,000 with the defaults, 10 cycles).

WHAT IS TIMED (only this, summed over cycles):
  repeat ses.pop_alerts() until it returns an empty list; for every alert
  returned: type(a), a.what(), a.message(), a.category().
  Clock: time.perf_counter().  After each non-empty batch the clock is
  stopped for an untimed verification pass (count by type), then restarted.

The script checks the drained count equals the expected total and that no
alerts_dropped_alert was seen ("complete").

Output (one JSON line):
  {"alerts", "seconds", "alerts_per_sec", "median_cycle_alerts_per_sec",
   "complete", "expected", "torrents", "rounds", "cycles", "gen_seconds",
   "by_type", "how"}
"""
import argparse
import binascii
import collections
import math
import os
import shutil
import statistics
import tempfile
import time

import libtorrent as lt

from common import emit, log, make_session

ALERT_MASK = int(lt.alert_category.error | lt.alert_category.status)  # 65


def timed_drain(ses, types):
    """Drain everything queued; return (alerts drained, seconds timed)."""
    n = 0
    seconds = 0.0
    while True:
        t0 = time.perf_counter()
        alerts = ses.pop_alerts()
        if not alerts:
            seconds += time.perf_counter() - t0
            return n, seconds
        for a in alerts:
            t = type(a)
            w = a.what()
            m = a.message()
            c = a.category()
        seconds += time.perf_counter() - t0
        n += len(alerts)
        # untimed verification pass (alerts are valid until the next pop)
        types.update(type(a).__name__ for a in alerts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1_000_000,
                    help="approximate number of alerts to generate")
    ap.add_argument("--torrents", type=int, default=1000)
    ap.add_argument("--batch-rounds", type=int, default=50,
                    help="resume/pause rounds per generate+drain cycle")
    args = ap.parse_args()

    T = args.torrents
    K = max(1, args.batch_rounds)
    R = max(0, math.ceil((args.count - 3 * T) / (2 * T)))
    expected = 3 * T + 2 * R * T
    cycles = max(1, math.ceil(R / K))

    ses = make_session(extra={
        "alert_mask": ALERT_MASK,
        "alert_queue_size": 2 * (3 * T + 2 * K * T) + 10000,
    })
    tmp = tempfile.mkdtemp(prefix="btx-events-")
    types = collections.Counter()
    try:
        ses.get_settings()
        ses.pop_alerts()  # discard startup alerts

        handles = []
        total = 0
        seconds = 0.0
        gen_seconds = 0.0
        cycle_rates = []
        rounds_left = R
        for cyc in range(cycles):
            g0 = time.perf_counter()
            if cyc == 0:
                for _ in range(T):
                    ih = binascii.hexlify(os.urandom(20)).decode()
                    p = lt.parse_magnet_uri("magnet:?xt=urn:btih:" + ih)
                    p.save_path = tmp
                    p.flags = (p.flags | lt.torrent_flags.paused) & ~lt.torrent_flags.auto_managed
                    handles.append(ses.add_torrent(p))
            k = min(K, rounds_left)
            rounds_left -= k
            for _ in range(k):
                for h in handles:
                    h.resume()
                    h.pause()
            handles[-1].status()  # barrier
            gen_seconds += time.perf_counter() - g0

            n, s = timed_drain(ses, types)
            total += n
            seconds += s
            if s > 0:
                cycle_rates.append(n / s)

        dropped = types.get("alerts_dropped_alert", 0) > 0
        complete = (total == expected) and not dropped
        if not complete:
            log("WARNING: drained %d alerts, expected %d, dropped=%s"
                % (total, expected, dropped))
        for h in handles:
            ses.remove_torrent(h)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    emit({
        "alerts": total,
        "seconds": round(seconds, 6),
        "alerts_per_sec": round(total / seconds) if seconds > 0 else None,
        "median_cycle_alerts_per_sec": round(statistics.median(cycle_rates)) if cycle_rates else None,
        "complete": complete,
        "expected": expected,
        "torrents": T,
        "rounds": R,
        "cycles": cycles,
        "gen_seconds": round(gen_seconds, 3),
        "by_type": dict(types),
        "how": ("%d magnet torrents added paused (sync add_torrent; alert_mask=65 -> "
                "add_torrent+torrent_added+state_changed each), then %d rounds of "
                "resume()+pause() on every handle (torrent_resumed+torrent_paused), "
                "in %d cycles of <=%d rounds each; each cycle ends with a status() "
                "barrier and a timed pop_alerts() drain calling type/what/message/"
                "category per alert" % (T, R, cycles, K)),
    })


if __name__ == "__main__":
    main()
