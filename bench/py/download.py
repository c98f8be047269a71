#!/usr/bin/python3
"""Download one torrent from one local peer with python-libtorrent; time it.

Usage: /usr/bin/python3 bench/py/download.py --torrent FILE --save DIR
           --peer 127.0.0.1:PORT [--utp | --transport tcp|utp|auto]
           [--timeout S]

  --torrent FILE   .torrent file to download (trackers/web seeds stripped)
  --save DIR       save_path (should be empty / not contain the data)
  --peer H:P       the seeder; connected with handle.connect_peer()
  --utp            force uTP: enable_outgoing_tcp = enable_incoming_tcp =
                   False (uTP stays enabled, as by default).
                   Same as --transport utp.
  --transport T    tcp (default): force TCP by setting enable_outgoing_utp =
                   enable_incoming_utp = False.  NOTE: with stock settings
                   libtorrent 2.0 connects to a connect_peer() address over
                   uTP first (torrent_peer.supports_utp starts true), so
                   "not --utp" must disable uTP to really measure TCP.
                   auto: leave both enabled (stock behaviour => uTP).
  --timeout S      give up after S seconds (default 600); exit code 1

Isolated profile: listen_interfaces=127.0.0.1:0, DHT/LSD/UPnP/NAT-PMP off,
dht_bootstrap_nodes=''.  All other settings are libtorrent defaults,
except the transport switches above and alert_mask = error|status|connect
(needed for torrent_checked_alert, torrent_finished_alert and
peer_connect_alert; it affects only which alerts are posted).
Alerts are consumed with ses.wait_for_alert() + ses.pop_alerts(); there are
no fixed sleeps.

Sequence and timing:
  1. t_run0 = process start (cpu_seconds covers the whole process).
  2. add the torrent (sync ses.add_torrent, not auto-managed, not paused),
     wait for torrent_checked_alert (the save dir is empty so this is quick;
     it is NOT part of "seconds").
  3. tc = time.perf_counter() immediately before handle.connect_peer(peer).
  4. t0 = time.perf_counter() when the peer_connect_alert is popped: the
     moment libtorrent actually starts the outgoing connection.  (connect_peer
     only adds the address to the peer list; the attempt is made on the
     session's next tick, tick_interval = 500 ms, which measured here as a
     constant ~0.50 s of pure waiting before any network activity.)
  5. t1 = time.perf_counter() when torrent_finished_alert is popped
     (all pieces downloaded and hash-checked; data is in the page cache,
     not necessarily fsync'ed).
  seconds = t1 - t0, i.e. "from peer_connect_alert (outgoing connection
  attempt starts) to torrent_finished_alert": includes TCP/uTP connect,
  BitTorrent handshake, interested/unchoke and the whole transfer, but not
  the tick wait.  seconds_from_connect_peer = t1 - tc includes it.
  Both alerts are consumed with wait_for_alert(), so pop latency is small.
  6. RssAnon read at t1; torrent removed (wait for torrent_removed_alert),
     session destroyed; then cpu_seconds read and the JSON printed.
This script does not verify the data; the harness compares the bytes.

stdout, one JSON line:
  {"bytes": total_wanted (payload bytes of the torrent),
   "seconds": t1 - t0 (peer_connect_alert -> torrent_finished_alert),
   "seconds_from_connect_peer": t1 - tc (connect_peer() call -> finished),
   "mbps": bytes / 1e6 / seconds   (MB/s, MB = 1e6 bytes, not Mbit),
   "cpu_seconds": user+sys of this whole process (getrusage RUSAGE_SELF,
                  all threads, from interpreter start to after session
                  teardown),
   "cpu_seconds_transfer": user+sys consumed between tc and t1,
   "rss_anon_kib": RssAnon from /proc/self/status at t1,
   "transport": requested mode "tcp" | "utp" | "auto",
   "socket": transport actually used, from peer_connect_alert: "TCP"|"uTP",
   "connect_wait_seconds": t0 - tc (the tick wait described above),
   "payload_downloaded": status.total_payload_download at t1,
   "timing": "peer_connect_alert_to_torrent_finished_alert"}
On timeout/error: {"error": "...", ...} and exit code 1.
"""
import argparse
import sys
import time

