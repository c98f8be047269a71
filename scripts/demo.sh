#!/usr/bin/env bash
# The main job: set up, then seed sample data from one session and download
# it by magnet with another over loopback, with a progress bar; verifies bytes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec node_modules/.bin/deno run -A --config deno.json examples/local_swarm.ts "$@"
