# On a secondary datacenter's seed server: the WAN join to the primary's servers (tutorial part 1:
# servers of different datacenters gossip over the WAN pool; a request for another datacenter is
# forwarded to a server there). The servers also join by themselves when they start
# (retry_join_wan): with ACLs, this datacenter resolves the primary's tokens only over the WAN, so
# its first join cannot wait for a token. This step is the join rule's check and re-run: it joins
# again whenever either side's servers change, then waits until every server of both datacenters
# is alive in the WAN pool.
if [ -e "$TOKEN_FILE" ]; then export CONSUL_HTTP_TOKEN_FILE="$TOKEN_FILE"; fi
wan_join() {
  # shellcheck disable=SC2086
  consul join -wan $PRIMARY_ADDRESSES >/dev/null 2>&1
}
retry_for "$WAIT_SECONDS" wan_join || {
  echo "consul-swarm: consul join -wan $PRIMARY_ADDRESSES still failing after ${WAIT_SECONDS}s: the primary's servers must be reachable from here on 8302 (WAN gossip) and 8300 (RPC)" >&2
  exit 7
}
deadline=$(( $(date +%s) + WAIT_SECONDS ))
while :; do
  alive=$(consul members -wan -status=alive 2>/dev/null | tail -n +2 | awk '{ print $1 }' || true)
  missing=
  for n in $EXPECTED_WAN_MEMBERS; do
    printf '%s\n' "$alive" | grep -qx "$n" || missing="$missing $n"
  done
  [ -z "$missing" ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "consul-swarm: not alive in the WAN pool after ${WAIT_SECONDS}s:$missing" >&2
    consul members -wan >&2 || true
    exit 7
  fi
  sleep 0.5
done
consul members -wan | tail -n +2 | awk '{ print "wan_member=" $1, $2, $3 }'
