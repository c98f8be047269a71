"""Shared helpers for the python-libtorrent anchor benchmarks.

Run every script with /usr/bin/python3 (Debian python3-libtorrent 2.0.8);
the pyenv python3 earlier on PATH does not have the module.

Network isolation: every session built here listens on 127.0.0.1 only and
has DHT, LSD, UPnP and NAT-PMP disabled and no DHT bootstrap nodes. Nothing
is contacted except peers explicitly given on the command line.
"""
import json
import os
import resource
import sys
import time

import libtorrent as lt


def isolated_settings(port=0, extra=None):
    """Default libtorrent settings plus the isolation profile."""
    s = {
        "listen_interfaces": "127.0.0.1:%d" % port,
        "outgoing_interfaces": "",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "dht_bootstrap_nodes": "",
    }
    if extra:
        s.update(extra)
    return s


def make_session(port=0, extra=None):
    # Passing the settings to the constructor means DHT/LSD/UPnP/NAT-PMP
    # never start, not even for an instant.
    return lt.session(isolated_settings(port, extra))


def rss_anon_kib():
    """RssAnon of this process in KiB, from /proc/self/status."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return None


def cpu_seconds():
    """user + sys CPU seconds of this process (all threads) so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def emit(obj):
    """Print the single JSON result line on stdout."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def random_info_hash():
    return lt.sha1_hash(os.urandom(20))


def magnet_params(save_path, paused=True, info_hash=None):
    """Magnet-style add_torrent_params: info-hash only, no trackers."""
    p = lt.add_torrent_params()
    p.info_hashes = lt.info_hash_t(info_hash or random_info_hash())
    p.save_path = save_path
    if paused:
        p.flags = (p.flags | lt.torrent_flags.paused) & ~lt.torrent_flags.auto_managed
    else:
        p.flags = p.flags & ~lt.torrent_flags.auto_managed
    return p


def wait_for(ses, pred, timeout, on_alert=None):
    """Pump alerts (wait_for_alert + pop_alerts) until pred(alert) is true.

    Returns the matching alert, or None on timeout. Every popped alert is
    also passed to on_alert if given.
    """
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ses.wait_for_alert(max(1, int(min(left, 1.0) * 1000)))
        found = None
        for a in ses.pop_alerts():
            if on_alert:
                on_alert(a)
            if found is None and pred(a):
                found = a
        if found is not None:
            return found
