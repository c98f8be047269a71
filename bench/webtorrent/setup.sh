#!/usr/bin/env bash
# Installs WebTorrent (the anchor of bench/transfer.ts --anchor webtorrent)
# from npm into bench/webtorrent/node_modules, without WebRTC: the
# webrtc-polyfill dependency is replaced by webrtc-stub/ (its native module
# downloads a prebuilt binary at install time, from outside npm), optional
# native modules (utp-native: uTP) are left out, and install scripts are not
# run. WebTorrent then talks TCP, which is all the bench needs. Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [ ! -d node_modules/webtorrent ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bench: installing webtorrent from npm (no WebRTC, no optional native modules)" >&2
  npm install --no-audit --no-fund --omit=optional --ignore-scripts --loglevel=error >&2
fi
node -e 'import("webtorrent").then((m) => { if (typeof m.default !== "function") process.exit(1); })' 2>/dev/null ||
  { echo "bench: webtorrent did not install" >&2; exit 1; }
