# On the first manager: every node of the stack Ready in this one swarm, once each. The entry a
# rebuilt machine left behind (its old node, Down once the manager misses its heartbeats, while the
# new one of the same hostname is Ready) is removed; a stale manager entry is demoted first, since
# it still counts in the managers' quorum.
remove_stale() {
  printf '%s\n' "$nodes" | awk '$3 == "Ready" { ready[$2] = 1 } $3 == "Down" { down[$1] = $2 } END { for (id in down) if (down[id] in ready) print id }' |
    while read -r stale; do
      if [ "$(docker node inspect "$stale" --format '{{.Spec.Role}}' 2>/dev/null)" = manager ]; then
        docker node demote "$stale" >/dev/null 2>&1 || true
      fi
      docker node rm --force "$stale" >/dev/null && echo "consul-swarm: removed a stale swarm node entry $stale" >&2 || true
    done
}
# The records of which membership step stands for each node live on this manager's disk: a
# rebuilt first manager has none, and a node taken out of the stack later would then be left in
# the swarm by its step's delete ("belongs to no step"). Those missing are put back; one that names
# another step (a renamed host's new one) is left as it is.
for claim in $MEMBER_CLAIMS; do
  if [ ! -e "$OWNERS/${claim%%=*}" ]; then
    mkdir -p "$OWNERS"
    printf '%s\n' "${claim#*=}" > "$OWNERS/${claim%%=*}"
  fi
done
deadline=$(( $(date +%s) + WAIT_SECONDS ))
while :; do
  nodes=$(docker node ls --format '{{.ID}} {{.Hostname}} {{.Status}}' 2>/dev/null || true)
  remove_stale
  nodes=$(docker node ls --format '{{.ID}} {{.Hostname}} {{.Status}}' 2>/dev/null || true)
  missing=
  for n in $EXPECTED_NODES; do
    case "$(printf '%s\n' "$nodes" | awk -v n="$n" '$2 == n { c++; if ($3 == "Ready") r++ } END { print c + 0, r + 0 }')" in
      "1 1") ;;
      "0 0"|*" 0") missing="$missing $n(not Ready)" ;;
      *) missing="$missing $n(more than one entry)" ;;
    esac
  done
  [ -n "$missing" ] || break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "consul-swarm: swarm nodes not Ready once each after ${WAIT_SECONDS}s:$missing" >&2
    docker node ls >&2 || true
    exit 9
  fi
  sleep 0.5
done
docker node ls --format 'node={{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}'
