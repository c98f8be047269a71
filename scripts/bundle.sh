#!/usr/bin/env bash
# Produces a self-contained native bundle, dist/native/linux-x64/ by default:
# libtorrentxt.so beside the libtorrent shared library it links and every
# other library it needs that a minimal Debian system does not have, each
# with RUNPATH $ORIGIN, so a user needs no system package and no
# LD_LIBRARY_PATH. Then runs scripts/check_bundle.sh on it.
#
#   scripts/bundle.sh [--out DIR] [--system-openssl] [--keep-debug] [--no-check]
#
#   --out DIR          write the bundle to DIR instead of dist/native/linux-x64
#   --system-openssl   do not bundle libssl.so.3 / libcrypto.so.3: use the
#                      system's (package libssl3), which gets security updates
#   --keep-debug       keep DWARF debug info (it is stripped by default)
#   --no-check         skip scripts/check_bundle.sh
#
# What is left out: glibc (libc, libm, libpthread, libdl, librt, the dynamic
# loader), libstdc++ and libgcc_s. Debian's minimal (Priority: required)
# system always has those (libc6, libstdc++6, libgcc-s1). Everything else is
# bundled: libtorrent-rasterbar.so.2.0 (package libtorrent-rasterbar2.0) and
# libssl.so.3 + libcrypto.so.3 (libssl3), which only the "important" set
# pulls in (through systemd, kmod, udev...): a full install has them, a
# minimal one or a debian:bookworm(-slim) container does not.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

die() { printf 'bundle: %s\n' "$*" >&2; exit 1; }
say() { printf 'bundle: %s\n' "$*" >&2; }

out="$root/dist/native/linux-x64" system_ssl=0 keep_debug=0 check=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift ;;
    --system-openssl) system_ssl=1 ;;
    --keep-debug) keep_debug=1 ;;
    --no-check) check=0 ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (try --help)" ;;
  esac
  shift
done

[ "$(uname -s)" = Linux ] || die "only Linux bundles are made by this script"
case "$(uname -m)" in x86_64) ;; *) say "warning: $(uname -m) host; the bundle is still named by --out (default linux-x64)" ;; esac
command -v patchelf >/dev/null || die "patchelf is required to set RUNPATH: sudo apt-get install -y patchelf"
command -v ldd >/dev/null || die "ldd is required (package libc-bin)"

# 1. A current build (CMake rebuilds only what changed).
lib=$(scripts/build_native.sh) || die "the native build failed"

# 2. Which libraries to ship: the full closure of what the dynamic loader
# resolves for libtorrentxt.so, minus the system set.
system_sonames=(linux-vdso.so.1 libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1
  ld-linux-x86-64.so.2 libstdc++.so.6 libgcc_s.so.1)
[ "$system_ssl" = 1 ] && system_sonames+=(libssl.so.3 libcrypto.so.3)
is_system() { local s; for s in "${system_sonames[@]}"; do [ "$1" = "$s" ] && return 0; done; return 1; }

declare -a ship_names=() ship_paths=()
while read -r name arrow path _; do
  [ "$arrow" = "=>" ] || continue # the vdso and the loader's own line
  is_system "$name" && continue
  [ "$path" = "not" ] && die "$name is not found on this machine (ldd $lib)"
  ship_names+=("$name")
  ship_paths+=("$(readlink -f "$path")")
done < <(ldd "$lib")
printf '%s\n' "${ship_names[@]}" | grep -qx 'libtorrent-rasterbar.so.2.0' ||
  die "libtorrentxt.so does not link libtorrent-rasterbar.so.2.0 (ldd: ${ship_names[*]:-nothing to ship})"

# 3. Write the bundle into a fresh directory, then swap it in.
tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp/licenses"
trap 'rm -rf "$tmp"' EXIT

cp "$lib" "$tmp/libtorrentxt.so"
for i in "${!ship_names[@]}"; do
  cp "${ship_paths[$i]}" "$tmp/${ship_names[$i]}" # named by SONAME: what NEEDED asks for
done

manifest="$tmp/BUNDLE.txt"
{
  echo "libtorrentxt native bundle for linux-x64"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- native 2>/dev/null || echo ' (native/ modified)')"
  echo "every library here has RUNPATH \$ORIGIN; the system must provide glibc, libstdc++ and libgcc_s"
  echo
  printf '%-32s %s\n' "file" "from (Debian package, version)"
  printf '%-32s %s\n' "libtorrentxt.so" "this repository (native/)"
} >"$manifest"

for f in "$tmp"/*.so*; do
  chmod 0644 "$f"
  [ "$keep_debug" = 1 ] || strip --strip-debug "$f"
  patchelf --set-rpath '$ORIGIN' "$f"
done
for i in "${!ship_names[@]}"; do
  name=${ship_names[$i]} pkg="" ver=""
  if command -v dpkg >/dev/null; then
    pkg=$(dpkg -S "${ship_paths[$i]}" 2>/dev/null | head -1 | cut -d: -f1 || true)
    [ -n "$pkg" ] || pkg=$(dpkg -S "$(basename "${ship_paths[$i]}")" 2>/dev/null | grep -v -- -dev | head -1 | cut -d: -f1 || true)
  fi
  if [ -n "$pkg" ]; then
    ver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)
    # Binary redistribution carries the upstream copyright and licence.
    [ -f "/usr/share/doc/$pkg/copyright" ] && cp "/usr/share/doc/$pkg/copyright" "$tmp/licenses/$pkg.copyright"
  fi
  printf '%-32s %s\n' "$name" "${pkg:-unknown} ${ver}" >>"$manifest"
done

rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$tmp" "$out"
trap - EXIT
say "wrote $out:"
(cd "$out" && ls -l *.so* | awk '{printf "  %-32s %9d bytes\n", $9, $5}') >&2

# 4. Prove it: with the system copies hidden, it still loads and works.
if [ "$check" = 1 ]; then
  scripts/check_bundle.sh "$out"
fi
printf '%s\n' "$out"
