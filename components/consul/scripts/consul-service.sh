# Config, unit and start of one agent. Every decision comes from the host's real state, so a run
# killed at any line is finished by the next: the agent restarts when it runs with files older
# than those on disk (the unit stamps $CONSUL_STARTED on each start), not when this run wrote them.
step_lock consul-service
STATE=/var/lib/consul-swarm/consul
mkdir -p "$STATE" "$CONFIG_DIR"
# What the running agent was started (or last reloaded) with, root-only (it holds the gossip key
# and tokens): noted whenever the agent is known to run with the files on disk (a restart put off
# and done by the deferred-restart step is noted by the next run, before it writes anything).
RUNNING_CONFIG="$STATE/consul.json.running"
consul_note_running_config() {
  consul_agent_current || return 0
  cmp -s "$CONFIG_DIR/consul.json" "$RUNNING_CONFIG" || install -m 0600 "$CONFIG_DIR/consul.json" "$RUNNING_CONFIG"
}
# The consul user and group are the stack's only where it made them: the mark goes first, so a run
# killed between the two leaves the mark, and the removal takes out only what the stack made.
getent group consul >/dev/null 2>&1 || { touch "$STATE/group.made-by-stack"; groupadd --system consul; }
id -u consul >/dev/null 2>&1 || { touch "$STATE/user.made-by-stack"; useradd --system --gid consul --home-dir "$DATA_DIR" --shell /bin/false consul; }
mkdir -p "$DATA_DIR"
chown consul:consul "$DATA_DIR"
chmod 0750 "$DATA_DIR"
echo "$BINARY_SHA  /usr/local/bin/consul" | sha256sum -c --quiet - >/dev/null 2>&1 || {
  echo "consul-swarm: /usr/local/bin/consul on $NODE is not the binary expected (SHA-256 $BINARY_SHA)" >&2
  exit 5
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The config arrives on stdin (it holds the gossip key and the ACL token, which never touch a
# command line), behind the agent's TLS material when TLS is on: CA, certificate, key, in PEM.
umask 077
mkdir "$tmp/new"
awk -v d="$tmp" '
  /^-----BEGIN / { n++; f = d "/pem" n }
  f { print > f; if (/^-----END /) f = ""; next }
  { print > (d "/new/consul.json") }'
umask 022
[ -s "$tmp/new/consul.json" ] || { echo "consul-swarm: no agent config on stdin" >&2; exit 3; }
# With ACLs on, the stack's own checks on this host use a token from a root-only file (read by the
# consul CLI through CONSUL_HTTP_TOKEN_FILE, never passed on a command line): on a server the
# management token its config holds anyway, on a client its agent token.
script_token=$(sed -n 's/^ *"initial_management": "\([^"]*\)",\{0,1\}$/\1/p' "$tmp/new/consul.json")
[ -n "$script_token" ] || script_token=$(sed -n 's/^ *"agent": "\([^"]*\)",\{0,1\}$/\1/p' "$tmp/new/consul.json")
if [ -n "$script_token" ]; then
  (umask 077 && printf '%s' "$script_token" > "$TOKEN_FILE")
  export CONSUL_HTTP_TOKEN_FILE="$TOKEN_FILE"
else
  rm -f "$TOKEN_FILE"
fi
if [ -e "$tmp/pem1" ]; then
  mkdir -p "$TLS_DIR"
  chown root:consul "$TLS_DIR"
  chmod 0750 "$TLS_DIR"
  for pair in pem1:ca.pem pem2:cert.pem pem3:key.pem; do
    src="$tmp/${pair%%:*}" dst="$TLS_DIR/${pair#*:}"
    [ -s "$src" ] || { echo "consul-swarm: the TLS material on stdin lacks ${pair#*:}" >&2; exit 3; }
    cmp -s "$src" "$dst" || install -m 0640 -o root -g consul "$src" "$dst"
  done
else
  rm -rf "$TLS_DIR"
fi
# retry_join and bootstrap_expect (rendered by the program, see render.ts) are read at a start only,
# so each has a file of its own and a change of either alone restarts nothing.
[ -z "$RETRY_JOIN_JSON" ] || printf '%s' "$RETRY_JOIN_JSON" > "$tmp/new/retry-join.json"
[ -z "$BOOTSTRAP_EXPECT_JSON" ] || printf '%s' "$BOOTSTRAP_EXPECT_JSON" > "$tmp/new/bootstrap-expect.json"
# A config Consul would refuse never reaches the running agent: checked first, the way the agent
# itself will read it (the TLS files it names are in place by now).
if ! out=$(consul validate "$tmp/new" 2>&1); then
  echo "consul-swarm: Consul on $NODE refuses the new config; nothing was changed or restarted:" >&2
  printf '%s\n' "$out" | grep -v -i -e token -e encrypt >&2
  exit 3
fi
consul_note_running_config
if ! cmp -s "$tmp/new/consul.json" "$CONFIG_DIR/consul.json"; then
  # Kept until this run has dealt with what changed (a rename, below).
  [ ! -e "$CONFIG_DIR/consul.json" ] || [ -e "$CONFIG_DIR/consul.json.prev" ] || cp -p "$CONFIG_DIR/consul.json" "$CONFIG_DIR/consul.json.prev"
  install -m 0640 -o root -g consul "$tmp/new/consul.json" "$CONFIG_DIR/consul.json"
fi
if [ -e "$tmp/new/bootstrap-expect.json" ]; then
  cmp -s "$tmp/new/bootstrap-expect.json" "$CONFIG_DIR/bootstrap-expect.json" ||
    install -m 0640 -o root -g consul "$tmp/new/bootstrap-expect.json" "$CONFIG_DIR/bootstrap-expect.json"
else
  rm -f "$CONFIG_DIR/bootstrap-expect.json"
fi
if [ -e "$tmp/new/retry-join.json" ]; then
  cmp -s "$tmp/new/retry-join.json" "$CONFIG_DIR/retry-join.json" ||
    install -m 0640 -o root -g consul "$tmp/new/retry-join.json" "$CONFIG_DIR/retry-join.json"
else
  rm -f "$CONFIG_DIR/retry-join.json"
fi
printf '%s' "$UNIT" > "$tmp/consul.service"
if ! cmp -s "$tmp/consul.service" /etc/systemd/system/consul.service; then
  install -m 0644 "$tmp/consul.service" /etc/systemd/system/consul.service
  systemctl daemon-reload
fi
# -bootstrap only on the very first start of a tutorial-mode cluster: never once raft holds data
# (it could elect itself alone after a restart), and never on a rebuilt machine whose cluster
# still exists elsewhere: that one is joined to it instead. A server that knows raft peers holds
# the cluster's data even with no leader (its quorum lost): a bootstrap beside it would start a
# second, empty cluster, and the old servers, once they follow its leader, would drop every key.
cluster_runs_elsewhere() {
  for peer in $PEERS; do
    for ask in leader peers; do
      answer=$(curl -s -m 3 "http://$peer:8500/v1/status/$ask" 2>/dev/null ||
        curl -s -m 3 --cacert "$TLS_DIR/ca.pem" "https://$peer:8501/v1/status/$ask" 2>/dev/null || true)
      case "$answer" in *:*) return 0 ;; esac
    done
  done
  return 1
}
if [ -n "$BOOTSTRAP_JSON" ] && [ ! -e "$DATA_DIR/raft/raft.db" ] && ! cluster_runs_elsewhere; then
  printf '%s' "$BOOTSTRAP_JSON" > "$tmp/bootstrap.json"
  cmp -s "$tmp/bootstrap.json" "$CONFIG_DIR/bootstrap.json" ||
    install -m 0640 -o root -g consul "$tmp/bootstrap.json" "$CONFIG_DIR/bootstrap.json"
else
  rm -f "$CONFIG_DIR/bootstrap.json"
fi
systemctl enable consul >/dev/null 2>&1
# A renamed host (the config's node name changed) leaves under its old name and comes back as a
# new node: Consul knows a node by its id, and an old name that keeps the live node's id would,
# once reaped, take that server out of raft. Never the last server: a cluster of one keeps its data.
old_node=$(sed -n 's/^ *"node_name": "\([^"]*\)",\{0,1\}$/\1/p' "$CONFIG_DIR/consul.json.prev" 2>/dev/null || true)
if [ -n "$old_node" ] && [ "$old_node" != "$NODE" ] && { [ "$SERVER" = no ] || [ -n "$PEERS" ]; }; then
  echo "consul-swarm: renamed from $old_node to $NODE: it leaves as $old_node and joins again as a new node"
  if systemctl is-active --quiet consul; then
    if grep -q '"server": true' "$CONFIG_DIR/consul.json.prev"; then timeout 60 consul leave >/dev/null 2>&1 || true; fi
    systemctl stop consul
  fi
  rm -rf "$DATA_DIR/node-id" "$DATA_DIR/raft" "$DATA_DIR/serf" "$DATA_DIR/checkpoint-signature"
fi
rm -f "$CONFIG_DIR/consul.json.prev"
joined_before=no
consul_has_joined_before && joined_before=yes
# With TLS on, Consul reloads its TLS material and its RPC verify flags on SIGHUP: a renewal, or a
# TLS stage between 1 and 3 (components/consul/tlsStages.ts), keeps the agent running and holds no
# election. Only when nothing else changed since it started: the TLS files, and the config but
# for the verify flags (compared with the copy of what it runs with; none: restarted instead).
consul_change_reloadable() {
  systemctl is-active --quiet consul || return 1
  [ -e "$CONSUL_STARTED" ] && [ -e "$TLS_DIR/cert.pem" ] && [ -n "$TLS_RPC" ] || return 1
  newer=$(consul_files_newer_than_start)
  [ -n "$newer" ] && [ -z "$(printf '%s\n' "$newer" | grep -v -e "^$TLS_DIR/" -e "^$CONFIG_DIR/consul.json\$")" ] || return 1
  flags_changed=no
  if printf '%s\n' "$newer" | grep -qx "$CONFIG_DIR/consul.json"; then
    [ -e "$RUNNING_CONFIG" ] && grep -q '"cert_file"' "$RUNNING_CONFIG" || return 1
    [ "$(consul_config_without_tls_flags "$RUNNING_CONFIG")" = "$(consul_config_without_tls_flags "$CONFIG_DIR/consul.json")" ] || return 1
    flags_changed=yes
  fi
}
consul_config_without_tls_flags() {
  grep -v -e '"verify_incoming":' -e '"verify_outgoing":' -e '"verify_server_hostname":' "$1"
}
# Proved by what the agent then serves and runs with: its certificate on 8501, and when they
# changed its RPC flags in its runtime config (read with agent:read: a client's own token lacks
# it, so a client whose flags changed is restarted instead).
consul_serves_certificate() {
  want=$(openssl x509 -noout -serial -in "$TLS_DIR/cert.pem" 2>/dev/null) || return 1
  got=$(openssl s_client -connect 127.0.0.1:8501 </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null) || return 1
  [ -n "$want" ] && [ "$want" = "$got" ]
}
consul_runs_tls_flags() {
  rpc=$(consul_api /v1/agent/self 2>/dev/null | tr -d ' \n' | grep -o '"InternalRPC":{[^}]*}') || return 1
  for flag in $TLS_RPC; do
    case "$rpc" in *"$flag"*) ;; *) return 1 ;; esac
  done
}
if consul_change_reloadable && command -v openssl >/dev/null 2>&1; then
  systemctl kill -s HUP consul
  if retry_for 10 consul_serves_certificate && { [ "$flags_changed" = no ] || retry_for 10 consul_runs_tls_flags; }; then
    echo "consul-swarm: consul on $NODE took its new TLS files or flags by a reload (no restart)"
    touch "$CONSUL_STARTED"
  fi
