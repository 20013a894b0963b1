#!/usr/bin/env bash
# Benchmark (not a test): a rolling Consul upgrade of three servers by the stack against the same
# three restarts done one after the other by hand, in the same go, on the same lab hosts:
#   1. a cold `up` on Consul 1.14.8 (not timed);
#   2. `pulumi up` with consul.version 1.14.11: snapshot, installs, followers, the leader last,
#      each server leaving first and waiting for autopilot (timed);
#   3. by hand, one server after the other (the leader last, as a careful operator would): swap the
#      binary back to 1.14.8, `systemctl restart consul`, wait until the server is a raft voter,
#      the cluster has a leader and autopilot reports it healthy (timed).
# Each run's leader elections are counted from the servers' raft term. Uses its own backend, subnet
# (10.222.0.0/24) and names (consul-swarm-benchup*), and removes them.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
cd "$CONSUL_SWARM_REPO"
consul_swarm_env
bash scripts/dockerd-start.sh >/dev/null
bash lab/image/build.sh >/dev/null
export PULUMI_BACKEND_URL="file://$CONSUL_SWARM_STATE/benchup-backend" PULUMI_CONFIG_PASSPHRASE=consul-swarm-bench
STACK=benchup NET=consul-swarm-benchup SUBNET=10.222.0.0/24
IPS=(10.222.0.111 10.222.0.112 10.222.0.113) NAMES=(consulsvr consul01 consul02)
WORK=$(mktemp -d)
# pulumi with its output kept; on a failure the end of it is shown.
run_pulumi() {
  local log=$1
  shift
  pulumi "$@" >"$WORK/$log" 2>&1 || { echo "bench: pulumi $* failed:" >&2; tail -40 "$WORK/$log" >&2; exit 1; }
}
cleanup() {
  pulumi destroy --yes --stack "$STACK" >/dev/null 2>&1 || true
  pulumi stack rm --yes --stack "$STACK" >/dev/null 2>&1 || true
  consul_swarm_remove_lab "$NET"
  rm -rf "$CONSUL_SWARM_STATE/benchup-backend" "Pulumi.$STACK.yaml" "$WORK"
}
trap cleanup EXIT
cleanup
mkdir -p "$CONSUL_SWARM_STATE/benchup-backend" "$WORK"
on() { docker exec "$NET-$1" sh -c "$2"; }
# The highest raft term of the servers (one more per election), read on the hosts with their token.
term() {
  local t=0 x n
  for n in "${NAMES[@]}"; do
    x=$(on "$n" 'CONSUL_HTTP_TOKEN_FILE=/var/lib/consul-swarm/consul/token consul info 2>/dev/null' | awk '$1 == "term" { print $3 }' | head -n 1)
    [ -n "$x" ] && [ "$x" -gt "$t" ] && t=$x
  done
  echo "$t"
}
leader() { on consulsvr 'CONSUL_HTTP_TOKEN_FILE=/var/lib/consul-swarm/consul/token consul operator raft list-peers' | awk '$4 == "leader" { print $1 }'; }

hosts_json=$(node -e 'const [ips,names]=[process.argv[1].split(" "),process.argv[2].split(" ")];
  console.log(JSON.stringify(names.map((n,i)=>({name:n,address:ips[i],roles:["consul-server"],bootstrap:i===0}))))' "${IPS[*]}" "${NAMES[*]}")
pulumi stack init "$STACK" >/dev/null
pulumi config set --stack "$STACK" consul-swarm:lab "{\"subnet\":\"$SUBNET\",\"networkName\":\"$NET\"}"
pulumi config set --stack "$STACK" consul-swarm:consul '{"version":"1.14.8","install":{"source":"toolchain"}}'
pulumi config set --stack "$STACK" consul-swarm:hosts "$hosts_json"
echo "bench: cold up of three servers on Consul 1.14.8..." >&2
run_pulumi cold.log up --yes --skip-preview --stack "$STACK"

echo "bench: rolling upgrade to 1.14.11 by the stack..." >&2
pulumi config set --stack "$STACK" consul-swarm:consul '{"version":"1.14.11","install":{"source":"toolchain"}}'
e0=$(term)
t0=$(now)
run_pulumi upgrade.log up --yes --skip-preview --stack "$STACK"
t1=$(now)
e1=$(term)

echo "bench: the same three restarts by hand, one after the other, the leader last..." >&2
lead=$(leader)
order=()
for n in "${NAMES[@]}"; do [ "$n" = "$lead" ] || order+=("$n"); done
order+=("$lead")
t2=$(now)
for n in "${order[@]}"; do
  docker cp "$CONSUL_SWARM_TOOLBIN/consul-1.14.8" "$NET-$n:/usr/local/bin/consul.new"
  on "$n" 'mv /usr/local/bin/consul.new /usr/local/bin/consul && systemctl restart consul'
  # Back: a raft voter, a leader, and autopilot reporting the cluster healthy (what a careful
  # operator checks before the next server, and what the stack's steps wait for too).
  until on "$n" "CONSUL_HTTP_TOKEN_FILE=/var/lib/consul-swarm/consul/token consul operator raft list-peers 2>/dev/null" |
    awk -v n="$n" '$1 == n && $5 == "true" { v = 1 } $4 == "leader" { l = 1 } END { exit !(v && l) }' &&
    on "$n" 'curl -sf -H "X-Consul-Token: $(cat /var/lib/consul-swarm/consul/token)" http://127.0.0.1:8500/v1/operator/autopilot/health' | grep -q '^{"Healthy":true'; do
    sleep 0.2
  done
done
t3=$(now)
e2=$(term)

roll=$(secs "$t0" "$t1") hand=$(secs "$t2" "$t3")
printf '\n%-60s %8s s  %s election(s)\n' "rolling upgrade, pulumi up (snapshot, leave, autopilot)" "$roll" "$((e1 - e0))"
printf '%-60s %8s s  %s election(s)\n' "3 restarts by hand, one after the other, leader last" "$hand" "$((e2 - e1))"
awk -v r="$roll" -v h="$hand" 'BEGIN { printf "%-60s %8.2f\n", "ratio pulumi rolling upgrade / by hand", r / h }'
