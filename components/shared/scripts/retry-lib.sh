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
# while (no terminal, no hangup), and the next run waits for it instead of racing it.
step_lock() {
  mkdir -p /run/lock
  exec 9>"/run/lock/consul-swarm-$1.lock"
  flock 9
}
