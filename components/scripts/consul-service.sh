STATE=/var/lib/consul-swarm/consul
mkdir -p "$STATE" "$CONFIG_DIR"
getent group consul >/dev/null 2>&1 || groupadd --system consul
id -u consul >/dev/null 2>&1 || useradd --system --gid consul --home-dir "$DATA_DIR" --shell /bin/false consul
mkdir -p "$DATA_DIR"
chown consul:consul "$DATA_DIR"
chmod 0750 "$DATA_DIR"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The config arrives on stdin (it holds the gossip key and the ACL token, which never touch a
# command line), behind the agent's TLS material when TLS is on: CA, certificate, key, in PEM.
umask 077
awk -v d="$tmp" '
  /^-----BEGIN / { n++; f = d "/pem" n }
  f { print > f; if (/^-----END /) f = ""; next }
  { print > (d "/consul.json") }'
umask 022
[ -s "$tmp/consul.json" ] || { echo "consul-swarm: no agent config on stdin" >&2; exit 3; }
# With ACLs on, the stack's own checks on this host use a token from a root-only file (read by the
# consul CLI through CONSUL_HTTP_TOKEN_FILE, never passed on a command line): on a server the
# management token its config holds anyway, on a client its agent token.
script_token=$(sed -n 's/^ *"initial_management": "\([^"]*\)",\{0,1\}$/\1/p' "$tmp/consul.json")
[ -n "$script_token" ] || script_token=$(sed -n 's/^ *"agent": "\([^"]*\)",\{0,1\}$/\1/p' "$tmp/consul.json")
if [ -n "$script_token" ]; then
  (umask 077 && printf '%s' "$script_token" > "$TOKEN_FILE")
  export CONSUL_HTTP_TOKEN_FILE="$TOKEN_FILE"
else
  rm -f "$TOKEN_FILE"
fi
changed=no
if ! cmp -s "$tmp/consul.json" "$CONFIG_DIR/consul.json"; then
  install -m 0640 -o root -g consul "$tmp/consul.json" "$CONFIG_DIR/consul.json"
  changed=yes
fi
if [ -e "$tmp/pem1" ]; then
  mkdir -p "$TLS_DIR"
  chown root:consul "$TLS_DIR"
  chmod 0750 "$TLS_DIR"
  for pair in pem1:ca.pem pem2:cert.pem pem3:key.pem; do
    src="$tmp/${pair%%:*}" dst="$TLS_DIR/${pair#*:}"
    [ -s "$src" ] || { echo "consul-swarm: the TLS material on stdin lacks ${pair#*:}" >&2; exit 3; }
    if ! cmp -s "$src" "$dst"; then
      install -m 0640 -o root -g consul "$src" "$dst"
      changed=yes
    fi
  done
else
  rm -rf "$TLS_DIR"
fi
printf '%s' "$UNIT" > "$tmp/consul.service"
if ! cmp -s "$tmp/consul.service" /etc/systemd/system/consul.service; then
  install -m 0644 "$tmp/consul.service" /etc/systemd/system/consul.service
  systemctl daemon-reload
  changed=yes
fi
if [ "$(cat "$STATE/binary.sha256" 2>/dev/null || true)" != "$BINARY_SHA" ]; then
  changed=yes
fi
# -bootstrap only on the very first start: once raft holds data, a server that still bootstraps
# can elect itself alone after a restart and split the cluster.
if [ "$BOOTSTRAP" = yes ] && [ ! -e "$DATA_DIR/raft/raft.db" ]; then
  printf '{"bootstrap": true}\n' > "$tmp/bootstrap.json"
  install -m 0640 -o root -g consul "$tmp/bootstrap.json" "$CONFIG_DIR/bootstrap.json"
else
  rm -f "$CONFIG_DIR/bootstrap.json"
fi
systemctl enable consul >/dev/null 2>&1
if systemctl is-active --quiet consul; then
  if [ "$changed" = yes ]; then
    echo "consul-swarm: restarting consul on $NODE (its config or binary changed)"
    systemctl restart consul
    consul_wait_rejoined
  fi
else
  systemctl start consul
  # Up means the HTTP API answers at all: /v1/status/leader needs no ACL token, and before the
  # agent has joined it answers "" (a server) or 500 "No known Consul servers" (a client).
  http_answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8500/v1/status/leader 2>/dev/null)" != 000 ]; }
  retry_for 60 http_answers || {
    echo "consul-swarm: consul on $NODE did not answer on 127.0.0.1:8500 within 60 s" >&2
    journalctl -u consul --no-pager -n 30 >&2 || true
    exit 6
  }
fi
printf '%s' "$BINARY_SHA" > "$STATE/binary.sha256"
echo "consul=active node=$NODE"
