#!/usr/bin/env bash
# The baseline for bench/bench-up.sh: the tutorial's steps as a plain sequential script over
# SSH, one host after the other, the way the tutorial does them by hand. Not part of the product.
#   bench/tutorial-by-hand.sh KEYFILE CONSUL_BINARY IP_BOOTSTRAP IP_2 IP_3
set -euo pipefail
key=$1 consul=$2
shift 2
ips=("$@")
SSH=(ssh -i "$key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR)
gossip=$(head -c 32 /dev/urandom | base64)
n=0
for ip in "${ips[@]}"; do
  n=$((n + 1))
  until "${SSH[@]}" -o ConnectTimeout=2 "root@$ip" true 2>/dev/null; do sleep 1; done
  # 1. the Docker daemon's TCP API next to its socket
  "${SSH[@]}" "root@$ip" 'set -e
    mkdir -p /etc/systemd/system/docker.service.d
    echo "{\"hosts\": [\"unix:///var/run/docker.sock\", \"tcp://0.0.0.0:2375\"]}" > /etc/docker/daemon.json
    printf "[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd\n" > /etc/systemd/system/docker.service.d/tcp.conf
    systemctl daemon-reload && systemctl restart docker
    until curl -sf http://127.0.0.1:2375/_ping >/dev/null; do sleep 1; done'
  # 2. Consul: binary, config, unit; -bootstrap on the first server only
  "${SSH[@]}" "root@$ip" 'cat > /usr/local/bin/consul && chmod 0755 /usr/local/bin/consul' < "$consul"
  boot=false
  [ "$n" -eq 1 ] && boot=true
  "${SSH[@]}" "root@$ip" "set -e
    mkdir -p /etc/consul.d /opt/consul
    cat > /etc/consul.d/consul.json <<CFG
{\"server\": true, \"bootstrap\": $boot, \"node_name\": \"\$(hostname)\", \"datacenter\": \"dc1\", \"data_dir\": \"/opt/consul\",
 \"bind_addr\": \"$ip\", \"client_addr\": \"0.0.0.0\", \"ui_config\": {\"enabled\": true}, \"encrypt\": \"$gossip\"}
CFG
    printf '[Service]\nExecStart=/usr/local/bin/consul agent -config-dir=/etc/consul.d\n[Install]\nWantedBy=multi-user.target\n' > /etc/systemd/system/consul.service
    systemctl daemon-reload && systemctl enable --now consul
    until curl -sf http://127.0.0.1:8500/v1/agent/self >/dev/null; do sleep 1; done"
done
# 3. consul join from the bootstrap server, then check members and the catalog
"${SSH[@]}" "root@${ips[0]}" "consul join ${ips[*]:1} >/dev/null
  until [ \$(consul members -status=alive | tail -n +2 | wc -l) -eq ${#ips[@]} ] &&
        [ \$(curl -sf http://127.0.0.1:8500/v1/status/peers | tr ',' '\n' | grep -c :) -eq ${#ips[@]} ]; do sleep 1; done"
# 4. swarm: init on the manager, tokens through Consul KV, agents join
"${SSH[@]}" "root@${ips[0]}" "docker swarm init --advertise-addr ${ips[0]} >/dev/null
  docker swarm join-token -q worker | consul kv put swarm/worker-token - >/dev/null"
for ip in "${ips[@]:1}"; do
  "${SSH[@]}" "root@$ip" "docker swarm join --token \$(consul kv get swarm/worker-token) ${ips[0]}:2377 >/dev/null"
done
"${SSH[@]}" "root@${ips[0]}" "until [ \$(docker node ls --format '{{.Status}}' | grep -c Ready) -eq ${#ips[@]} ]; do sleep 1; done"
