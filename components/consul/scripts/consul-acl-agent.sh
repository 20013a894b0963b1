# On the seed server, with the management token from its root-only file: the stack's policies and
# tokens. Token secrets arrive on stdin, one a line (agents', the swarm managers' when there is a
# swarm, the ACL replication token in a secondary datacenter, the swarm workers'; a line is empty
# when there is no such token), and go only into request bodies and 0600 curl config files, never
# a command line.
# ACL_DC: in a secondary datacenter, the primary, where ACLs are authoritative: every policy and
# token is written and read there (this datacenter's copy lags by its replication).
ACL_DC=${ACL_DC:-}
dc_flag=${ACL_DC:+-datacenter=$ACL_DC}
dc_query=${ACL_DC:+?dc=$ACL_DC}
(umask 077 && cat > "$tmp/secrets")
# The ACL system answers once a leader has made the management token: wait for it, bounded.
# shellcheck disable=SC2086
retry_for "$WAIT_SECONDS" consul acl policy list $dc_flag >/dev/null 2>&1 || {
  echo "consul-swarm: Consul's ACL system did not answer within ${WAIT_SECONDS}s" >&2
  exit 7
}
# ensure_policy NAME DESCRIPTION RULES: made, or its rules brought back to RULES.
# shellcheck disable=SC2086
ensure_policy() {
  if consul acl policy read $dc_flag -name "$1" >/dev/null 2>&1; then
    consul acl policy update $dc_flag -name "$1" -rules "$3" >/dev/null
  else
    consul acl policy create $dc_flag -name "$1" -description "$2" -rules "$3" >/dev/null
  fi
}
# ensure_token LINE POLICY DESCRIPTION: the token whose secret is line LINE of stdin exists with
# exactly that policy.
ensure_token() {
  sed -n "$1p" "$tmp/secrets" | tr -d '\n' > "$tmp/secret"
  [ -s "$tmp/secret" ] || { echo "consul-swarm: no token secret on line $1 of stdin" >&2; exit 3; }
  (umask 077 && printf 'header = "X-Consul-Token: %s"\n' "$(cat "$tmp/secret")" > "$tmp/self")
  if accessor=$(curl -sf -m 10 -K "$tmp/self" "http://127.0.0.1:8500/v1/acl/token/self$dc_query" | sed -n 's/.*"AccessorID":"\([^"]*\)".*/\1/p') && [ -n "$accessor" ]; then
    printf '{"Description":"%s","Policies":[{"Name":"%s"}]}' "$3" "$2" |
      api -X PUT --data-binary @- "http://127.0.0.1:8500/v1/acl/token/$accessor$dc_query" >/dev/null
    echo "token=$2 present"
  else
    printf '{"SecretID":"%s","Description":"%s","Policies":[{"Name":"%s"}]}' "$(cat "$tmp/secret")" "$3" "$2" |
      api -X PUT --data-binary @- "http://127.0.0.1:8500/v1/acl/token$dc_query" >/dev/null
    echo "token=$2 created"
  fi
}
ensure_policy "$POLICY" "consul-swarm agents: register their node, read services" "$RULES"
ensure_token 1 "$POLICY" "consul-swarm agents${ACL_DC:+ of $DATACENTER}"
if [ -n "$SWARM_POLICY" ]; then
  ensure_policy "$SWARM_POLICY" "consul-swarm swarm managers: the swarm's KV prefix only" "$SWARM_RULES"
  ensure_token 2 "$SWARM_POLICY" "consul-swarm swarm hosts${ACL_DC:+ of $DATACENTER}"
fi
if [ -n "${SWARM_WORKER_POLICY:-}" ]; then
  ensure_policy "$SWARM_WORKER_POLICY" "consul-swarm swarm workers: the worker join token and the manager's address, their restart turns" "$SWARM_WORKER_RULES"
  ensure_token 4 "$SWARM_WORKER_POLICY" "consul-swarm swarm workers${ACL_DC:+ of $DATACENTER}"
fi
if [ -n "${REPLICATION_POLICY:-}" ]; then
  ensure_policy "$REPLICATION_POLICY" "consul-swarm: ACL replication into $DATACENTER" "$REPLICATION_RULES"
  ensure_token 3 "$REPLICATION_POLICY" "consul-swarm ACL replication into $DATACENTER"
fi
# DNS answers come from the anonymous token (Consul 1.14 has no DNS token): it may read node and
# service names when the stack serves DNS, and nothing at all when it does not. The token is one
# for every datacenter: a secondary leaves it to the primary's stack.
[ -z "$ACL_DC" ] || exit 0
anonymous=00000000-0000-0000-0000-000000000002
if [ "$DNS" = yes ]; then
  ensure_policy "$DNS_POLICY" "consul-swarm DNS: read node and service names" "$DNS_RULES"
  policies="[{\"Name\":\"$DNS_POLICY\"}]"
else
  policies="[]"
fi
printf '{"Description":"Anonymous Token","Policies":%s}' "$policies" |
  api -X PUT --data-binary @- "http://127.0.0.1:8500/v1/acl/token/$anonymous" >/dev/null
echo "anonymous_policies=$policies"
