# The stack's ACL steps on a server: the management token from its root-only file, for the consul
# CLI (CONSUL_HTTP_TOKEN_FILE) and for curl (`api`, through a 0600 config file in a private
# temporary directory, removed on exit): never on a command line.
export CONSUL_HTTP_TOKEN_FILE="$TOKEN_FILE"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(umask 077 && printf 'header = "X-Consul-Token: %s"\n' "$(cat "$TOKEN_FILE")" > "$tmp/management")
api() { curl -sf -m 10 -K "$tmp/management" "$@"; }
