# On the first manager: every node of the stack Ready in this one swarm. Entries a rebuilt
# machine left behind (Down, with a Ready node of the same name) are removed.
deadline=$(( $(date +%s) + WAIT_SECONDS ))
while :; do
  nodes=$(docker node ls --format '{{.ID}} {{.Hostname}} {{.Status}}' 2>/dev/null || true)
  missing=
  for n in $EXPECTED_NODES; do
    printf '%s\n' "$nodes" | awk -v n="$n" '$2 == n && $3 == "Ready" { f = 1 } END { exit !f }' || missing="$missing $n"
  done
  [ -n "$missing" ] || break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "consul-swarm: swarm nodes not Ready after ${WAIT_SECONDS}s:$missing" >&2
    docker node ls >&2 || true
    exit 9
  fi
  sleep 1
done
printf '%s\n' "$nodes" | awk '$3 == "Ready" { ready[$2] = 1 } $3 == "Down" { down[$1] = $2 } END { for (id in down) if (down[id] in ready) print id }' |
  while read -r stale; do
    # A stale manager entry still counts in the managers' raft quorum: demoted first.
    if [ "$(docker node inspect "$stale" --format '{{.Spec.Role}}' 2>/dev/null)" = manager ]; then
      docker node demote "$stale" >/dev/null 2>&1 || true
    fi
    docker node rm --force "$stale" >/dev/null && echo "consul-swarm: removed a stale swarm node entry $stale" >&2
  done
docker node ls --format 'node={{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}'
