if [ -e "$TOKEN_FILE" ]; then export CONSUL_HTTP_TOKEN_FILE="$TOKEN_FILE"; fi
# Every agent of the stack (by node name) must be alive and in the catalog, with a leader and every
# server a raft peer. Counted as "at least": a host that this same update removes is torn down
# only after this step, so it may still be there.
deadline=$(( $(date +%s) + WAIT_SECONDS ))
while :; do
  leader=$(curl -sf http://127.0.0.1:8500/v1/status/leader 2>/dev/null | tr -d '"' || true)
  peers=$(curl -sf http://127.0.0.1:8500/v1/status/peers 2>/dev/null | tr ',' '\n' | grep -c ':' || true)
  # A server that joined an elected leader votes only once autopilot has seen it stable: until
  # then the cluster could not survive a failure, so it is not done yet.
  voters=$(consul_api /v1/operator/raft/configuration 2>/dev/null | grep -o '"Voter":true' | wc -l || true)
  healthy=no
  consul_api /v1/operator/autopilot/health 2>/dev/null | grep -q '^{"Healthy":true' && healthy=yes
  alive=$(consul members -status=alive 2>/dev/null | tail -n +2 | awk '{ print $1 }' || true)
  nodes=$(consul catalog nodes 2>/dev/null | tail -n +2 | awk '{ print $1 }' || true)
  missing=
  for n in $EXPECTED_NODES; do
    printf '%s\n' "$alive" | grep -qx "$n" && printf '%s\n' "$nodes" | grep -qx "$n" || missing="$missing $n"
  done
  if [ -n "$leader" ] && [ "$peers" -ge "$EXPECTED_SERVERS" ] && [ "$voters" -ge "$EXPECTED_SERVERS" ] && [ "$healthy" = yes ] && [ -z "$missing" ]; then
    break
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "consul-swarm: the cluster is not healthy after ${WAIT_SECONDS}s: leader='$leader' peers=$peers/$EXPECTED_SERVERS voters=$voters/$EXPECTED_SERVERS autopilot healthy=$healthy not alive or not in the catalog:${missing}" >&2
    consul members >&2 || true
    exit 7
  fi
  sleep 1
done
# Members the stack no longer has that failed (a host renamed or rebuilt under another name, a
# role changed) are pruned, so no dead voter or stale member stays behind.
consul members 2>/dev/null | tail -n +2 | awk '$3 == "failed" || $3 == "left" { print $1 }' | while read -r gone; do
  case " $EXPECTED_NODES " in
    *" $gone "*) ;;
    *) consul force-leave -prune "$gone" >/dev/null 2>&1 && echo "consul-swarm: pruned $gone, which is no longer in the stack" >&2 || true ;;
  esac
done
# The cluster has formed: from now on the bootstrap server must never elect itself alone.
rm -f "$CONFIG_DIR/bootstrap.json"
echo "leader=$leader"
consul members | tail -n +2 | awk '{ print "member=" $1, $2, $3, $4 }'
