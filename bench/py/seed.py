#!/usr/bin/python3
"""Long-running python-libtorrent seeder for the download benchmarks.

Usage: /usr/bin/python3 bench/py/seed.py --torrent FILE --data DIR
           [--port P] [--seed-mode] [--no-stdin] [--timeout S]

  --torrent FILE  the .torrent to seed
  --data DIR      save_path: the directory that contains the torrent's data
  --port P        listen on 127.0.0.1:P (default 0 = ephemeral; TCP and uTP
                  share the port)
  --seed-mode     add with torrent_flags.seed_mode (no up-front check;
                  libtorrent then hashes each piece lazily the first time it
                  is requested).  Default: the data is fully checked at add
                  time, so serving involves no hashing.
  --no-stdin      don't watch stdin; stop with SIGTERM/SIGINT only.  Needed
                  when stdin is /dev/null or a file, which read as EOF and
                  would stop the seeder at once.
  --timeout S     give up if not seeding after S seconds (default 300).

Isolated profile: listen_interfaces=127.0.0.1:P, DHT/LSD/UPnP/NAT-PMP off,
dht_bootstrap_nodes='', no trackers are ever contacted (the torrent's
trackers, if any, are stripped).  Other settings are libtorrent defaults
except alert_mask = error|status (alerts only).

stdout: exactly one JSON line once the torrent is in state seeding:
  {"port": N, "ready": true, "info_hash": "<v1 hex>", "bytes": total_size,
   "check_seconds": seconds from add to seeding}
then keeps serving (pumping alerts with wait_for_alert/pop_alerts) until
stdin reaches EOF or SIGTERM/SIGINT arrives.  On failure prints
{"ready": false, "error": "..."} and exits 1.
stderr: diagnostics, peer connects/disconnects, and on exit the total
payload uploaded.
"""
import argparse
import os
import select
import signal
import sys
import threading
import time

import libtorrent as lt

from common import emit, log, make_session

ALERT_MASK = int(lt.alert_category.error | lt.alert_category.status)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--torrent", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--seed-mode", action="store_true")
    ap.add_argument("--no-stdin", action="store_true")
    ap.add_argument("--timeout", type=float, default=300.0)
    args = ap.parse_args()

    stop = threading.Event()

    # SIGTERM/SIGINT are blocked in every thread (the mask is inherited by
    # libtorrent's threads, created later) and collected synchronously with
    # sigtimedwait() in the alert loop (<= 250 ms reaction time), so the
    # shutdown always runs in the main thread after a full alert batch.
    STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)

    # stdin is polled (select, non-blocking) in the alert loop: no reader
    # thread, so interpreter shutdown never races a blocked read.
    stdin_fd = None if args.no_stdin else sys.stdin.fileno()

    def stdin_closed():
        if stdin_fd is None:
            return False
        while select.select([stdin_fd], [], [], 0)[0]:
            try:
                if not os.read(stdin_fd, 65536):
                    return True
            except OSError:
                return True
        return False

    ses = make_session(port=args.port, extra={"alert_mask": ALERT_MASK})

    ti = lt.torrent_info(args.torrent)
    p = lt.add_torrent_params()
    p.ti = ti
    p.save_path = args.data
    p.trackers = []
    p.url_seeds = []
    # override_* + empty lists: drop any trackers/web seeds in the .torrent
    p.flags = ((p.flags | lt.torrent_flags.override_trackers
                | lt.torrent_flags.override_web_seeds)
               & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused)
    if args.seed_mode:
        p.flags |= lt.torrent_flags.seed_mode
    t_add = time.perf_counter()
    h = ses.add_torrent(p)

    port = None
    ready = False
    checked = False
    deadline = time.monotonic() + args.timeout
    n_peers_prev = 0
    while not stop.is_set():
        ses.wait_for_alert(250)
        if signal.sigtimedwait(STOP_SIGNALS, 0) is not None:
            log("seed: signal received")
            stop.set()
        elif stdin_closed():
            log("seed: stdin closed")
            stop.set()
        check = False
        for a in ses.pop_alerts():
            if isinstance(a, lt.listen_succeeded_alert):
                log("seed: listening", a.message())
            elif isinstance(a, lt.listen_failed_alert):
                log("seed: listen failed:", a.message())
                emit({"ready": False, "error": "listen failed: " + a.message()})
                return 1
            elif isinstance(a, lt.torrent_checked_alert):
                check = checked = True
            elif isinstance(a, (lt.state_changed_alert,
                                lt.torrent_finished_alert, lt.add_torrent_alert)):
                check = True
            elif isinstance(a, (lt.torrent_error_alert, lt.file_error_alert)):
                log("seed: error:", a.message())
                if not ready:
                    emit({"ready": False, "error": a.message()})
                    return 1
            elif a.category() & lt.alert_category.error:
                log("seed:", a.what(), a.message())
        if not ready:
            if check or time.monotonic() > deadline:
                st = h.status()
                if st.state == lt.torrent_status.seeding:
                    port = ses.listen_port()
                    ready = True
                    emit({"port": port, "ready": True,
                          "info_hash": str(ti.info_hashes().v1),
                          "bytes": ti.total_size(),
                          "check_seconds": round(time.perf_counter() - t_add, 3)})
                elif checked and st.state in (lt.torrent_status.downloading,
                                              lt.torrent_status.finished):
                    emit({"ready": False,
                          "error": "data incomplete after check (%d/%d bytes)"
                          % (st.total_wanted_done, st.total_wanted)})
                    return 1
                elif time.monotonic() > deadline:
                    emit({"ready": False, "error": "timeout in state %s" % st.state})
                    return 1
        else:
            # light-weight connection log on stderr
            st = h.status()
            if st.num_peers != n_peers_prev:
                log("seed: peers %d, uploaded payload %d bytes"
                    % (st.num_peers, st.total_payload_upload))
                n_peers_prev = st.num_peers

    if not ready:
        emit({"ready": False, "error": "stopped before the torrent was seeding"})
    st = h.status()
    log("seed: stopping; total payload uploaded %d bytes" % st.total_payload_upload)
    ses.remove_torrent(h)
    ses.pause()
    del ses
    return 0


if __name__ == "__main__":
    sys.exit(main())
