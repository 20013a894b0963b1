tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
consul_kv_auth
state=$(docker info --format '{{.Swarm.LocalNodeState}}')
if [ "$state" != active ]; then
  docker swarm init --advertise-addr "$ADDR" >/dev/null
fi
# Discovery through Consul: agents read the manager's address and the join tokens from KV.
# The tokens go from docker to Consul through a pipe, never through a command line.
docker swarm join-token -q worker | kv -X PUT --data-binary @- "$CONSUL/v1/kv/$KV_PREFIX/worker-token" >/dev/null
docker swarm join-token -q manager | kv -X PUT --data-binary @- "$CONSUL/v1/kv/$KV_PREFIX/manager-token" >/dev/null
printf '%s:2377' "$ADDR" | kv -X PUT --data-binary @- "$CONSUL/v1/kv/$KV_PREFIX/manager-addr" >/dev/null
echo "swarm=active manager=$ADDR:2377"
