# Runs a command until it succeeds, for at most SECONDS seconds; returns non-zero when it never
# does, so the caller says what failed and why. Polls every 0.2 s: most waits end within a second
# (an agent's API, a daemon's socket), and each step's wait is on the critical path of an up.
retry_for() {
  retry_deadline=$(( $(date +%s) + $1 ))
  shift
  until "$@"; do
    [ "$(date +%s)" -lt "$retry_deadline" ] || return 1
    sleep 0.2
  done
}

# One run at a time of a step on a host: a run whose CLI was killed may go on on the host for a
# while (no terminal, no hangup), and the next run waits for it instead of racing it; for at most
# STEP_LOCK_WAIT seconds (15 minutes), then it says what it waited for.
step_lock() {
  mkdir -p "${STEP_LOCK_DIR:-/run/lock}"
  exec 9>"${STEP_LOCK_DIR:-/run/lock}/consul-swarm-$1.lock"
  flock -w "${STEP_LOCK_WAIT:-900}" 9 || {
    echo "consul-swarm: $(hostname): another run of the $1 step held ${STEP_LOCK_DIR:-/run/lock}/consul-swarm-$1.lock for ${STEP_LOCK_WAIT:-900} s; gave up waiting for it (see which process holds it: fuser -v that file)" >&2
    exit 75
  }
}
