#!/usr/bin/env bash
# Benchmark (not a test): a warm `npm run toolchain` against the recorded time of the last build
# that built every binary (scripts/toolchain.sh records it in cold-build-seconds).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CACHE="${CONSUL_SWARM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/consul-swarm}/toolchain"
bash scripts/toolchain.sh >/dev/null 2>&1   # make sure it is warm
cold=$(cat "$CACHE/cold-build-seconds" 2>/dev/null || echo "")
[ -n "$cold" ] || { echo "bench-toolchain: no cold build recorded yet ($CACHE/cold-build-seconds): build once from an empty cache" >&2; exit 1; }
start=$(date +%s%N)
bash scripts/toolchain.sh >/dev/null 2>&1
end=$(date +%s%N)
warm=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
printf 'toolchain cold build (recorded): %8.1f s\n' "$cold"
printf 'toolchain warm run (now):        %8.2f s\n' "$warm"
awk -v c="$cold" -v w="$warm" 'BEGIN { printf "ratio cold/warm:                 %8.0fx\n", c / w }'
if ! awk -v w="$warm" 'BEGIN { exit !(w < 5) }'; then
  echo "bench-toolchain: the warm run took ${warm}s, over the 5 s budget" >&2
  exit 1
fi
