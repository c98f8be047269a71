#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: libtorrent (Debian package), Deno
# and Bun (npm, into ./node_modules), and the native build. Sourced by
# scripts/demo.sh and scripts/test.sh; safe to run on its own.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }

# 1. libtorrent-rasterbar 2.0 headers and CMake config (Debian package).
if [ ! -f /usr/include/libtorrent/session.hpp ] || ! ls /usr/lib/*/cmake/LibtorrentRasterbar >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing libtorrent-rasterbar-dev (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq libtorrent-rasterbar-dev >/dev/null
  else
    echo "setup: libtorrent-rasterbar-dev is missing. Install it with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y libtorrent-rasterbar-dev" >&2
    exit 1
  fi
fi
# Headless Chromium for the web client's end-to-end test (Debian package).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  say "installing chromium (apt) for the web client's browser test"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq chromium >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null ||
      say "chromium could not be installed: the browser test will be skipped"
  fi
fi
# zbar-tools: the channels app's browser test decodes the channel card's QR code with zbarimg.
if ! command -v zbarimg >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  say "installing zbar-tools (apt) for the channels app's QR check"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq zbar-tools >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq zbar-tools >/dev/null; } ||
    say "zbar-tools could not be installed: the QR check will be skipped"
fi
# patchelf: scripts/bundle.sh sets RUNPATH $ORIGIN in the native bundle (tests/distribution.test.ts builds one).
if ! command -v patchelf >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  say "installing patchelf (apt) for the native bundle"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq patchelf >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq patchelf >/dev/null; }
fi
for tool in cmake g++ npm; do
  command -v "$tool" >/dev/null || { echo "setup: '$tool' is required but not installed" >&2; exit 1; }
done

# 2. Deno, Bun, zod and type definitions from npm, into ./node_modules.
if [ ! -x node_modules/.bin/deno ] || [ ! -x node_modules/.bin/bun ] || [ ! -d node_modules/zod ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing deno, bun and zod from npm"
  # `npm install`, not `npm ci`: the lock file pins the versions, but npm ci
  # refuses a lock that lists only this platform's optional binaries.
  npm install --no-audit --no-fund --loglevel=error >&2
fi
node_modules/.bin/deno --version >/dev/null
node_modules/.bin/bun --version >/dev/null

# 4 (before the build). The independent peers of tests/interop/: Transmission and aria2 (apt, when root), WebTorrent
#    and bittorrent-tracker (npm, into tests/interop/node/node_modules, without WebRTC).
bash scripts/setup_interop.sh

# 3. The native library (CMake only rebuilds what changed).
if [ -x scripts/build_native.sh ]; then
  scripts/build_native.sh >&2
else
  cmake -S native -B native/build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build native/build -j"$(nproc)" >&2
fi
