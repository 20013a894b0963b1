#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine, starting Debian's dockerd if none does.
#
#   scripts/dockerd-start.sh
#
# - If `docker info` already answers, nothing is started: the script says which engine it is
#   and whether this project started it.
# - Otherwise it installs Debian's docker.io (and iptables) with apt-get when missing, starts
#   `dockerd` in the background with its log in $CACHE/dockerd.log, records that this project
#   started it ($CACHE/dockerd.pid, read by scripts/dockerd-stop.sh) and waits up to
#   DOCKERD_START_TIMEOUT seconds (default 60) for `docker info`.
#   CACHE is ${XDG_CACHE_HOME:-$HOME/.cache}/consul-swarm.
# - Safe to run twice, also concurrently (a lock in $CACHE serialises runs).
#
# Client/daemon versions: the machine's client may be newer than the daemon (measured: client
# 28.2.2 in /usr/local/bin against Debian's 20.10.24 daemon). The client negotiates the API
# version down by itself ("API version: 1.41 (downgraded from 1.50)"), so DOCKER_API_VERSION is
# not needed; the script checks that the negotiated client works and says so if it does not.
set -euo pipefail

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/consul-swarm"
LOG="$CACHE/dockerd.log"
PIDFILE="$CACHE/dockerd.pid"
LOCK="$CACHE/dockerd.lock"
TIMEOUT="${DOCKERD_START_TIMEOUT:-60}"

say() { printf 'dockerd-start: %s\n' "$*"; }
die() { printf 'dockerd-start: error: %s\n' "$*" >&2; exit 1; }

# `docker info` with a bound, so a wedged daemon cannot hang the caller.
engine_answers() { timeout 15 docker info >/dev/null 2>&1; }

# "pid starttime" of a live dockerd we started, or nothing. The start time (field 22 of
# /proc/PID/stat) guards against a recycled pid.
our_dockerd() {
  [[ -s "$PIDFILE" ]] || return 1
  local pid start
  read -r pid start <"$PIDFILE" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dockerd ]] || return 1
  [[ -z "$start" || "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" == "$start" ]] || return 1
  echo "$pid"
}

describe_engine() {
  local server api pid
  server="$(timeout 15 docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"
  api="$(timeout 15 docker version --format '{{.Client.APIVersion}}' 2>/dev/null || echo '?')"
  if pid="$(our_dockerd)"; then
    say "engine ready: dockerd $server (API $api) at ${DOCKER_HOST:-unix:///var/run/docker.sock}, started by this project (pid $pid, log $LOG)"
  else
    say "engine ready: dockerd $server (API $api) at ${DOCKER_HOST:-unix:///var/run/docker.sock}, not started by this project (left alone by dockerd-stop.sh)"
  fi
}

mkdir -p "$CACHE"
exec 9>"$LOCK"
flock -w 120 9 || die "another dockerd-start.sh holds $LOCK for over 120 s"

if engine_answers; then
  describe_engine
  exit 0
fi

# The client may still be missing (docker.io ships /usr/bin/docker); only the daemon is
# checked for the "already running" case above.
if [[ -n "${DOCKER_HOST:-}" && "$DOCKER_HOST" != unix:///var/run/docker.sock ]]; then
  die "DOCKER_HOST=$DOCKER_HOST does not answer, and starting a local dockerd would not help: unset it or start that engine"
fi

[[ "$(id -u)" == 0 ]] || die "no Docker engine answers and starting dockerd needs root (run as root, or start an engine yourself)"

# ---- install Debian's engine when missing -------------------------------------------------
need=()
for pkg in docker.io iptables; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    need+=("$pkg")
  fi
done
if ((${#need[@]})); then
  say "installing ${need[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  # Only refresh the package lists when apt does not know the packages yet.
  if ! apt-get install -y --no-install-recommends "${need[@]}" >"$CACHE/apt.log" 2>&1; then
    say "apt-get install failed, running apt-get update and retrying"
    apt-get update >>"$CACHE/apt.log" 2>&1 || { tail -n 20 "$CACHE/apt.log" >&2; die "apt-get update failed (log: $CACHE/apt.log)"; }
    apt-get install -y --no-install-recommends "${need[@]}" >>"$CACHE/apt.log" 2>&1 \
      || { tail -n 20 "$CACHE/apt.log" >&2; die "apt-get install ${need[*]} failed (log: $CACHE/apt.log)"; }
  fi
  # On a machine without policy-rc.d the package's init script may have started an engine:
  # that one is not ours, use it as it is.
  if engine_answers; then
    describe_engine
    exit 0
  fi
fi
command -v dockerd >/dev/null || die "dockerd is not on PATH even though docker.io is installed"
command -v docker >/dev/null || die "no docker client on PATH (docker.io ships /usr/bin/docker)"

# ---- start it -----------------------------------------------------------------------------
if pid="$(our_dockerd)"; then
  # Started by an earlier run but not answering yet (or wedged): wait for it below.
  say "dockerd started earlier by this project (pid $pid) is not answering yet; waiting"
else
  say "starting dockerd (log: $LOG)"
  printf '\n===== %s dockerd-start.sh =====\n' "$(date -u +%FT%TZ)" >>"$LOG"
  first_line=$(($(wc -l <"$LOG") + 1)) # errors quote this run's lines only
  # setsid: own session, so the engine outlives this shell and its process group.
  # 9>&-, 8>&-: the engine must not inherit (and so hold forever) this script's lock, or the e2e
  # run's (scripts/test-e2e.sh) when a step of that run starts an engine another run stopped.
  setsid dockerd </dev/null >>"$LOG" 2>&1 9>&- 8>&- &
  pid=$!
  # setsid execs dockerd in place (a background job is not a group leader), so $! is dockerd.
  sleep 0.2
  printf '%s %s\n' "$pid" "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" >"$PIDFILE"
fi

log_tail() {
  printf -- '--- last lines of %s ---\n' "$LOG" >&2
  tail -n "+${first_line:-1}" "$LOG" | tail -n 25 >&2
}
t0=$SECONDS
until engine_answers; do
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$PIDFILE"
    log_tail
    die "dockerd (pid $pid) exited before answering; see $LOG"
  fi
  if ((SECONDS - t0 >= TIMEOUT)); then
    log_tail
    die "dockerd (pid $pid) did not answer \`docker info\` within ${TIMEOUT}s; it is still running (stop it with scripts/dockerd-stop.sh); see $LOG"
  fi
  sleep 0.5
done

# Check the client really works against this daemon (API negotiation, see the header).
if ! err="$(timeout 15 docker version 2>&1 >/dev/null)"; then
  printf '%s\n' "$err" >&2
  die "the docker client ($(command -v docker)) cannot talk to dockerd; try DOCKER_API_VERSION=1.41"
fi
say "dockerd answered after $((SECONDS - t0)) s"
describe_engine
