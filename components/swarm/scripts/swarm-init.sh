# On the first manager. A swarm is made once: a rebuilt first manager whose swarm still runs on
# the other managers joins it again as a manager; only with no swarm left anywhere is a new one
# made (its new cluster id then makes every other node's join step move it over).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
consul_kv_auth
state=$(docker info --format '{{.Swarm.LocalNodeState}}')
if [ "$state" != active ]; then
  token=$(kv "$CONSUL/v1/kv/$KV_PREFIX/manager-token?raw" 2>/dev/null) || token=
  joined=no
  if [ -n "$token" ]; then
    for manager in $OTHER_MANAGERS; do
      if swarm_join_via "$manager:2377"; then
        joined=yes
        echo "consul-swarm: $ADDR joined the running swarm again through $manager"
        break
      fi
    done
  fi
  if [ "$joined" = no ]; then
    [ "$state" = inactive ] || docker swarm leave --force >/dev/null 2>&1 || true
    docker swarm init --advertise-addr "$ADDR" >/dev/null
  fi
fi
# Labelled in the swarm as the step that stands for this node (see swarm-node-claim.sh).
docker node update --label-add "consul-swarm.step=$OWNER_ID" "$(docker info --format '{{.Swarm.NodeID}}')" >/dev/null
# Discovery through Consul: agents read the manager's address and the join tokens from KV.
# The tokens go from docker to Consul on stdin (printf is the shell's own), never on a command
# line; read first, so a node that cannot give them (not a manager) publishes no empty token.
worker_token=$(docker swarm join-token -q worker 2>"$tmp/err") && manager_token=$(docker swarm join-token -q manager 2>"$tmp/err") &&
  [ -n "$worker_token" ] && [ -n "$manager_token" ] || {
  echo "consul-swarm: $ADDR, the first swarm manager, could not give the swarm's join tokens (is it a manager? docker node ls there): $(cat "$tmp/err")" >&2
  exit 8
}
printf '%s' "$worker_token" | kv -X PUT --data-binary @- "$CONSUL/v1/kv/$KV_PREFIX/worker-token" >/dev/null
printf '%s' "$manager_token" | kv -X PUT --data-binary @- "$CONSUL/v1/kv/$KV_PREFIX/manager-token" >/dev/null
printf '%s:2377' "$ADDR" | kv -X PUT --data-binary @- "$CONSUL/v1/kv/$KV_PREFIX/manager-addr" >/dev/null
cluster=$(docker info --format '{{.Swarm.Cluster.ID}}')
printf '%s' "$cluster" | kv -X PUT --data-binary @- "$CONSUL/v1/kv/$KV_PREFIX/cluster-id" >/dev/null
echo "swarm=active manager=$ADDR:2377"
echo "cluster_id=$cluster"
