#!/usr/bin/env bash
# Stop the dockerd that scripts/dockerd-start.sh started, and wait for it to exit.
# No-op when this project did not start the running engine (or none runs).
#
#   scripts/dockerd-stop.sh
#
# Waits up to DOCKERD_STOP_TIMEOUT seconds (default 60; dockerd itself gives containers 15 s
# to stop) and fails loudly, leaving the engine running, if it does not exit in time.
set -euo pipefail

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/consul-swarm"
LOG="$CACHE/dockerd.log"
PIDFILE="$CACHE/dockerd.pid"
LOCK="$CACHE/dockerd.lock"
TIMEOUT="${DOCKERD_STOP_TIMEOUT:-60}"

say() { printf 'dockerd-stop: %s\n' "$*"; }
die() { printf 'dockerd-stop: error: %s\n' "$*" >&2; exit 1; }

if [[ ! -s "$PIDFILE" ]]; then
  say "no dockerd started by this project (no $PIDFILE): nothing to stop"
  exit 0
fi

exec 9>"$LOCK"
flock -w 120 9 || die "another dockerd-start/stop holds $LOCK for over 120 s"

if [[ ! -s "$PIDFILE" ]]; then # a concurrent dockerd-stop.sh got there first
  say "no dockerd started by this project: nothing to stop"
  exit 0
fi
read -r pid start <"$PIDFILE" || true
if ! [[ "${pid:-}" =~ ^[0-9]+$ ]] \
  || [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" != dockerd ]] \
  || [[ -n "${start:-}" && "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" != "$start" ]]; then
  say "the dockerd this project started (pid ${pid:-?}) is no longer running: nothing to stop"
  rm -f "$PIDFILE"
  exit 0
fi

say "stopping dockerd (pid $pid)"
kill -TERM "$pid"
t0=$SECONDS
# Gone when /proc/PID is gone, is a zombie, or belongs to a newer process.
alive() {
  local stat
  stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }" # fields from 3 on: state ppid ...
  read -r -a f <<<"$stat"
  [[ "${f[0]}" != Z ]] || return 1
  [[ -z "${start:-}" || "${f[19]}" == "$start" ]]
}
while alive; do
  if ((SECONDS - t0 >= TIMEOUT)); then
    printf -- '--- last lines of %s ---\n' "$LOG" >&2
    tail -n 15 "$LOG" >&2
    die "dockerd (pid $pid) did not exit within ${TIMEOUT}s of SIGTERM; it is still running"
  fi
  sleep 0.5
done
rm -f "$PIDFILE"
say "dockerd stopped after $((SECONDS - t0)) s"
