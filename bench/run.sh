#!/usr/bin/env bash
# Runs the benches: TorrentXT under Deno and Bun against python-libtorrent,
# in the same run. Network: 127.0.0.1 only (isolated sessions).
#
#   bash bench/run.sh                 # both benches, default sizes (~2 min)
#   bash bench/run.sh transfer [--size 1GiB --rounds 3 ...]
#   bash bench/run.sh events   [--n 2000 --count 1000000 ...]
#   bash bench/run.sh transfer-webtorrent [...]  # "throughput" tuning vs WebTorrent (and python)
#   bash bench/run.sh transfer-utp [...]         # uTP, "throughput" tuning vs python-libtorrent's default uTP
#   bash bench/run.sh blocklist [--lines 1000000 --rounds 3]  # blocklist parse + apply vs python-libtorrent
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DENO=node_modules/.bin/deno
for f in "$DENO" node_modules/.bin/bun /usr/bin/python3; do
  [ -x "$f" ] || { echo "bench: $f is missing (run scripts/setup.sh)" >&2; exit 1; }
done
if ! /usr/bin/python3 -c 'import libtorrent' 2>/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "bench: installing python3-libtorrent (apt), the anchor" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-libtorrent >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-libtorrent >/dev/null; } || true
fi
/usr/bin/python3 -c 'import libtorrent' 2>/dev/null ||
  { echo "bench: /usr/bin/python3 lacks the libtorrent module (apt-get install python3-libtorrent)" >&2; exit 1; }
[ -f native/build/libtorrentxt.so ] || [ -n "${TORRENTXT_LIB:-}" ] || [ -d dist/native ] ||
  { echo "bench: libtorrentxt is not built (run scripts/setup.sh)" >&2; exit 1; }

run() { # name, args...
  local name=$1; shift
  printf '\n\033[1m== bench/%s.ts\033[0m\n' "$name"
  "$DENO" run -A --config deno.json "bench/$name.ts" "$@"
}

case "${1:-all}" in
  transfer) shift
    case " $* " in *" --anchor webtorrent "*) bash bench/webtorrent/setup.sh ;; esac
    run transfer "$@" ;;
  transfer-webtorrent) shift; bash bench/webtorrent/setup.sh
    run transfer --anchor webtorrent --tuning throughput "$@" ;;
  transfer-utp) shift; run transfer --transport utp --tuning throughput --size 256MiB "$@" ;;
  events) shift; run events "$@" ;;
  blocklist) shift; run blocklist "$@" ;;
  all) run transfer && run events ;;
  *) echo "usage: bash bench/run.sh [all | transfer ARGS… | transfer-webtorrent ARGS… | transfer-utp ARGS… | events ARGS… | blocklist ARGS…]" >&2; exit 2 ;;
esac