fi
deferred=no
# A running server of a cluster that cannot lose it now (see consul_may_leave): asked once.
current=no
consul_agent_current && current=yes
degraded=no
if [ "$current" = no ] && systemctl is-active --quiet consul && [ "$joined_before" = yes ] && ! consul_may_leave; then
  degraded=yes
fi
if [ "$current" = yes ]; then
  :
elif systemctl is-active --quiet consul && [ "$SERVER" = yes ] && [ "$joined_before" = yes ] && consul_is_leader && [ "$(consul_voters | wc -l)" -gt 1 ]; then
  # The leader goes last, after every other server (its deferred-restart step): one election per roll.
  echo "consul-swarm: consul on $NODE leads the cluster: it restarts after the other servers"
  deferred=yes
elif [ "$degraded" = yes ]; then
  # Its restart now would cost the quorum: the servers that are unhealthy go first (their own
  # steps), and this one after every other server's step, if the cluster can lose it by then.
  echo "consul-swarm: the cluster is degraded (not healthy: ${degraded_why:-unknown}): consul on $NODE restarts after the other servers, if the cluster can lose it by then"
  deferred=yes
elif systemctl is-active --quiet consul; then
  echo "consul-swarm: restarting consul on $NODE (it runs with an older config, unit or binary)"
  consul_restart_gracefully
