# Runs a command once a second until it succeeds, at most SECONDS times; returns non-zero when it
# never does, so the caller says what failed and why.
retry_for() {
  retry_left=$1
  shift
  until "$@"; do
    retry_left=$((retry_left - 1))
    [ "$retry_left" -gt 0 ] || return 1
    sleep 1
  done
}

# One run at a time of a step on a host: a run whose CLI was killed may go on on the host for a
# while (no terminal, no hangup), and the next run waits for it instead of racing it.
step_lock() {
  mkdir -p /run/lock
  exec 9>"/run/lock/consul-swarm-$1.lock"
  flock 9
}
