# On the first manager, when a node leaves the stack: drained first (its tasks move to the other
# nodes), demoted if it is a manager, then removed from the swarm. Its own join step's delete then
# makes it leave.
id=$(docker node ls --filter "name=$NODE" --format '{{.ID}} {{.Hostname}}' 2>/dev/null | awk -v n="$NODE" '$2 == n { print $1 }')
if [ -z "$id" ]; then
  echo "consul-swarm: $NODE is not in the swarm; nothing to remove"
  exit 0
fi
for node in $id; do
  docker node update --availability drain "$node" >/dev/null 2>&1 || true
done
drained() {
  for node in $id; do
    [ -z "$(docker node ps "$node" --filter desired-state=running -q 2>/dev/null)" ] || return 1
  done
}
retry_for "$WAIT_SECONDS" drained || echo "consul-swarm: $NODE still runs tasks after ${WAIT_SECONDS}s; removing it anyway" >&2
for node in $id; do
  if [ "$(docker node inspect "$node" --format '{{.Spec.Role}}' 2>/dev/null)" = manager ]; then
    docker node demote "$node" >/dev/null
  fi
  docker node rm --force "$node" >/dev/null
done
echo "consul-swarm: $NODE drained and removed from the swarm"
