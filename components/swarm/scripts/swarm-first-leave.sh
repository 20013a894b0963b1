# The first manager's own delete: it leaves the stack, or another host became the first manager.
# While other managers run, the swarm is handed over to them: this node is drained (its tasks move
# to the others), demotes itself (the managers' raft goes on without it), leaves, and a manager that
# stays removes its entry. With no other manager (a destroy, whose membership steps removed the
# others first), it just leaves.
self=$(docker info --format '{{.Swarm.NodeID}}' 2>/dev/null || true)
others=
if [ -n "$self" ] && [ "$(docker info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null || true)" = true ]; then
  others=$(docker node ls --filter role=manager --format '{{.ID}} {{.Status}}' 2>/dev/null | awk -v s="$self" '$1 != s && $2 == "Ready" { print $1 }')
fi
if [ -z "$others" ]; then
  docker swarm leave --force >/dev/null 2>&1 || true
else
  echo "consul-swarm: $(hostname) hands the swarm over to the managers that stay"
  docker node update --availability drain "$self" >/dev/null
  drained() { [ -z "$(docker node ps "$self" --filter desired-state=running -q 2>/dev/null)" ]; }
  retry_for "$WAIT_SECONDS" drained || echo "consul-swarm: $(hostname) still runs tasks after ${WAIT_SECONDS}s; leaving anyway" >&2
  demoted() {
    docker node demote "$self" >/dev/null 2>&1 || true
    [ "$(docker info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" = false ]
  }
  retry_for "$WAIT_SECONDS" demoted || {
    echo "consul-swarm: $(hostname) could not demote itself within ${WAIT_SECONDS}s (do the other managers have a quorum? docker node ls there); it stays a manager" >&2
    exit 7
  }
  docker swarm leave >/dev/null 2>&1 || docker swarm leave --force >/dev/null
  # Its entry, Down now, is removed by a manager that stays, through that manager's Docker API with
  # this host's own pair (its server certificate is a client certificate too).
  remote() {
    if [ -e /etc/docker/tls/cert.pem ]; then
      docker --tlsverify --tlscacert=/etc/docker/tls/ca.pem --tlscert=/etc/docker/tls/cert.pem --tlskey=/etc/docker/tls/key.pem -H "$api" "$@"
    else
      docker -H "$api" "$@"
    fi
  }
  entry_removed() {
    for api in $OTHER_MANAGER_APIS; do
      remote node rm --force "$self" >/dev/null 2>&1 && return 0
      remote node inspect "$self" 2>&1 >/dev/null | grep -qi 'no such node' && return 0
    done
    return 1
  }
  if retry_for 30 entry_removed; then
    echo "consul-swarm: $(hostname) left the swarm; the managers that stay run it"
  else
    echo "consul-swarm: $(hostname) left the swarm, but no manager of $OTHER_MANAGER_APIS removed its entry: remove it there (docker node rm $self)" >&2
  fi
fi
