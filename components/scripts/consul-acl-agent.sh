# On the seed server, with the management token from its root-only file: the agents' policy and
# their token, whose secret arrives on stdin (a request body, never a command line).
export CONSUL_HTTP_TOKEN_FILE="$TOKEN_FILE"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077
printf 'X-Consul-Token: %s\n' "$(cat "$TOKEN_FILE")" > "$tmp/management"
secret=$(cat)
printf 'X-Consul-Token: %s\n' "$secret" > "$tmp/agent"
umask 022
# The ACL system answers once a leader has made the management token: wait for it, bounded.
retry_for "$WAIT_SECONDS" consul acl policy list >/dev/null 2>&1 || {
  echo "consul-swarm: Consul's ACL system did not answer within ${WAIT_SECONDS}s" >&2
  exit 7
}
if ! consul acl policy read -name "$POLICY" >/dev/null 2>&1; then
  consul acl policy create -name "$POLICY" -description "consul-swarm agents: register their node, read services" -rules "$RULES" >/dev/null
fi
if curl -sf -H "@$tmp/agent" http://127.0.0.1:8500/v1/acl/token/self >/dev/null; then
  echo "agent_token=present"
else
  printf '{"SecretID":"%s","Description":"consul-swarm agents","Policies":[{"Name":"%s"}]}' "$secret" "$POLICY" |
    curl -sf -X PUT -H "@$tmp/management" --data-binary @- http://127.0.0.1:8500/v1/acl/token >/dev/null
  echo "agent_token=created"
fi
