# The membership record (see owner-lib.sh) and the node's role. The record is kept
# twice: on this manager's disk, and as the node's label in the swarm itself, which every manager
# reads. When another host becomes the first manager, the old membership step of a node that stays
# (run on the old first manager at the end of that up) finds the node labelled by the step that
# stands for it now, and leaves it in the swarm.
ready_id() {
  node_id=$(docker node ls --format '{{.ID}} {{.Hostname}} {{.Status}}' 2>/dev/null | awk -v n="$NODE" '$2 == n && $3 == "Ready" { print $1; exit }')
  [ -n "$node_id" ]
}
retry_for 30 ready_id || {
  echo "consul-swarm: swarm node $NODE is not Ready in the swarm 30 s after it joined; its role cannot be set (docker node ls on this manager)" >&2
  exit 8
}
docker node update --label-add "consul-swarm.step=$OWNER_ID" "$node_id" >/dev/null
# The node's role as the config gives it: a worker made a manager is promoted here (it cannot
# promote itself), a manager made a worker demoted (the first manager stays, with the others).
# Done once its raft membership says so: a new manager reachable, a demoted one out of the raft.
role_is() {
  [ "$(docker node inspect "$node_id" --format '{{.Spec.Role}}' 2>/dev/null)" = "$ROLE" ] || return 1
  reach=$(docker node inspect "$node_id" --format '{{if .ManagerStatus}}{{.ManagerStatus.Reachability}}{{end}}' 2>/dev/null) || return 1
  if [ "$ROLE" = manager ]; then [ "$reach" = reachable ]; else [ -z "$reach" ]; fi
}
if ! role_is; then
  if [ "$ROLE" = manager ]; then change=promote; else change=demote; fi
  set_role() { docker node "$change" "$node_id" >/dev/null 2>&1 || true; role_is; }
  retry_for 60 set_role || {
    echo "consul-swarm: swarm node $NODE could not be made a $ROLE within 60 s (docker node $change $NODE on this manager)" >&2
    exit 8
  }
  echo "consul-swarm: swarm node $NODE is a $ROLE now ($change)"
fi
echo "swarm_member=recorded role=$ROLE"
