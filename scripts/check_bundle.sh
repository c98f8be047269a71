#!/usr/bin/env bash
# Checks a native bundle (default dist/native/linux-x64, made by
# scripts/bundle.sh) the way a machine without libtorrent would see it:
#
#  1. every shared library in it has RUNPATH $ORIGIN;
#  2. in a private mount namespace where the system's copies of the bundled
#     libraries (libtorrent-rasterbar.so.2.0, and libssl/libcrypto when
#     bundled) are hidden under /dev/null, `ldd libtorrentxt.so` resolves
#     each of them from the bundle directory, with nothing "not found";
#  3. in that namespace a small C program dlopen()s the bundled
#     libtorrentxt.so, checks btx_abi_version() against native/include/btx.h,
#     reads btx_version(), checks from /proc/self/maps that libtorrent was
#     mapped from the bundle, and opens and closes a loopback-only session
#     (no DHT, LSD, UPnP or NAT-PMP; listens on 127.0.0.1 only).
#
# Hiding needs `unshare -m` (root) or `unshare -r -m` (user namespaces);
# without either, the checks run unhidden, say so, and still require every
# bundled library to resolve from the bundle. Exits non-zero on failure.
#
#   scripts/check_bundle.sh [DIR]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

fail() { printf 'check_bundle: FAIL: %s\n' "$*" >&2; exit 1; }
say() { printf 'check_bundle: %s\n' "$*" >&2; }

dir=${1:-dist/native/linux-x64}
[ -d "$dir" ] || fail "no bundle at $dir (make one with scripts/bundle.sh)"
dir=$(cd "$dir" && pwd)
[ -f "$dir/libtorrentxt.so" ] || fail "$dir/libtorrentxt.so is missing"
[ -f "$dir/libtorrent-rasterbar.so.2.0" ] || fail "$dir/libtorrent-rasterbar.so.2.0 is missing"
command -v cc >/dev/null || fail "a C compiler (cc) is needed for the load test"

# 1. RUNPATH $ORIGIN everywhere.
bundled=()
for f in "$dir"/*.so*; do
  name=$(basename "$f")
  bundled+=("$name")
  readelf -h "$f" >/dev/null 2>&1 || fail "$name is not an ELF file"
  rp=$(readelf -d "$f" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
  [ "$rp" = '$ORIGIN' ] || fail "$name has RUNPATH '${rp}' instead of '\$ORIGIN'"
  readelf -d "$f" | grep -q '(RPATH)' && fail "$name has an old-style RPATH (it would override LD_LIBRARY_PATH)"
done
say "RUNPATH \$ORIGIN on: ${bundled[*]}"

# 2 + 3 run inside the namespace: write that part as its own script.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/probe.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "btx.h"

#define NEED(sym)                                                  \
  typeof(&sym) p_##sym = (typeof(&sym))dlsym(h, #sym);             \
  if (!p_##sym) { fprintf(stderr, "probe: no symbol %s\n", #sym); return 1; }

int main(int argc, char** argv) {
  char path[4096];
  snprintf(path, sizeof path, "%s/libtorrentxt.so", argv[1]);
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) { fprintf(stderr, "probe: dlopen failed: %s\n", dlerror()); return 1; }
  NEED(btx_abi_version) NEED(btx_version) NEED(btx_session_open) NEED(btx_session_close)
  NEED(btx_session_listen_port) NEED(btx_last_error)

  uint32_t abi = p_btx_abi_version();
  printf("probe: btx_abi_version() = %u (btx.h: %u)\n", abi, (unsigned)BTX_ABI_VERSION);
  if (abi != BTX_ABI_VERSION) return 1;

  char ver[256];
  uint32_t len = 0;
  if (p_btx_version((uint8_t*)ver, sizeof ver - 1, &len) != BTX_OK) return 1;
  ver[len] = 0;
  printf("probe: btx_version() = %s\n", ver);
  if (!strstr(ver, "libtorrent/2.0")) return 1;

  /* libtorrent must have been mapped from the bundle directory. */
  FILE* maps = fopen("/proc/self/maps", "r");
  char line[4096], where[4096] = "";
  while (maps && fgets(line, sizeof line, maps)) {
    char* p = strstr(line, "/libtorrent-rasterbar.so");
    if (!p) continue;
    while (p > line && p[-1] != ' ') --p;
    snprintf(where, sizeof where, "%s", p);
    where[strcspn(where, "\n")] = 0;
    break;
  }
  if (maps) fclose(maps);
  printf("probe: libtorrent mapped from %s\n", where[0] ? where : "(nowhere)");
  size_t n = strlen(argv[1]);
  if (strncmp(where, argv[1], n) != 0 || where[n] != '/') return 1;

  /* A loopback-only session: opens, listens on 127.0.0.1, closes. */
  static const char settings[] =
      "d13:enable_natpmpi0e10:enable_dhti0e10:enable_lsdi0e11:enable_upnpi0e"
      "17:listen_interfaces11:127.0.0.1:0e";
  btx_session s = 0;
  int32_t rc = p_btx_session_open((const uint8_t*)settings, sizeof settings - 1, 0, &s);
  if (rc != BTX_OK) {
    char err[512];
    uint32_t el = 0;
    p_btx_last_error(0, (uint8_t*)err, sizeof err - 1, &el);
    err[el < sizeof err - 1 ? el : sizeof err - 1] = 0;
    fprintf(stderr, "probe: btx_session_open = %d: %s\n", rc, err);
    return 1;
  }
  uint32_t port = 0;
  p_btx_session_listen_port(s, &port);
  printf("probe: session %u listening on 127.0.0.1:%u\n", s, port);
  if (p_btx_session_close(s) != BTX_OK || port == 0) return 1;
  puts("probe: ok");
  return 0;
}
EOF
cc -std=gnu11 -O1 -Wall -I "$root/native/include" -o "$work/probe" "$work/probe.c" -ldl ||
  fail "could not compile the load probe"

