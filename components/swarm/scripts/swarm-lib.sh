# Shared by the swarm scripts: Consul KV through its HTTP API. With ACLs on, the swarm's own token
# arrives on stdin (first line), and with Consul TLS the CA follows it: the token goes into a 0600
# curl config file (`-K`, as old as curl itself), so it never shows on a command line.
consul_kv_auth() {
  : > "$tmp/auth"
  (umask 077 && cat > "$tmp/stdin")
  if [ "$ACL" = yes ]; then
    (umask 077 && printf 'header = "X-Consul-Token: %s"\n' "$(head -n 1 "$tmp/stdin")" > "$tmp/auth")
  fi
  if grep -q -- '-----BEGIN CERTIFICATE-----' "$tmp/stdin"; then
    sed -n '/-----BEGIN CERTIFICATE-----/,$p' "$tmp/stdin" > "$tmp/consul-ca.pem"
    printf 'cacert = "%s"\n' "$tmp/consul-ca.pem" >> "$tmp/auth"
  fi
}
kv() {
  curl -sf -m 10 -K "$tmp/auth" "$@"
}
# The swarm's cluster id as this node's own swarm certificate names it (O=), manager or worker;
# empty when the node is in no swarm.
swarm_cluster_of_node() {
  openssl x509 -in /var/lib/docker/swarm/certificates/swarm-node.crt -noout -subject -nameopt RFC2253 2>/dev/null |
    sed -n 's/.*O=\([^,]*\).*/\1/p'
}
# Joins the swarm through the local Docker API, the token in the request body on stdin (never on
# a command line). $1: manager address ip:2377. Returns non-zero when the join fails.
swarm_join_via() {
  printf '{"ListenAddr":"0.0.0.0:2377","AdvertiseAddr":"%s","RemoteAddrs":["%s"],"JoinToken":"%s"}' "$ADDR" "$1" "$token" |
    curl -sf -m 60 --unix-socket /var/run/docker.sock -H 'Content-Type: application/json' --data-binary @- http://localhost/swarm/join >/dev/null
}
