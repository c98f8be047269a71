#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with ASan + UBSan) and runs
# each for a while. Every target runs in a network namespace of its own
# with only the loopback interface, so no fuzzed setting can reach the
# network. Prints the executions per target and fails on any finding.
#
#   scripts/fuzz.sh [--seconds N] [--target NAME]    (default 20 s each; CI)
#   scripts/fuzz.sh --seconds 3600 --target torrent  (a long run: docs/fuzzing.md)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=20 only=""
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --target) only=$2; shift 2 ;;
    *) echo "usage: scripts/fuzz.sh [--seconds N] [--target NAME]" >&2; exit 2 ;;
  esac
done
if ! command -v clang++ >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null; }
  fi
  command -v clang++ >/dev/null || { echo "fuzz: clang++ is required (apt-get install clang)" >&2; exit 1; }
fi
CC=clang CXX=clang++ cmake -S fuzz -B fuzz/build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 1
cmake --build fuzz/build -j"$(nproc)" >/dev/null || { cmake --build fuzz/build; exit 1; }
node_modules/.bin/deno run -A fuzz/make_corpus.ts >/dev/null || exit 1

# Run in an empty network namespace (loopback only) when we may.
netns() { "$@"; }
if unshare -n true 2>/dev/null; then
  netns() { unshare -n sh -c 'ip link set lo up 2>/dev/null || true; exec "$@"' sh "$@"; }
else
  echo "fuzz: cannot create a network namespace; the settings target is skipped" >&2
fi

status=0 total=0
printf '\n%-22s %10s %8s  %s\n' target executions exec/s result
for t in torrent magnet resume add_params settings trackers_dht_state; do
  [ -n "$only" ] && [ "$only" != "$t" ] && continue
  if [ "$t" = settings ] && ! unshare -n true 2>/dev/null; then continue; fi
  work=fuzz/build/corpus/$t
  mkdir -p "$work" fuzz/build/findings/$t
  log=fuzz/build/$t.log
  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    netns fuzz/build/fuzz_$t "$work" "fuzz/corpus/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix=fuzz/build/findings/$t/ >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  total=$((total + ${execs:-0}))
  if [ $rc = 0 ]; then res=ok; else res="FINDING (rc $rc, see $log and fuzz/build/findings/$t/)"; status=1; fi
  printf '%-22s %10s %8s  %s\n' "$t" "${execs:-0}" "${rate:-0}" "$res"
  [ $rc = 0 ] || tail -30 "$log" >&2
done
echo "fuzz: $total executions in total, ${seconds}s per target"
exit $status
