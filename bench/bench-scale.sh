#!/usr/bin/env bash
# Benchmark (not a test): how the stack grows with hosts. For 3, 7 and 25 lab hosts (3 Consul
# servers, the rest clients; every host in the swarm) it times a cold `pulumi up`, a no-op
# `pulumi up`, a no-op `pulumi refresh` (every drift check reads its host) and the destroy, and
# counts resources and state bytes; ratios are against the 3-host run of the same go. For each
# size it also times bench/critical-path-by-hand.sh on as many fresh lab hosts: the same end state
# by hand, every host in parallel, which shows how much of the growth is this machine's own.
#   bash bench/bench-scale.sh [N...]      (default: 3 7 25)
# Uses its own backend, subnet (10.219.0.0/24) and names (consul-swarm-scale*), and removes them.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
cd "$CONSUL_SWARM_REPO"
consul_swarm_env
bash scripts/dockerd-start.sh >/dev/null
bash lab/kernel-limits.sh
IMAGE=$(bash lab/image/build.sh)
export PULUMI_BACKEND_URL="file://$CONSUL_SWARM_STATE/scale-backend" PULUMI_CONFIG_PASSPHRASE=consul-swarm-scale
NET=consul-swarm-scale SUBNET=10.219.0.0/24
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(3 7 25)
WORK=$(mktemp -d)
cleanup() {
  pulumi destroy --yes --stack scale >/dev/null 2>&1 || true
  pulumi stack rm --yes --stack scale >/dev/null 2>&1 || true
  consul_swarm_remove_lab consul-swarm-scale
  rm -rf "$CONSUL_SWARM_STATE/scale-backend" Pulumi.scale.yaml
}
trap 'cleanup; rm -rf "$WORK"' EXIT
cleanup
mkdir -p "$CONSUL_SWARM_STATE/scale-backend"

# Only counts what changed: a no-op prints "N unchanged" and nothing else in its summary.
is_noop() { ! grep -qE '^\s+[~+-]+ [0-9]+ (to )?(updated|created|deleted|replaced)' "$1"; }

