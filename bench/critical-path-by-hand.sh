#!/usr/bin/env bash
# The critical-path baseline for bench/bench-up.sh: the least a cold up of three hosts has to
# wait for, done by hand with every host in parallel, to the same end state as the stack's verify
# steps: Docker's API on TLS, Consul with gossip encryption and ACLs (default deny, each agent
# with a token so it registers), -bootstrap on the first server, join, a leader with every server
# a voter and autopilot healthy, every node in the catalog, then a swarm found through Consul KV
# with every node Ready. Nothing here is skipped that the chain needs; nothing the chain does not
# need is done (no drift records, no ownership, no snapshots). Consul's settings that set how long
# the chain waits are the stack's (autopilot's server_stabilization_time). Not part of the product.
#   [SERVERS=N] [BOOTSTRAP_MODE=expect] bench/critical-path-by-hand.sh KEYFILE CONSUL_BINARY WORKDIR IP_BOOTSTRAP IP...
# The first N addresses (default: all) are Consul servers, the rest clients; every host is in the
# swarm, the first its manager. BOOTSTRAP_MODE=expect gives every server bootstrap_expect = N
# instead of -bootstrap on the first (the stack's consul.bootstrapMode: expect).
# The hosts are started by the caller just before (their boot is in the time); this waits for SSH.
set -euo pipefail
key=$1 consul=$2 work=$3
shift 3
ips=("$@")
seed=${ips[0]}
servers=${SERVERS:-${#ips[@]}}
mode=${BOOTSTRAP_MODE:-tutorial}
SSH=(ssh -i "$key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR)
gossip=$(head -c 32 /dev/urandom | base64)
mgmt=$(cat /proc/sys/kernel/random/uuid)
peers=$(printf '"%s",' "${ips[@]:0:$servers}" | sed 's/,$//')

# Docker TLS material, made locally while the hosts boot (the stack makes its CAs the same way).
tls="$work/tls"
mkdir -p "$tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=bench-ca \
  -keyout "$tls/ca-key.pem" -out "$tls/ca.pem" 2>/dev/null
for ip in "${ips[@]}"; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$ip" \
    -keyout "$tls/$ip-key.pem" -out "$tls/$ip.csr" 2>/dev/null
  openssl x509 -req -in "$tls/$ip.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" -CAcreateserial -days 2 \
    -extfile <(printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$ip") -out "$tls/$ip-cert.pem" 2>/dev/null
done

# One host's own chain: SSH, then the binary's upload beside dockerd's TLS restart, then Consul.
host_chain() {
  ip=$1 boot=$2 server=$3
  bootstrap="\"bootstrap\": $boot"
  if [ "$mode" = expect ] && [ "$server" = true ]; then
    bootstrap="\"bootstrap_expect\": $servers"
  fi
  until "${SSH[@]}" -o ConnectTimeout=1 "root@$ip" true 2>/dev/null; do sleep 0.2; done
  "${SSH[@]}" "root@$ip" 'cat > /usr/local/bin/consul && chmod 0755 /usr/local/bin/consul' < "$consul" &
  upload=$!
  cat "$tls/ca.pem" "$tls/$ip-cert.pem" "$tls/$ip-key.pem" | "${SSH[@]}" "root@$ip" 'set -e
    mkdir -p /etc/docker/tls /etc/systemd/system/docker.service.d
    awk "/BEGIN/ { n++ } { print > (\"/etc/docker/tls/\" (n == 1 ? \"ca\" : n == 2 ? \"cert\" : \"key\") \".pem\") }"
    printf "%s\n" "{\"hosts\": [\"unix:///var/run/docker.sock\", \"tcp://0.0.0.0:2376\"], \"tls\": true, \"tlsverify\": true,
      \"tlscacert\": \"/etc/docker/tls/ca.pem\", \"tlscert\": \"/etc/docker/tls/cert.pem\", \"tlskey\": \"/etc/docker/tls/key.pem\"}" > /etc/docker/daemon.json
    printf "[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd\n" > /etc/systemd/system/docker.service.d/tcp.conf
    systemctl daemon-reload && systemctl restart docker
    until docker info >/dev/null 2>&1; do sleep 0.2; done'
  wait "$upload"
  # initial_management counts on servers only; a client gets its agent token below like the others.
  "${SSH[@]}" "root@$ip" "set -e
    mkdir -p /etc/consul.d /opt/consul
    printf '%s\n' '{\"server\": $server, $bootstrap, \"node_name\": \"'\$(hostname)'\", \"datacenter\": \"dc1\",
      \"data_dir\": \"/opt/consul\", \"bind_addr\": \"$ip\", \"client_addr\": \"0.0.0.0\", \"ui_config\": {\"enabled\": true},
      \"encrypt\": \"$gossip\", \"retry_join\": [$peers], \"autopilot\": {\"server_stabilization_time\": \"5s\"},
      \"acl\": {\"enabled\": true, \"default_policy\": \"deny\", \"enable_token_persistence\": true,
               \"tokens\": {\"initial_management\": \"$mgmt\"}}}' > /etc/consul.d/consul.json
    printf '[Service]\nExecStart=/usr/local/bin/consul agent -config-dir=/etc/consul.d\n[Install]\nWantedBy=multi-user.target\n' > /etc/systemd/system/consul.service
    systemctl daemon-reload && systemctl enable --now consul >/dev/null 2>&1
    until curl -s -o /dev/null http://127.0.0.1:8500/v1/status/leader; do sleep 0.2; done"
}
pids=()
for i in "${!ips[@]}"; do
  boot=false server=false
  [ "$i" -gt 0 ] || boot=true
  [ "$i" -ge "$servers" ] || server=true
  host_chain "${ips[$i]}" "$boot" "$server" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done

# The tutorial's join, from the bootstrap server to every other agent (an agent that started before
# the servers retries its own join only every 30 s).
others=("${ips[@]:1}")
[ ${#others[@]} -eq 0 ] || "${SSH[@]}" "root@$seed" "export CONSUL_HTTP_TOKEN='$mgmt'
  until consul join ${others[*]} >/dev/null 2>&1; do sleep 0.2; done"

# The agents' token (a leader first), set on every agent so each registers in the catalog.
agent_token=$("${SSH[@]}" "root@$seed" "export CONSUL_HTTP_TOKEN='$mgmt'
  until consul acl policy list >/dev/null 2>&1; do sleep 0.2; done
  consul acl policy create -name agents -rules 'node_prefix \"\" { policy = \"write\" } service_prefix \"\" { policy = \"read\" }' >/dev/null
  consul acl token create -policy-name agents -format json | sed -n 's/.*\"SecretID\": \"\\([^\"]*\\)\".*/\\1/p'")
pids=()
for ip in "${ips[@]}"; do
  "${SSH[@]}" "root@$ip" "export CONSUL_HTTP_TOKEN='$mgmt'
    until consul acl set-agent-token agent '$agent_token' >/dev/null 2>&1; do sleep 0.2; done" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done

# Consul's own proof (every server a voter, autopilot healthy, every node in the catalog) while
# the swarm forms through KV: the two do not wait for each other.
"${SSH[@]}" "root@$seed" "export CONSUL_HTTP_TOKEN='$mgmt'
  until [ \$(consul operator raft list-peers 2>/dev/null | awk 'NR > 1 && \$5 == \"true\"' | wc -l) -eq $servers ] &&
        curl -sf -H 'X-Consul-Token: $mgmt' http://127.0.0.1:8500/v1/operator/autopilot/health | grep -q '^{\"Healthy\":true' &&
        [ \$(consul catalog nodes 2>/dev/null | tail -n +2 | wc -l) -eq ${#ips[@]} ]; do sleep 0.5; done" &
consul_proof=$!
"${SSH[@]}" "root@$seed" "export CONSUL_HTTP_TOKEN='$mgmt'
  docker swarm init --advertise-addr $seed >/dev/null
  docker swarm join-token -q worker | consul kv put swarm/worker-token - >/dev/null"
joins=()
for ip in "${ips[@]:1}"; do
  "${SSH[@]}" "root@$ip" "export CONSUL_HTTP_TOKEN='$mgmt'
    until t=\$(consul kv get swarm/worker-token 2>/dev/null) && [ -n \"\$t\" ]; do sleep 0.2; done
    docker swarm join --token \"\$t\" $seed:2377 >/dev/null" &
  joins+=($!)
done
for p in "${joins[@]}"; do wait "$p"; done
"${SSH[@]}" "root@$seed" "until [ \$(docker node ls --format '{{.Status}}' | grep -c Ready) -eq ${#ips[@]} ]; do sleep 0.5; done"
wait "$consul_proof"