# The system copies to hide: every bundled library the system also has.
hide=()
for name in "${bundled[@]}"; do
  [ "$name" = libtorrentxt.so ] && continue
  for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib64 /lib64 /usr/lib /lib /usr/local/lib; do
    [ -e "$d/$name" ] && hide+=("$(readlink -f "$d/$name")")
  done
done
mapfile -t hide < <(printf '%s\n' "${hide[@]}" | sort -u | sed '/^$/d')

cat >"$work/inside.sh" <<'EOF'
#!/usr/bin/env bash
# Runs in the private mount namespace (or unhidden, when hidden=0).
set -euo pipefail
dir=$1 work=$2 hidden=$3; shift 3
fail() { printf 'check_bundle: FAIL: %s\n' "$*" >&2; exit 1; }
if [ "$hidden" = 1 ]; then
  for f in "$@"; do mount --bind /dev/null "$f" || fail "could not hide $f"; done
  for f in "$@"; do [ -s "$f" ] && fail "$f is still visible"; done
  printf 'check_bundle: hidden system copies: %s\n' "$*" >&2
fi
out=$(ldd "$dir/libtorrentxt.so" 2>&1) || { echo "$out" >&2; fail "ldd failed"; }
echo "$out" | sed 's/^/  ldd: /' >&2
echo "$out" | grep -q 'not found' && fail "a dependency is not found"
for f in "$dir"/*.so*; do
  name=$(basename "$f")
  [ "$name" = libtorrentxt.so ] && continue
  got=$(echo "$out" | awk -v n="$name" '$1 == n && $2 == "=>" {print $3}')
  [ "$got" = "$dir/$name" ] || fail "$name resolves to '${got}', not to the bundle ($dir/$name)"
done
"$work/probe" "$dir" >&2 || fail "the load probe failed"
EOF
chmod +x "$work/inside.sh"

if [ "${#hide[@]}" -gt 0 ] && unshare -m true 2>/dev/null; then
  unshare -m "$work/inside.sh" "$dir" "$work" 1 "${hide[@]}"
elif [ "${#hide[@]}" -gt 0 ] && unshare -r -m true 2>/dev/null; then
  # Not root: a user namespace (mapped to root) owns the mount namespace.
  unshare -r -m "$work/inside.sh" "$dir" "$work" 1 "${hide[@]}"
elif [ "${#hide[@]}" -eq 0 ]; then
  say "no system copy of a bundled library exists here: nothing to hide"
  "$work/inside.sh" "$dir" "$work" 0
else
  say "WARNING: cannot unshare a mount namespace (needs root or user namespaces):"
  say "         checking with the system copies visible"
  "$work/inside.sh" "$dir" "$work" 0
fi

# Informative: the newest glibc / libstdc++ symbol versions the bundle needs.
vers=$(for f in "$dir"/*.so*; do objdump -T "$f" 2>/dev/null; done |
  grep -Eo '(GLIBC|GLIBCXX|CXXABI)_[0-9.]+' | sort -u -t_ -k1,1 -k2,2V |
  awk -F_ '{last[$1]=$0} END {for (k in last) printf "%s ", last[k]}')
say "needs from the system at least: ${vers:-?}"
say "ok: $dir"
