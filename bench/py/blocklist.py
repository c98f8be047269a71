#!/usr/bin/python3
"""Blocklist parse + apply with python-libtorrent: the anchor of bench/blocklist.ts.

Usage: /usr/bin/python3 bench/py/blocklist.py --file LIST [--rounds 3]

The list (written by bench/blocklist.ts) is read line by line, as a
straightforward Python loader would: blank lines and lines starting with
'#' or '//' are skipped; a line with a ':' whose tail after the LAST colon
is "a-b" is a PeerGuardian .p2p line; a line with a '/' is a CIDR
(ipaddress.ip_network(strict=False)); "a-b" is a range; anything else a
single address. Each range goes into an lt.ip_filter with add_rule(first,
last, 1) (blocked; a reversed range is swapped first, libtorrent asserts on
those); malformed lines are counted. Then ses.set_ip_filter(f).

Timed (time.perf_counter): from opening the file to set_ip_filter()
returning — parse plus apply, the same span bench/blocklist.ts measures.
One isolated session (common.make_session: 127.0.0.1, DHT/LSD/UPnP/NAT-PMP
off), made before timing. Best and median of --rounds.

Output (one JSON line): {lines, ranges, malformed, best_s, median_s,
lines_per_s (from best), rss_kib}.
"""
import argparse
import ipaddress
import statistics
import time

import libtorrent as lt

from common import emit, log, make_session, rss_anon_kib


def load(path, ses):
    f = lt.ip_filter()
    lines = ranges = malformed = 0
    with open(path, "r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            lines += 1
            s = line.strip()
            if not s or s[0] == "#" or s.startswith("//"):
                continue
            try:
                c = s.rfind(":")
                tail = s[c + 1:] if c >= 0 else None
                if tail is not None and "-" in tail and "." in tail:
                    a, b = tail.split("-", 1)
                    a, b = a.strip(), b.strip()
                elif "/" in s:
                    n = ipaddress.ip_network(s, strict=False)
                    a, b = str(n.network_address), str(n.broadcast_address)
                elif "-" in s:
                    a, b = (x.strip() for x in s.split("-", 1))
                else:
                    a = b = s
                x, y = ipaddress.ip_address(a), ipaddress.ip_address(b)
                if x.version != y.version:
                    raise ValueError("mixed families")
                if x > y:
                    a, b = b, a
                f.add_rule(a, b, 1)
                ranges += 1
            except ValueError:
                malformed += 1
    ses.set_ip_filter(f)
    return lines, ranges, malformed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--file", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    o = ap.parse_args()
    ses = make_session()
    times = []
    res = None
    for r in range(o.rounds):
        t0 = time.perf_counter()
        res = load(o.file, ses)
        times.append(time.perf_counter() - t0)
        log("python round %d: %.3f s" % (r + 1, times[-1]))
    lines, ranges, malformed = res
    best = min(times)
    emit({
        "lines": lines,
        "ranges": ranges,
        "malformed": malformed,
        "best_s": best,
        "median_s": statistics.median(times),
        "lines_per_s": lines / best,
        "rss_kib": rss_anon_kib(),
    })


if __name__ == "__main__":
    main()
