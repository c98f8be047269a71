#!/usr/bin/env bash
# Builds libtorrentxt (native/) and prints the path of libtorrentxt.so.
#
#   scripts/build_native.sh           RelWithDebInfo build in native/build
#   scripts/build_native.sh --test    ... then runs its ctest suite
#   scripts/build_native.sh --asan    ASan+UBSan build in native/build-asan,
#                                     then runs its ctest suite
#
# Idempotent: configures a build directory only the first time; after that
# CMake rebuilds only what changed (and re-configures by itself when
# CMakeLists.txt changes). Build output goes to stderr; stdout is only the
# path of the library, so `lib=$(scripts/build_native.sh)` works.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { printf 'build_native: %s\n' "$*" >&2; exit 1; }

asan=0 test=0
for arg in "$@"; do
  case "$arg" in
    --asan) asan=1 test=1 ;;
    --test) test=1 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$arg' (try --help)" ;;
  esac
done

# libtorrent-rasterbar 2.0: headers and the CMake package config that
# native/CMakeLists.txt finds with find_package(LibtorrentRasterbar).
have_lt=0
if [ -f /usr/include/libtorrent/session.hpp ] &&
   compgen -G '/usr/lib/*/cmake/LibtorrentRasterbar/LibtorrentRasterbarConfig.cmake' >/dev/null; then
  have_lt=1
elif [ -n "${CMAKE_PREFIX_PATH:-}" ]; then
  have_lt=1 # a custom libtorrent install: let find_package decide
fi
if [ "$have_lt" = 0 ]; then
  cat >&2 <<'EOF'
build_native: libtorrent-rasterbar-dev (2.0) is not installed. Install it with:
  sudo apt-get update && sudo apt-get install -y libtorrent-rasterbar-dev
(or set CMAKE_PREFIX_PATH to a libtorrent 2.0 install)
EOF
  exit 1
fi
command -v cmake >/dev/null || die "cmake is required: sudo apt-get install -y cmake"
command -v c++ >/dev/null || command -v g++ >/dev/null || die "a C++17 compiler is required: sudo apt-get install -y g++"

if [ "$asan" = 1 ]; then
  dir=native/build-asan
  config=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DBTX_SANITIZE=ON -DBTX_TESTS=ON)
else
  dir=native/build
  config=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi

if [ ! -f "$dir/CMakeCache.txt" ]; then
  printf 'build_native: configuring %s\n' "$dir" >&2
  cmake -S native -B "$dir" "${config[@]}" >&2 || die "configuring $dir failed"
fi
cmake --build "$dir" -j"$(nproc 2>/dev/null || echo 2)" >&2 || die "building $dir failed"

lib="$(pwd)/$dir/libtorrentxt.so"
[ -f "$lib" ] || die "the build finished but $lib is missing"

if [ "$test" = 1 ]; then
  grep -q '^BTX_TESTS:BOOL=ON' "$dir/CMakeCache.txt" || die "$dir was configured with BTX_TESTS=OFF"
  (cd "$dir" && ctest --output-on-failure -j"$(nproc 2>/dev/null || echo 2)") >&2 || die "ctest failed in $dir"
fi

printf '%s\n' "$lib"
