#!/usr/bin/env bash
# Sets up, then runs every test: the C++ tests (ctest), and the TypeScript
# suite under Deno and under Bun. Ends with one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh || exit 1

passed=0 failed=0 status=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

run() { # name, command...
  local name=$1; shift
  printf '\n\033[1m== %s\033[0m\n' "$name"
  "$@" 2>&1 | tee "$log/$name.txt"
  local rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || status=1
  return 0
}

run ctest bash -c 'cd native/build && ctest --output-on-failure'
if m=$(grep -Eo '([0-9]+) tests failed out of ([0-9]+)' "$log/ctest.txt"); then
  f=$(echo "$m" | awk '{print $1}'); t=$(echo "$m" | awk '{print $6}')
  passed=$((passed + t - f)); failed=$((failed + f))
fi
[ -f "$log/ctest.txt" ] && grep -q 'tests failed out of' "$log/ctest.txt" || { failed=$((failed + 1)); status=1; }

run deno env NO_COLOR=1 node_modules/.bin/deno test -A --config deno.json --junit-path="$log/deno.xml" tests/
# Deno counts a describe block as one test with steps: count the leaves.
if [ -s "$log/deno.xml" ] && read -r p f < <(node scripts/_junit_leaves.mjs "$log/deno.xml"); then
  passed=$((passed + p)); failed=$((failed + f))
  [ "$f" = 0 ] || status=1
else
  failed=$((failed + 1)); status=1
fi

run bun env NO_COLOR=1 node_modules/.bin/bun test tests/
p=$(grep -Eo '^ *[0-9]+ pass$' "$log/bun.txt" | grep -Eo '[0-9]+' | tail -1)
f=$(grep -Eo '^ *[0-9]+ fail$' "$log/bun.txt" | grep -Eo '[0-9]+' | tail -1)
if [ -n "$p" ]; then
  passed=$((passed + p)); failed=$((failed + ${f:-0}))
else
  failed=$((failed + 1)); status=1
fi

echo
echo "tests: $passed passed, $failed failed"
exit $status
