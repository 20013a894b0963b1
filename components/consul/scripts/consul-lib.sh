# Shared by the Consul scripts on a host.

# The unit touches this on every start of the agent.
CONSUL_STARTED=/run/consul/started

# The agent's files (config, TLS material, unit, binary) changed since it last started, one a line;
# the join list and bootstrap_expect are read at a first start only.
consul_files_newer_than_start() {
  find "$CONFIG_DIR" /etc/systemd/system/consul.service /usr/local/bin/consul -type f ! -name retry-join.json ! -name bootstrap-expect.json -newer "$CONSUL_STARTED" 2>/dev/null
}

# Is the running agent the one the files on disk describe? It is not when it started before any of
# them last changed, or when its binary was replaced underneath it.
consul_agent_current() {
  systemctl is-active --quiet consul || return 1
  [ -e "$CONSUL_STARTED" ] || return 1
  [ -z "$(consul_files_newer_than_start)" ] || return 1
  pid=$(systemctl show -p MainPID consul | cut -d= -f2)
  [ -n "$pid" ] && [ "$pid" != 0 ] && ! readlink "/proc/$pid/exe" | grep -q '(deleted)'
}

# The local HTTP API, with the stack's token (from its root-only file) handed to curl on stdin, so
# it never shows on a command line; `-K -` is as old as curl itself.
consul_api() {
  consul_api_body "$1" -f
}

# The same with any answer's body (autopilot's health answers 429 when the cluster is unhealthy);
# curl options after the path (consul_api's -f: nothing but a failure on an error status).
# While ACLs are being switched on (ACL_ALLOW: default allow), a token the cluster does not know yet
# (the servers bootstrap it once an ACL-enabled leader is elected; the agents' are made after the
# roll) is refused as "ACL not found": the request is made again without it, which allow permits.
consul_api_body() {
  api_path=$1
  shift
  if [ -s "$TOKEN_FILE" ]; then
    printf 'header = "X-Consul-Token: %s"\n' "$(cat "$TOKEN_FILE")" | curl -s "$@" -m 5 -K - "http://127.0.0.1:8500$api_path" && return 0
    [ "${ACL_ALLOW:-no}" = yes ] || return 1
  fi
  curl -s "$@" -m 5 "http://127.0.0.1:8500$api_path"
}

# The raft voters' node names, one per line, as this server sees them (nothing when it cannot tell).
consul_voters() {
  consul_api /v1/operator/raft/configuration 2>/dev/null | sed 's/},{/}\n{/g' |
    grep '"Voter":true' | sed -n 's/.*"Node":"\([^"]*\)".*/\1/p' || true
}

# Has this agent ever been in a cluster with other members? Its own serf snapshot says so.
consul_has_joined_before() {
  [ -e "$DATA_DIR/serf/local.snapshot" ] &&
    awk -v n="$NODE" '$1 == "alive:" && $2 != n { f = 1 } END { exit !f }' "$DATA_DIR/serf/local.snapshot"
}

# One look at the cluster from this agent: a leader, this node alive, and on a server also a raft
# voter with autopilot reporting the whole cluster healthy. Says what is missing on stderr.
consul_healthy() {
  leader=$(curl -sf -m 5 http://127.0.0.1:8500/v1/status/leader 2>/dev/null | tr -d '"' || true)
  [ -n "$leader" ] || { health_why="no leader"; return 1; }
  # The servers' view of this node (its serfHealth check), not the agent's own member list: an agent
  # endpoint answers "ACL not found" while ACLs are being switched on and no token is bootstrapped.
  consul_api "/v1/health/node/$NODE" 2>/dev/null | sed 's/},{/}\n{/g' | grep '"CheckID":"serfHealth"' | grep -q '"Status":"passing"' ||
    { health_why="$NODE is not alive in the cluster (serfHealth)"; return 1; }
  if [ "$SERVER" = yes ]; then
    consul_voters | grep -qx "$NODE" || { health_why="$NODE is not a raft voter"; return 1; }
    consul_api /v1/operator/autopilot/health 2>/dev/null | grep -q '^{"Healthy":true' ||
      { health_why="autopilot does not report the cluster healthy"; return 1; }
  fi
  return 0
}

# Bounded wait until consul_healthy; exits the script when the bound runs out.
consul_wait_healthy() {
  deadline=$(( $(date +%s) + WAIT_SECONDS ))
  health_why=
  until consul_healthy; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "consul-swarm: the cluster is not healthy from $NODE after ${WAIT_SECONDS}s: $health_why" >&2
      consul members >&2 || true
      exit 6
    fi
    sleep 0.5
  done
}

# Does this agent lead the cluster? (Its own raft address is the leader's.)
consul_is_leader() {
  [ "$(consul_api /v1/operator/raft/configuration 2>/dev/null | sed 's/},{/}\n{/g' | grep '"Leader":true' | sed -n 's/.*"Node":"\([^"]*\)".*/\1/p')" = "$NODE" ]
}

# May this server leave and restart now without costing the cluster its quorum? Not when the
# cluster is already degraded (autopilot: not healthy) and has no failure to spare, while this
# server is one of its healthy voters. A server that is itself unhealthy costs nothing to restart
# (that is how a revert repairs one left outside), and with no leader there is nothing to keep.
# Says which servers are unhealthy in $degraded_why.
consul_may_leave() {
  degraded_why=
  [ "$SERVER" = yes ] || return 0
  health=$(consul_api_body /v1/operator/autopilot/health 2>/dev/null || true)
  case "$health" in
    '{"Healthy":true'*) return 0 ;;
    '{"Healthy":false'*) ;;
    *) return 0 ;;
  esac
  servers=$(printf '%s' "$health" | sed 's/},{/}\n{/g')
  printf '%s\n' "$servers" | grep "\"Name\":\"$NODE\"" | grep '"Healthy":true' | grep -q '"Voter":true' || return 0
  tolerance=$(printf '%s' "$health" | sed -n 's/.*"FailureTolerance":\([0-9]*\).*/\1/p')
  [ "${tolerance:-0}" -ge 1 ] && return 0
  degraded_why=$(printf '%s\n' "$servers" | grep -v '"Healthy":true' | sed -n 's/.*"Name":"\([^"]*\)".*/\1/p' | tr '\n' ' ' | sed 's/ $//')
  return 1
}

# Restarts the agent the way HashiCorp's upgrade guide does it for a server among others: it leaves
# first, so the leader takes it out of raft (a leader hands its leadership over first), and it comes
# back as a non-voter that autopilot promotes once stable. A plain restart lets the returning server
# time out before the leader reaches it again and call an election (Consul 1.14's raft has no
# pre-vote); leaving keeps every follower's restart free of elections.
consul_restart_gracefully() {
  if [ "$SERVER" = yes ] && [ "$(consul_voters | grep -c -v -x "$NODE")" -ge 1 ]; then
    timeout 60 consul leave >/dev/null 2>&1 || true
  fi
  systemctl restart consul
}
