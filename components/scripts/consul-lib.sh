# Bounded wait until this agent is alive in a cluster that has a leader.
consul_wait_rejoined() {
  deadline=$(( $(date +%s) + WAIT_SECONDS ))
  while :; do
    leader=$(curl -sf http://127.0.0.1:8500/v1/status/leader 2>/dev/null || true)
    if [ -n "$leader" ] && [ "$leader" != '""' ] &&
      consul members 2>/dev/null | awk -v n="$NODE" '$1 == n && $3 == "alive" { f = 1 } END { exit !f }'; then
      return 0
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "consul-swarm: $NODE is not back alive in a cluster with a leader after ${WAIT_SECONDS}s" >&2
      consul members >&2 || true
      exit 6
    fi
    sleep 1
  done
}
