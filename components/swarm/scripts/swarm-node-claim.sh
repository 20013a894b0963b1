# The membership record is all there is to do while the node stays (see owner-lib.sh). It is kept
# twice: on this manager's disk, and as the node's label in the swarm itself, which every manager
# reads. When another host becomes the first manager, the old membership step of a node that stays
# (run on the old first manager at the end of that up) finds the node labelled by the step that
# stands for it now, and leaves it in the swarm.
ready_id() {
  node_id=$(docker node ls --format '{{.ID}} {{.Hostname}} {{.Status}}' 2>/dev/null | awk -v n="$NODE" '$2 == n && $3 == "Ready" { print $1; exit }')
  [ -n "$node_id" ]
}
if retry_for 30 ready_id; then
  docker node update --label-add "consul-swarm.step=$OWNER_ID" "$node_id" >/dev/null
else
  echo "consul-swarm: swarm node $NODE is not Ready; its membership is recorded on this manager only" >&2
fi
echo "swarm_member=recorded"
