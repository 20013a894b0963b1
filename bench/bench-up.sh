#!/usr/bin/env bash
# Benchmark (not a test): how long the stack takes on three lab hosts, each figure against a
# baseline run in the same go:
#   1. cold `pulumi up` (lab hosts, Docker API, Consul, join, swarm); a no-op `pulumi up` and
#      `pulumi preview`, and an up that changes one host (its Docker API address): ratios to it;
#   2. the critical path: bench/critical-path-by-hand.sh reaches the same end state by hand, every
#      host in parallel, doing only what the chain needs (its lab hosts started the same way);
#      both again with consul.bootstrapMode: expect (no server waits for autopilot to promote it);
#   3. the tutorial's steps as a plain sequential script over SSH (bench/tutorial-by-hand.sh);
#   4. bench/cold-up.svg: the cold up as one bar per step over time, its critical path marked.
# Uses its own backend, subnet (10.215.0.0/24) and names (consul-swarm-bench*), and removes them.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
cd "$CONSUL_SWARM_REPO"
consul_swarm_env
bash scripts/dockerd-start.sh >/dev/null
IMAGE=$(bash lab/image/build.sh)
export PULUMI_BACKEND_URL="file://$CONSUL_SWARM_STATE/bench-backend" PULUMI_CONFIG_PASSPHRASE=consul-swarm-bench
NET=consul-swarm-bench SUBNET=10.215.0.0/24
IPS=(10.215.0.111 10.215.0.112 10.215.0.113) NAMES=(consulsvr consul01 consul02)
WORK=
cleanup() {
  pulumi destroy --yes --stack bench >/dev/null 2>&1 || true
  pulumi stack rm --yes --stack bench >/dev/null 2>&1 || true
  consul_swarm_remove_lab consul-swarm-bench
  [ -z "$WORK" ] || rm -rf "$WORK"
  rm -rf "$CONSUL_SWARM_STATE/bench-backend" Pulumi.bench.yaml
}
trap cleanup EXIT
cleanup
WORK=$(mktemp -d)
mkdir -p "$CONSUL_SWARM_STATE/bench-backend"

