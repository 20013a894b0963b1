if [ -e "$TOKEN_FILE" ]; then export CONSUL_HTTP_TOKEN_FILE="$TOKEN_FILE"; fi
# Every agent of the stack (by node name) must be alive and in the catalog, with a leader, every
# server of the stack a raft voter and autopilot reporting the cluster healthy: a server that
# joined an elected leader votes only once autopilot has seen it stable, and until then the
# cluster could not survive a failure. Other members may still be there: a host that this same
# update removes is torn down only after this step.
# Hosts the stack once had and no longer has (DEPARTED_NODES: renamed, rebuilt under another
# name, or taken out) that failed or left are pruned first; a renamed server whose old name is
# pruned goes out of raft with it and is taken back by the leader, which this wait also covers.
# Only those: an agent joined by hand, or another stack's, is never the stack's to take out.
# Never a name whose node id an alive member holds: Consul removes raft servers by id, and that
# would take the live server out.
prune_gone() {
  detailed=$(consul members -detailed 2>/dev/null | tail -n +2 |
    awk '{ id = ""; n = split($4, t, ","); for (i = 1; i <= n; i++) if (t[i] ~ /^id=/) id = substr(t[i], 4); print $1, $3, id }')
  live_ids=$(printf '%s\n' "$detailed" | awk '$2 == "alive" && $3 != "" { print $3 }')
  printf '%s\n' "$detailed" | awk '$2 == "failed" || $2 == "left" { print $1, $3 }' | while read -r gone id; do
    case " $DEPARTED_NODES " in *" $gone "*) ;; *) continue ;; esac
    if [ -n "$id" ] && printf '%s\n' "$live_ids" | grep -qx "$id"; then
      continue
    fi
    consul force-leave -prune "$gone" >/dev/null 2>&1 && echo "consul-swarm: pruned $gone, which is no longer in the stack" >&2 || true
  done
}
# Raft peers of the stack's hosts (by name, or by an address the stack has or had) that are no
# server of the stack and no alive server at all: a server made a client (SIGTERM does not take a
# server out of raft, and the client it restarts as keeps its node id), or one gone without
# leaving. Each is a voter that can never vote, and counts in the quorum: removed by id, as
# autopilot would at its next tick (up to 10 s later). An alive server the stack no longer lists
# is left alone: its own delete, after this step, takes it out gracefully. A peer of no host of the
# stack is someone else's, and left to autopilot.
# A peer is known by its address as well as its name: raft names a peer from this server's own
# view, which may not have it yet ("(unknown)") while the member list already shows it a server.
stale_peers() {
  alive_servers=$(consul members -status=alive 2>/dev/null | tail -n +2 | awk '$4 == "server" { sub(/:[0-9]+$/, "", $2); print $1; print $2 }' || true)
  consul_api /v1/operator/raft/configuration 2>/dev/null | sed 's/},{/}\n{/g' |
    sed -n 's/.*"ID":"\([^"]*\)","Node":"\([^"]*\)","Address":"\([^"]*\):[0-9]*".*/\1 \2 \3/p' | while read -r id node ip; do
    case " $EXPECTED_SERVER_NODES " in *" $node "*) continue ;; esac
    case " $EXPECTED_NODES $DEPARTED_NODES " in
      *" $node "*) ;;
      *) case " $STACK_ADDRESSES " in *" $ip "*) ;; *) continue ;; esac ;;
    esac
    printf '%s\n' "$alive_servers" | grep -qx -e "$node" -e "$ip" && continue
    echo "$id $node"
  done
}
deadline=$(( $(date +%s) + WAIT_SECONDS ))
while :; do
  prune_gone
  # Removed as found; done only once a look finds none (the next turn looks again).
  stale=$(stale_peers)
  printf '%s\n' "$stale" | while read -r id node; do
    [ -n "$id" ] || continue
    consul operator raft remove-peer -id="$id" >/dev/null 2>&1 &&
      echo "consul-swarm: removed raft peer $node ($id): no server of the stack" >&2 || true
  done
  stale=$(printf '%s\n' "$stale" | awk 'NF { printf " %s", $2 }')
  leader=$(curl -sf http://127.0.0.1:8500/v1/status/leader 2>/dev/null | tr -d '"' || true)
  voters=$(consul_voters)
  not_voting=
  for n in $EXPECTED_SERVER_NODES; do
    printf '%s\n' "$voters" | grep -qx "$n" || not_voting="$not_voting $n"
  done
  # Autopilot's own view lags raft's by up to its 2 s health interval: a server just promoted is
  # a voter in raft before autopilot counts it in the failure tolerance. Done means both agree.
  healthy=no
  health=$(consul_api /v1/operator/autopilot/health 2>/dev/null || true)
  case "$health" in
    '{"Healthy":true'*)
      [ "$(printf '%s' "$health" | grep -o '"Voter":true' | wc -l)" -ge "$(echo $EXPECTED_SERVER_NODES | wc -w)" ] && healthy=yes ;;
  esac
  # A secondary datacenter serves the primary's tokens from its own copy: done once that copy is
  # being kept (replication running, tokens replicated at least once).
  replicating=yes
  if [ "${ACL_REPLICATION:-no}" = yes ]; then
    replication=$(consul_api /v1/acl/replication 2>/dev/null || true)
    case "$replication" in
      *'"Running":true'*) printf '%s' "$replication" | grep -q '"ReplicatedTokenIndex":[1-9]' || replicating=no ;;
      *) replicating=no ;;
    esac
  fi
  alive=$(consul members -status=alive 2>/dev/null | tail -n +2 | awk '{ print $1 }' || true)
  nodes=$(consul catalog nodes 2>/dev/null | tail -n +2 | awk '{ print $1 }' || true)
  missing=
  for n in $EXPECTED_NODES; do
    printf '%s\n' "$alive" | grep -qx "$n" && printf '%s\n' "$nodes" | grep -qx "$n" || missing="$missing $n"
  done
  if [ -n "$leader" ] && [ -z "$not_voting" ] && [ "$healthy" = yes ] && [ -z "$missing" ] && [ "$replicating" = yes ] && [ -z "$stale" ]; then
    break
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "consul-swarm: the cluster is not healthy after ${WAIT_SECONDS}s: leader='$leader' not voting:${not_voting:- none} autopilot healthy=$healthy not alive or not in the catalog:${missing:- none} raft peers of no server:${stale:- none}${ACL_REPLICATION:+ ACL replication from the primary running=$replicating}" >&2
    consul members >&2 || true
    exit 7
  fi
  sleep 0.5
done
# The cluster has formed: from now on the bootstrap server must never elect itself alone.
rm -f "$CONFIG_DIR/bootstrap.json"
echo "leader=$leader"
consul members | tail -n +2 | awk '{ print "member=" $1, $2, $3, $4 }'
consul catalog datacenters 2>/dev/null | awk '{ print "datacenter=" $1 }' || true