declare -A COLD NOOP REFRESH DESTROY RESOURCES STATE CPU BYHAND
ssh-keygen -q -t ed25519 -N '' -f "$WORK/key"
caps=$(node -e 'console.log(require("./lab/capabilities.json").add.map(c=>"--cap-add="+c).join(" "))')
# N lab hosts started by hand the way the lab component starts them, then the chain by hand.
by_hand() {
  local n=$1 i ips=()
  docker network create --subnet "$SUBNET" "$NET" >/dev/null
  for ((i = 0; i < n; i++)); do
    ips+=("10.219.0.$((11 + i))")
    # shellcheck disable=SC2086
    docker run -d --name "$NET-h$i" --hostname "h$i" --network "$NET" --ip "${ips[$i]}" $caps \
      --security-opt seccomp=unconfined --security-opt apparmor=unconfined --tmpfs /run --tmpfs /run/lock \
      -v /sys/fs/cgroup:/sys/fs/cgroup:rw --cgroupns host -v "$NET-h$i-docker:/var/lib/docker" \
      -e "LAB_AUTHORIZED_KEYS=$(cat "$WORK/key.pub")" "$IMAGE" >/dev/null
  done
  mkdir -p "$WORK/byhand-$n"
  SERVERS=3 bash bench/critical-path-by-hand.sh "$WORK/key" "$CONSUL_SWARM_TOOLBIN/consul" "$WORK/byhand-$n" "${ips[@]}"
}
for n in "${SIZES[@]}"; do
  hosts=$(node -e 'const n = +process.argv[1];
    console.log(JSON.stringify(Array.from({ length: n }, (_, i) => i < 3
      ? { name: `server${i + 1}`, address: `10.219.0.${11 + i}`, roles: ["consul-server", i === 0 ? "swarm-manager" : "swarm-agent"], bootstrap: i === 0 }
      : { name: `client${i - 2}`, address: `10.219.0.${11 + i}`, roles: ["consul-client", "swarm-agent"] })))' "$n")
  pulumi stack init scale >/dev/null
  pulumi config set --stack scale consul-swarm:lab "{\"subnet\":\"$SUBNET\",\"networkName\":\"$NET\"}"
  pulumi config set --stack scale consul-swarm:consul '{"version":"1.14.11","install":{"source":"toolchain"}}'
  pulumi config set --stack scale consul-swarm:hosts "$hosts"
  echo "bench-scale: $n hosts: cold up..." >&2
  t0=$(now)
  # The CPU the CLI and its plugins used (user + sys of the process tree it waits for); the lab
  # hosts' own work runs under dockerd and is not in it.
  cpu0=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$$/stat)
  (pulumi up --yes --skip-preview --stack scale >"$WORK/cold-$n.log" 2>&1) || { tail -30 "$WORK/cold-$n.log" >&2; exit 1; }
  cpu1=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$$/stat)
  t1=$(now)
  CPU[$n]=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) / hz }')
  pulumi up --yes --skip-preview --stack scale >"$WORK/noop-$n.log" 2>&1
  t2=$(now)
  is_noop "$WORK/noop-$n.log" || { echo "bench-scale: the second up of $n hosts was not a no-op:" >&2; tail -20 "$WORK/noop-$n.log" >&2; exit 1; }
  pulumi refresh --yes --skip-preview --stack scale >"$WORK/refresh-$n.log" 2>&1
  t3=$(now)
  is_noop "$WORK/refresh-$n.log" || { echo "bench-scale: the refresh of $n hosts found drift:" >&2; tail -20 "$WORK/refresh-$n.log" >&2; exit 1; }
  pulumi stack export --stack scale > "$WORK/state-$n.json"
  RESOURCES[$n]=$(jq '.deployment.resources | length' "$WORK/state-$n.json")
  STATE[$n]=$(wc -c < "$WORK/state-$n.json")
  t4=$(now)
  pulumi destroy --yes --skip-preview --stack scale >"$WORK/destroy-$n.log" 2>&1
  t5=$(now)
  pulumi stack rm --yes --stack scale >/dev/null
  COLD[$n]=$(secs "$t0" "$t1") NOOP[$n]=$(secs "$t1" "$t2") REFRESH[$n]=$(secs "$t2" "$t3") DESTROY[$n]=$(secs "$t4" "$t5")
  consul_swarm_remove_lab consul-swarm-scale
  echo "bench-scale: $n hosts: the critical path by hand..." >&2
  t6=$(now)
  by_hand "$n" >"$WORK/byhand-$n.log" 2>&1 || { tail -20 "$WORK/byhand-$n.log" >&2; exit 1; }
  t7=$(now)
  BYHAND[$n]=$(secs "$t6" "$t7")
  consul_swarm_remove_lab consul-swarm-scale
done

base=${SIZES[0]}
printf '\n%-6s %10s %14s %10s %12s %10s %10s %12s %14s %14s %11s %14s %12s\n' hosts "cold up s" "CLI CPU s" "no-op s" "refresh s" "destroy s" resources "state KiB" "cold / ${base}h" "no-op / ${base}h" "by hand s" "by hand / ${base}h" "cold / hand"
for n in "${SIZES[@]}"; do
  awk -v n="$n" -v c="${COLD[$n]}" -v cpu="${CPU[$n]}" -v o="${NOOP[$n]}" -v r="${REFRESH[$n]}" -v d="${DESTROY[$n]}" -v res="${RESOURCES[$n]}" -v st="${STATE[$n]}" \
    -v bc="${COLD[$base]}" -v bo="${NOOP[$base]}" -v h="${BYHAND[$n]}" -v bh="${BYHAND[$base]}" \
    'BEGIN { printf "%-6s %10.1f %14.1f %10.1f %12.1f %10.1f %10d %12.0f %13.2fx %13.2fx %11.1f %13.2fx %11.2fx\n", n, c, cpu, o, r, d, res, st / 1024, c / bc, o / bo, h, h / bh, c / h }'
done
if [ ${#SIZES[@]} -gt 1 ]; then
  first=${SIZES[0]} last=${SIZES[${#SIZES[@]}-1]}
  awk -v a="$first" -v b="$last" -v ra="${RESOURCES[$first]}" -v rb="${RESOURCES[$last]}" -v sa="${STATE[$first]}" -v sb="${STATE[$last]}" \
    -v ca="${COLD[$first]}" -v cb="${COLD[$last]}" \
    'BEGIN { printf "\nper added host: %.1f resources, %.1f KiB of state, %.2f s of cold up\n", (rb - ra) / (b - a), (sb - sa) / 1024 / (b - a), (cb - ca) / (b - a) }'
fi