import libtorrent as lt

from common import cpu_seconds, emit, log, make_session, rss_anon_kib, wait_for

ALERT_MASK = int(lt.alert_category.error | lt.alert_category.status
                 | lt.alert_category.connect)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--torrent", required=True)
    ap.add_argument("--save", required=True)
    ap.add_argument("--peer", required=True, help="127.0.0.1:PORT")
    ap.add_argument("--utp", action="store_true", help="= --transport utp")
    ap.add_argument("--transport", choices=["tcp", "utp", "auto"], default="tcp")
    ap.add_argument("--timeout", type=float, default=600.0)
    args = ap.parse_args()

    host, _, port = args.peer.rpartition(":")
    host = host.strip("[]")
    port = int(port)

    transport = "utp" if args.utp else args.transport
    extra = {"alert_mask": ALERT_MASK}
    if transport == "utp":
        extra["enable_outgoing_tcp"] = False
        extra["enable_incoming_tcp"] = False
    elif transport == "tcp":
        extra["enable_outgoing_utp"] = False
        extra["enable_incoming_utp"] = False
    ses = make_session(extra=extra)
    t_deadline = time.monotonic() + args.timeout

    def fail(msg):
        log("download: " + msg)
        emit({"error": msg, "transport": transport})
        sys.exit(1)

    conn = {}

    def on_alert(a):
        if isinstance(a, lt.peer_connect_alert) and "socket" not in conn:
            m = a.message()
            conn["socket"] = "uTP" if "uTP" in m else ("TCP" if "TCP" in m else m)
            conn["t"] = time.perf_counter()
        elif a.category() & lt.alert_category.error:
            log("download: %s: %s" % (a.what(), a.message()))

    ti = lt.torrent_info(args.torrent)
    p = lt.add_torrent_params()
    p.ti = ti
    p.save_path = args.save
    p.trackers = []
    p.url_seeds = []
    p.flags = ((p.flags | lt.torrent_flags.override_trackers
                | lt.torrent_flags.override_web_seeds)
               & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused)
    h = ses.add_torrent(p)

    def left():
        return max(0.001, t_deadline - time.monotonic())

    a = wait_for(ses, lambda a: isinstance(a, (lt.torrent_checked_alert,
                                               lt.torrent_error_alert)),
                 left(), on_alert)
    if a is None:
        fail("timeout waiting for torrent_checked_alert")
    if isinstance(a, lt.torrent_error_alert):
        fail("torrent error: " + a.message())

    cpu0 = cpu_seconds()
    tc = time.perf_counter()
    h.connect_peer((host, port))
    a = wait_for(ses, lambda a: isinstance(a, (lt.torrent_finished_alert,
                                               lt.torrent_error_alert)),
                 left(), on_alert)
    t1 = time.perf_counter()
    cpu1 = cpu_seconds()
    rss = rss_anon_kib()
    if a is None:
        st = h.status()
        fail("timeout after %.1fs: %d/%d bytes, state %s"
             % (t1 - tc, st.total_wanted_done, st.total_wanted, st.state))
    if isinstance(a, lt.torrent_error_alert):
        fail("torrent error: " + a.message())
    if "t" not in conn:
        fail("no peer_connect_alert seen")
    t0 = conn["t"]

    st = h.status()
    nbytes = st.total_wanted
    payload = st.total_payload_download

    ses.remove_torrent(h)
    if wait_for(ses, lambda a: isinstance(a, lt.torrent_removed_alert), 30) is None:
        log("download: warning: no torrent_removed_alert")
    ses.pause()
    del ses

    seconds = t1 - t0
    emit({
        "bytes": nbytes,
        "seconds": round(seconds, 6),
        "seconds_from_connect_peer": round(t1 - tc, 6),
        "mbps": round(nbytes / 1e6 / seconds, 3),
        "cpu_seconds": round(cpu_seconds(), 3),
        "cpu_seconds_transfer": round(cpu1 - cpu0, 3),
        "rss_anon_kib": rss,
        "transport": transport,
        "socket": conn.get("socket"),
        "connect_wait_seconds": round(t0 - tc, 6),
        "payload_downloaded": payload,
        "timing": "peer_connect_alert_to_torrent_finished_alert",
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