hosts_json=$(node -e 'const [ips,names]=[process.argv[1].split(" "),process.argv[2].split(" ")];
  console.log(JSON.stringify(names.map((n,i)=>({name:n,address:ips[i],roles:["consul-server", i===0?"swarm-manager":"swarm-agent"],bootstrap:i===0}))))' "${IPS[*]}" "${NAMES[*]}")
pulumi stack init bench >/dev/null
pulumi config set --stack bench consul-swarm:lab "{\"subnet\":\"$SUBNET\",\"networkName\":\"$NET\"}"
pulumi config set --stack bench consul-swarm:consul '{"version":"1.14.11","install":{"source":"toolchain"}}'
pulumi config set --stack bench consul-swarm:hosts "$hosts_json"

echo "bench: cold pulumi up on 3 lab hosts..." >&2
# The engine's event log (a debug flag of the CLI) gives the picture of this up.
t0=$(now)
PULUMI_DEBUG_COMMANDS=true pulumi up --yes --skip-preview --stack bench --event-log "$WORK/cold.jsonl" >"$WORK/cold.log" 2>&1
t1=$(now)
pulumi stack export --stack bench > "$WORK/cold-state.json"
node --import tsx bench/timeline.ts "$WORK/cold.jsonl" "$WORK/cold-state.json" "cold pulumi up of three lab hosts ($(date -u +%F))" > bench/cold-up.svg
echo "bench: no-op pulumi up..." >&2
pulumi up --yes --skip-preview --stack bench >"$WORK/noop.log" 2>&1; t2=$(now)
grep -q "unchanged" "$WORK/noop.log" && ! grep -qE "^\s+[~+-] [0-9]+ (to )?(updated|created|deleted|replaced)" "$WORK/noop.log" ||
  { echo "bench: the second up was not a no-op:" >&2; tail -20 "$WORK/noop.log" >&2; exit 1; }
echo "bench: no-op pulumi preview..." >&2
tp0=$(now); pulumi preview --stack bench >"$WORK/preview.log" 2>&1; tp1=$(now)
echo "bench: an up that changes one host (consul01's Docker API on its own address)..." >&2
changed_hosts=$(node -e 'const h = JSON.parse(process.argv[1]); h[1].docker = { bindAddress: h[1].address }; console.log(JSON.stringify(h))' "$hosts_json")
pulumi config set --stack bench consul-swarm:hosts "$changed_hosts"
tc0=$(now); pulumi up --yes --skip-preview --stack bench >"$WORK/change.log" 2>&1; tc1=$(now)
# Every step the up touched (its progress lines name them) is one of consul01's.
touched=$(sed -nE 's/^ +[~+-]+ +[^ ]+ +([^ ]+) +(updat|creat|delet|replac).*/\1/p' "$WORK/change.log" | sort -u)
[ -n "$touched" ] && ! printf '%s\n' "$touched" | grep -qv '^consul01-' ||
  { echo "bench: the one-host change touched other steps:" >&2; printf '%s\n' "$touched" >&2; tail -20 "$WORK/change.log" >&2; exit 1; }
pulumi destroy --yes --stack bench >/dev/null 2>&1

echo "bench: cold pulumi up with consul.bootstrapMode: expect (every server bootstrap_expect = 3)..." >&2
pulumi config set --stack bench consul-swarm:hosts "$(node -e 'const h = JSON.parse(process.argv[1]); for (const x of h) delete x.bootstrap; console.log(JSON.stringify(h))' "$hosts_json")"
pulumi config set --stack bench consul-swarm:consul '{"version":"1.14.11","install":{"source":"toolchain"},"bootstrapMode":"expect"}'
te0=$(now); pulumi up --yes --skip-preview --stack bench >"$WORK/cold-expect.log" 2>&1; te1=$(now)
pulumi destroy --yes --stack bench >/dev/null 2>&1

echo "bench: the tutorial's steps by hand (sequential script over SSH)..." >&2
ssh-keygen -q -t ed25519 -N '' -f "$WORK/key"
caps=$(node -e 'console.log(require("./lab/capabilities.json").add.map(c=>"--cap-add="+c).join(" "))')
start_lab_hosts() {
  docker network create --subnet "$SUBNET" "$NET" >/dev/null
  for i in 0 1 2; do
    # shellcheck disable=SC2086
    docker run -d --name "$NET-${NAMES[$i]}" --hostname "${NAMES[$i]}" --network "$NET" --ip "${IPS[$i]}" $caps \
      --security-opt seccomp=unconfined --security-opt apparmor=unconfined --tmpfs /run --tmpfs /run/lock \
      -v /sys/fs/cgroup:/sys/fs/cgroup:rw --cgroupns host -v "$NET-${NAMES[$i]}-docker:/var/lib/docker" \
      -e "LAB_AUTHORIZED_KEYS=$(cat "$WORK/key.pub")" "$IMAGE" >/dev/null
  done
}
t3=$(now)
start_lab_hosts
bash bench/tutorial-by-hand.sh "$WORK/key" "$CONSUL_SWARM_TOOLBIN/consul" "${IPS[@]}"
t4=$(now)
consul_swarm_remove_lab consul-swarm-bench

echo "bench: the critical path by hand (every host in parallel, the stack's end state)..." >&2
t5=$(now)
start_lab_hosts
bash bench/critical-path-by-hand.sh "$WORK/key" "$CONSUL_SWARM_TOOLBIN/consul" "$WORK" "${IPS[@]}"
t6=$(now)
consul_swarm_remove_lab consul-swarm-bench

echo "bench: the critical path by hand with bootstrap_expect on every server..." >&2
t7=$(now)
start_lab_hosts
BOOTSTRAP_MODE=expect bash bench/critical-path-by-hand.sh "$WORK/key" "$CONSUL_SWARM_TOOLBIN/consul" "$WORK" "${IPS[@]}"
t8=$(now)

cold=$(secs "$t0" "$t1") noop=$(secs "$t1" "$t2") preview=$(secs "$tp0" "$tp1") change=$(secs "$tc0" "$tc1")
byhand=$(secs "$t3" "$t4") chain=$(secs "$t5" "$t6") cold_expect=$(secs "$te0" "$te1") chain_expect=$(secs "$t7" "$t8")
row() { printf '%-58s %8s %s\n' "$1" "$2" "${3:-}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
row "cold pulumi up (3 lab hosts, Consul, Swarm)" "$cold" s
row "critical path by hand (hosts in parallel, same end state)" "$chain" s
row "  ratio cold up / critical path (goal <= 1.5)" "$(ratio "$cold" "$chain")"
row "no-op pulumi up" "$noop" s
row "  ratio no-op up / cold up (goal <= 0.1)" "$(ratio "$noop" "$cold")"
row "no-op pulumi preview" "$preview" s
row "  ratio no-op preview / cold up (goal <= 0.1)" "$(ratio "$preview" "$cold")"
row "up changing one host (consul01's Docker API address)" "$change" s
row "  ratio one-host change / cold up (goal <= 0.3)" "$(ratio "$change" "$cold")"
row "  steps it touched" "$(printf '%s' "$touched" | tr '\n' ' ')"
row "cold pulumi up, consul.bootstrapMode: expect" "$cold_expect" s
row "critical path by hand, bootstrap_expect on every server" "$chain_expect" s
row "  ratio cold up (expect) / its critical path (goal <= 1.5)" "$(ratio "$cold_expect" "$chain_expect")"
row "  ratio cold up (expect) / cold up (tutorial)" "$(ratio "$cold_expect" "$cold")"
row "tutorial steps by hand (sequential script)" "$byhand" s
row "  ratio cold up / sequential script" "$(ratio "$cold" "$byhand")"
