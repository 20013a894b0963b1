# The agent leaves the cluster gracefully before it stops: a server leaves raft (its peers shrink,
# no dead voter stays), a client leaves the member list. Then everything the stack put here goes.
if systemctl is-active --quiet consul 2>/dev/null; then
  if grep -q '"server": true' "$CONFIG_DIR/consul.json" 2>/dev/null; then
    # A server's token (the management one) may ask it to leave; it leaves raft on the way out.
    if [ -s "$TOKEN_FILE" ]; then export CONSUL_HTTP_TOKEN_FILE="$TOKEN_FILE"; fi
    timeout 60 consul leave >/dev/null 2>&1 && echo "consul-swarm: $(hostname) left the Consul cluster" ||
      echo "consul-swarm: $(hostname) could not leave the Consul cluster gracefully within 60 s; stopping it" >&2
  else
    # A client leaves as it stops (leave_on_terminate); its own token may not ask it to.
    systemctl stop consul && echo "consul-swarm: $(hostname) left the Consul cluster"
  fi
fi
systemctl disable --now consul >/dev/null 2>&1 || true
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DNS_FORWARD=no
consul_dns_forwarding
rm -f /etc/systemd/system/consul.service "$CONFIG_DIR/consul.json" "$CONFIG_DIR/bootstrap.json" "$CONFIG_DIR/bootstrap-expect.json" "$CONFIG_DIR/retry-join.json"
rm -rf "$TLS_DIR"
rmdir "$CONFIG_DIR" 2>/dev/null || true
# The user and group go only where the stack made them (their marks), before the marks go.
if [ -e /var/lib/consul-swarm/consul/user.made-by-stack ] && id -u consul >/dev/null 2>&1; then userdel consul; fi
if [ -e /var/lib/consul-swarm/consul/group.made-by-stack ] && getent group consul >/dev/null 2>&1; then groupdel consul; fi
rm -rf "$DATA_DIR" /var/lib/consul-swarm/consul /var/lib/consul-swarm/applied/consul-service.sha256
systemctl daemon-reload