else
  echo "consul-swarm: starting consul on $NODE"
  systemctl start consul
fi
if [ "$degraded" = yes ]; then
  # Left running as it was (the leader's or a healthy server's restart put off) in a degraded
  # cluster: a later server's step (perhaps the unhealthy one's) must run for the cluster to be
  # healthy again, so this one does not wait for that.
  :
elif [ "$joined_before" = yes ]; then
  # Part of a cluster: whether this run restarted it or not (a run killed after a restart), the
  # next server goes only once this one is back, a voter, and the cluster healthy.
  consul_wait_healthy
else
  # Never joined yet (a first start, a new machine): up means the HTTP API answers at all; before
  # the join step it answers "" (a server) or 500 "No known Consul servers" (a client).
  http_answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8500/v1/status/leader 2>/dev/null)" != 000 ]; }
  retry_for 60 http_answers || {
    echo "consul-swarm: consul on $NODE did not answer on 127.0.0.1:8500 within 60 s" >&2
    journalctl -u consul --no-pager -n 30 >&2 || true
    exit 6
  }
fi
# Started, restarted, reloaded, or current already (a server whose restart was put off is not).
consul_note_running_config
consul_dns_forwarding
find "$CONFIG_DIR" /etc/systemd/system/consul.service -type f ! -name retry-join.json ! -name bootstrap.json ! -name bootstrap-expect.json ! -name '*.prev' |
  record_files consul-service
# Each run says it ran, so the deferred-restart step after every server looks again.
echo "consul=active node=$NODE deferred=$deferred run=$(date +%s%N)"
