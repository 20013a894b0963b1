# On the first manager, when a node leaves the stack: drained first (its tasks move to the other
# nodes), demoted if it is a manager, then removed from the swarm. Its own join step's delete then
# makes it leave.
id=$(docker node ls --filter "name=$NODE" --format '{{.ID}} {{.Hostname}}' 2>/dev/null | awk -v n="$NODE" '$2 == n { print $1 }')
if [ -z "$id" ]; then
  echo "consul-swarm: $NODE is not in the swarm; nothing to remove"
  exit 0
fi
# A node the swarm labels with another step (another host became the first manager, and this old
# membership step runs on the old one) is that step's: left in the swarm.
for node in $id; do
  holder=$(docker node inspect "$node" --format '{{index .Spec.Labels "consul-swarm.step"}}' 2>/dev/null || true)
  if [ -n "$holder" ] && [ "$holder" != "$OWNER_ID" ]; then
    echo "consul-swarm: swarm node $NODE belongs to $holder, not to $OWNER_ID: left in the swarm"
    owner_release
    exit 0
  fi
done
for node in $id; do
  docker node update --availability drain "$node" >/dev/null 2>&1 || true
done
drained() {
  for node in $id; do
    [ -z "$(docker node ps "$node" --filter desired-state=running -q 2>/dev/null)" ] || return 1
  done
}
retry_for "$WAIT_SECONDS" drained || echo "consul-swarm: $NODE still runs tasks after ${WAIT_SECONDS}s; removing it anyway" >&2
# Managers that leave together (a destroy removes them in parallel) change the swarm's raft under
# each other: a demote or a remove may meet "node lost leader status" while the managers elect
# again. Each node's removal is retried, bounded, until the swarm no longer knows it.
node_gone() {
  docker node inspect "$1" 2>&1 >/dev/null | grep -qi 'no such node'
}
remove_node() {
  node_gone "$1" && return 0
  if [ "$(docker node inspect "$1" --format '{{.Spec.Role}}' 2>/dev/null)" = manager ]; then
    docker node demote "$1" >/dev/null 2>&1 || return 1
  fi
  docker node rm --force "$1" >/dev/null 2>&1 || node_gone "$1"
}
for node in $id; do
  if ! retry_for "$WAIT_SECONDS" remove_node "$node"; then
    echo "consul-swarm: $NODE is still in the swarm after ${WAIT_SECONDS}s of tries; the last one said:" >&2
    docker node rm --force "$node" >/dev/null
  fi
done
echo "consul-swarm: $NODE drained and removed from the swarm"
