state=$(docker info --format '{{.Swarm.LocalNodeState}}')
if [ "$state" = active ]; then
  echo "swarm=active"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
consul_kv_auth
token=$(kv "$CONSUL/v1/kv/$KV_PREFIX/$ROLE-token?raw") || true
manager=$(kv "$CONSUL/v1/kv/$KV_PREFIX/manager-addr?raw") || true
if [ -z "$token" ] || [ -z "$manager" ]; then
  echo "consul-swarm: no swarm join token or manager address under $KV_PREFIX in Consul at $CONSUL" >&2
  exit 8
fi
# The join goes to the local Docker API with the token in the request body on stdin,
# so it never appears on a command line.
printf '{"ListenAddr":"0.0.0.0:2377","AdvertiseAddr":"%s","RemoteAddrs":["%s"],"JoinToken":"%s"}' "$ADDR" "$manager" "$token" |
  curl -sf --unix-socket /var/run/docker.sock -H 'Content-Type: application/json' --data-binary @- http://localhost/swarm/join >/dev/null
echo "swarm=joined manager=$manager"
