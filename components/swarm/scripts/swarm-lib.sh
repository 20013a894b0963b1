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
# POST to the local Docker API, the body on stdin. Through its unix socket where curl can
# (--unix-socket, curl 7.40); CentOS 7's curl (7.29) cannot, so there through the daemon's own
# TCP API (from its command line, else daemon.json), with TLS the daemon's own pair as the client.
docker_api_post() {
  if curl --help all 2>/dev/null | grep -q -e '--unix-socket'; then
    curl -sf -m 60 --unix-socket /var/run/docker.sock -H 'Content-Type: application/json' --data-binary @- "http://localhost$1"
    return
  fi
  api=$( { ps -o args= -C dockerd 2>/dev/null; cat /etc/docker/daemon.json 2>/dev/null; } |
    grep -o 'tcp://[0-9.]*:[0-9]*' | head -n 1 | sed 's|^tcp://||; s|^0\.0\.0\.0:|127.0.0.1:|')
  [ -n "$api" ] || { echo "consul-swarm: curl on $(hostname) has no --unix-socket and dockerd no TCP API" >&2; return 1; }
  if [ -e /etc/docker/tls/cert.pem ]; then
    curl -sf -m 60 --cacert /etc/docker/tls/ca.pem --cert /etc/docker/tls/cert.pem --key /etc/docker/tls/key.pem \
      -H 'Content-Type: application/json' --data-binary @- "https://$api$1"
  else
    curl -sf -m 60 -H 'Content-Type: application/json' --data-binary @- "http://$api$1"
  fi
}
# Joins the swarm through the local Docker API, the token in the request body on stdin (never on
# a command line). $1: manager address ip:2377. Returns non-zero when the join fails.
swarm_join_via() {
  printf '{"ListenAddr":"0.0.0.0:2377","AdvertiseAddr":"%s","RemoteAddrs":["%s"],"JoinToken":"%s"}' "$ADDR" "$1" "$token" |
    docker_api_post /swarm/join >/dev/null
}
# Was this node taken out of the swarm by a manager (docker node rm)? Its own state still says
# active then, so the first manager is asked, through its Docker API (MANAGER_API) with this host's
# own pair (its server certificate is a client certificate too). True only when that manager
# answers that it knows no such node; a manager that does not answer proves nothing.
swarm_removed_by_manager() {
  [ -n "${MANAGER_API:-}" ] || return 1
  node_id=$(docker info --format '{{.Swarm.NodeID}}' 2>/dev/null) && [ -n "$node_id" ] || return 1
  if [ -e /etc/docker/tls/cert.pem ]; then
    set -- --tlsverify --tlscacert=/etc/docker/tls/ca.pem --tlscert=/etc/docker/tls/cert.pem --tlskey=/etc/docker/tls/key.pem
  else
    set --
  fi
  timeout 15 docker "$@" -H "$MANAGER_API" node inspect "$node_id" 2>&1 >/dev/null | grep -qi 'no such node'
}
