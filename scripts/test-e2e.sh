#!/usr/bin/env bash
# End-to-end tests: the project's own Pulumi CLI (Automation API) on lab hosts on this machine.
# Builds or reuses the toolchain and the lab image, starts a Docker engine if none answers, runs
# test/e2e/*.test.ts one file at a time, and removes every lab container, network and volume the
# tests made, even when a test fails.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$CONSUL_SWARM_REPO"
consul_swarm_env
bash scripts/dockerd-start.sh
# One e2e run at a time on a machine: runs share the lab's container names, and each one's cleanup
# removes every consul-swarm-e2e* container, a concurrent run's included. (Taken after the engine
# starts: a daemon started while the lock is open would inherit it and hold it for good.)
exec 8>/tmp/consul-swarm-e2e.lock
if ! flock -n 8; then
  echo "test-e2e: another e2e run on this machine holds the lab; waiting for it" >&2
  flock 8
fi
bash lab/kernel-limits.sh
bash lab/image/build.sh >/dev/null
# The e2e stacks have their own backend, passphrase and lab subnet, apart from the dev stack.
export PULUMI_BACKEND_URL="file://$CONSUL_SWARM_STATE/e2e-backend"
export PULUMI_CONFIG_PASSPHRASE="consul-swarm-e2e"

cleanup() {
  # Whatever a failed test left behind: lab containers, their volumes and networks are all named
  # consul-swarm-e2e*.
  consul_swarm_remove_lab consul-swarm-e2e
  rm -f Pulumi.e2e*.yaml examples/consumer/Pulumi.e2e*.yaml test/e2e/fixtures/*/Pulumi.e2e*.yaml
}
trap cleanup EXIT
# Start from nothing: no lab host or state left by an interrupted earlier run.
cleanup
rm -rf "$CONSUL_SWARM_STATE/e2e-backend"
mkdir -p "$CONSUL_SWARM_STATE/e2e-backend"
# Arguments: test files (all of test/e2e by default) and node --test options, e.g.
# `--test-name-pattern='servers scale'` (a file's before and after hooks still run).
files=()
options=()
for arg in "$@"; do
  case "$arg" in
    --*) options+=("$arg") ;;
    *) files+=("$arg") ;;
  esac
done
# Longest first (docs/test-timings.md): a file starts when one ends, so the long ones start at once
# and the short ones fill the lanes' ends; a file not listed here goes last.
longest=(lab machines interrupted tutorial-mode swarm-ha own-hosts policy federation toolchain)
longest=("${longest[@]/#/test/e2e/}")
longest=("${longest[@]/%/.test.ts}")
if [ ${#files[@]} -eq 0 ]; then
  for f in "${longest[@]}"; do
    [ ! -e "$f" ] || files+=("$f")
  done
  for f in test/e2e/*.test.ts; do
    case " ${longest[*]} " in *" $f "*) ;; *) files+=("$f") ;; esac
  done
fi
# Files at a time (E2E_CONCURRENCY, default 3): each file has its own lab subnet, container names
# and stacks, and waits far more than it computes (agents electing, autopilot's ticks, restarts).
concurrency="${E2E_CONCURRENCY:-3}"
# Two reporters: spec as the tests run, then the timing table (test/timing-reporter.mjs; also as
# JSON where E2E_TIMINGS_JSON names a file).
node --import tsx --test --test-concurrency="$concurrency" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=./test/timing-reporter.mjs --test-reporter-destination=stdout \
  ${options[@]+"${options[@]}"} "${files[@]}"
