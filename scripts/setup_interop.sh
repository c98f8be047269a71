#!/usr/bin/env bash
# Installs the independent peers of tests/interop/ (idempotent):
#  - Transmission (transmission-daemon, transmission-create) and aria2 from
#    Debian, with apt-get, when run as root; otherwise says what to install;
#  - WebTorrent 3.0.21, utp-native (its uTP) and bittorrent-tracker from npm
#    into tests/interop/node/node_modules, without WebRTC: webrtc-polyfill is
#    replaced by tests/interop/node/webrtc-stub/ (its native module downloads
#    a prebuilt binary at install time, from outside npm; TCP/uTP peers do
#    not need WebRTC), optional dependencies are left out and install scripts
#    are not run (utp-native ships N-API prebuilds, loaded as they are).
# The distribution's transmission-daemon service is not left running: it
# would listen on every interface with DHT on (the tests start their own,
# loopback-only daemon). Called by scripts/setup.sh; safe to run on its own.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\033[1msetup_interop:\033[0m %s\n' "$*" >&2; }

# 1. Debian peers.
need=()
command -v transmission-daemon >/dev/null || need+=(transmission-daemon)
command -v transmission-create >/dev/null || need+=(transmission-cli)
command -v aria2c >/dev/null || need+=(aria2)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ${need[*]} (apt)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    fi
    # The package's own daemon (system service) is not ours: stop it and keep it off.
    if command -v systemctl >/dev/null && systemctl is-active --quiet transmission-daemon 2>/dev/null; then
      systemctl disable --now transmission-daemon >/dev/null 2>&1 || true
    elif [ -x /etc/init.d/transmission-daemon ]; then
      /etc/init.d/transmission-daemon stop >/dev/null 2>&1 || true
    fi
  else
    say "missing ${need[*]}: the interop tests will fail. Install them with:"
    say "  sudo apt-get install -y transmission-daemon transmission-cli aria2"
  fi
fi

# 2. Node peers (WebTorrent, bittorrent-tracker).
command -v node >/dev/null && command -v npm >/dev/null || { echo "setup_interop: node and npm are required" >&2; exit 1; }
cd tests/interop/node
if [ ! -d node_modules/webtorrent ] || [ ! -d node_modules/bittorrent-tracker ] || [ ! -d node_modules/utp-native ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  say "installing webtorrent, utp-native and bittorrent-tracker from npm (no WebRTC, no optional modules, no scripts)"
  npm install --no-audit --no-fund --omit=optional --ignore-scripts --loglevel=error >&2
fi
node --input-type=module -e '
  const wt = await import("webtorrent");
  const { Server } = await import("bittorrent-tracker");
  const { createRequire } = await import("node:module");
  const utp = createRequire(process.cwd() + "/")("utp-native");
  if (typeof wt.default !== "function" || typeof Server !== "function" || typeof utp.createServer !== "function") process.exit(1);
' 2>/dev/null || { echo "setup_interop: webtorrent, bittorrent-tracker or utp-native did not install" >&2; exit 1; }
say "peers ready: $(transmission-daemon --version 2>&1 | head -1 || true); $(aria2c --version 2>/dev/null | head -1 || true); webtorrent $(node -p 'require("./node_modules/webtorrent/package.json").version')"
