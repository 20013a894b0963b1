if [ -e "$TOKEN_FILE" ]; then export CONSUL_HTTP_TOKEN_FILE="$TOKEN_FILE"; fi
deadline=$(( $(date +%s) + WAIT_SECONDS ))
while :; do
  leader=$(curl -sf http://127.0.0.1:8500/v1/status/leader 2>/dev/null | tr -d '"' || true)
  peers=$(curl -sf http://127.0.0.1:8500/v1/status/peers 2>/dev/null | tr ',' '\n' | grep -c ':' || true)
  alive=$(consul members -status=alive 2>/dev/null | tail -n +2 | grep -c . || true)
  nodes=$(consul catalog nodes 2>/dev/null | tail -n +2 | grep -c . || true)
  if [ -n "$leader" ] && [ "$peers" -eq "$EXPECTED_SERVERS" ] && [ "$alive" -eq "$EXPECTED_MEMBERS" ] && [ "$nodes" -eq "$EXPECTED_MEMBERS" ]; then
    break
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "consul-swarm: the cluster is not healthy after ${WAIT_SECONDS}s: leader='$leader' peers=$peers/$EXPECTED_SERVERS alive=$alive/$EXPECTED_MEMBERS catalog=$nodes/$EXPECTED_MEMBERS" >&2
    consul members >&2 || true
    exit 7
  fi
  sleep 1
done
# The cluster has formed: from now on the bootstrap server must never elect itself alone.
rm -f "$CONFIG_DIR/bootstrap.json"
echo "leader=$leader"
consul members | tail -n +2 | awk '{ print "member=" $1, $2, $3, $4 }'
