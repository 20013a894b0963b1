if [ -e "$TOKEN_FILE" ]; then export CONSUL_HTTP_TOKEN_FILE="$TOKEN_FILE"; fi
# The tutorial's `consul join`: ADDRESSES are validated IPs or hostnames, split on purpose.
# Right after the first start, the bootstrap server may have no leader yet, and with ACLs its
# token resolves only once one is elected: retry, bounded.
# shellcheck disable=SC2086
retry_for "$WAIT_SECONDS" consul join $ADDRESSES || {
  echo "consul-swarm: consul join $ADDRESSES still failing after ${WAIT_SECONDS}s" >&2
  exit 7
}
