# On every other node. A node already in the swarm that CLUSTER_ID names stays as it is; a node
# left in an older swarm (its manager's machine was rebuilt and made a new one) leaves it first.
command -v openssl >/dev/null 2>&1 || {
  echo "consul-swarm: $(hostname) has no openssl, which reading this node's swarm certificate needs: install openssl" >&2
  exit 3
}
mine=$(swarm_cluster_of_node)
state=$(docker info --format '{{.Swarm.LocalNodeState}}')
if [ "$state" = active ] && { [ "$mine" = "$CLUSTER_ID" ] || [ -z "$CLUSTER_ID" ]; }; then
  if ! swarm_removed_by_manager; then
    echo "swarm=active"
    exit 0
  fi
  echo "consul-swarm: $ADDR is no longer listed by the manager at $MANAGER_API: it leaves its old membership and joins again"
  docker swarm leave --force >/dev/null
  state=inactive
fi
if [ "$state" != inactive ]; then
  echo "consul-swarm: $ADDR is in swarm '${mine:-unknown}', not in $CLUSTER_ID: leaving it"
  docker swarm leave --force >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
consul_kv_auth
# Consul or the manager may be restarting (a rolling change, a repair in the same up): both
# waits are bounded, and a join whose answer was lost counts once the node is in.
join_info() {
  token=$(kv "$CONSUL/v1/kv/$KV_PREFIX/$ROLE-token?raw") && manager=$(kv "$CONSUL/v1/kv/$KV_PREFIX/manager-addr?raw") &&
    [ -n "$token" ] && [ -n "$manager" ]
}
retry_for 60 join_info || {
  echo "consul-swarm: no swarm join token or manager address under $KV_PREFIX in Consul at $CONSUL within 60 s" >&2
  exit 8
}
joined() { swarm_join_via "$manager" || [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" = active ]; }
retry_for 30 joined || {
  echo "consul-swarm: $ADDR could not join the swarm through $manager within 30 s" >&2
  exit 8
}
echo "swarm=joined manager=$manager"
