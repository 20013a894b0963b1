if [ -e "$TOKEN_FILE" ]; then export CONSUL_HTTP_TOKEN_FILE="$TOKEN_FILE"; fi
# The tutorial's `consul join`: ADDRESSES are validated IPs or hostnames, split on purpose.
# Right after the first start, the bootstrap server may have no leader yet, and with ACLs its
# token resolves only once one is elected: retry, bounded.
# A rebuilt seed that did not bootstrap (its cluster runs on the others) has no leader of its
# own, so its API cannot authorise a join: then an agent already in the cluster joins it instead
# (a join is symmetric), through that agent's API with the same token.
join_from_here() {
  # shellcheck disable=SC2086
  consul join $ADDRESSES
}
join_from_cluster() {
  for peer in $ADDRESSES; do
    if [ -s "$TLS_DIR/ca.pem" ]; then
      CONSUL_HTTP_ADDR="https://$peer:8501" CONSUL_CACERT="$TLS_DIR/ca.pem" consul join "$SELF" 2>/dev/null && return 0
    else
      CONSUL_HTTP_ADDR="http://$peer:8500" consul join "$SELF" 2>/dev/null && return 0
    fi
  done
  return 1
}
join_cluster() {
  join_from_here && return 0
  join_from_cluster && join_from_here
}
retry_for "$WAIT_SECONDS" join_cluster || {
  echo "consul-swarm: consul join $ADDRESSES still failing after ${WAIT_SECONDS}s" >&2
  exit 7
}
