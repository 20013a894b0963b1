#!/usr/bin/env bash
# Manual check of the lab host image (not part of CI): three lab hosts on their own Docker
# network, each reached over SSH as root with a throwaway key, with systemd running, sshd and
# dockerd active and Docker-in-Docker working. Removes everything it made, also on failure.
#
#   lab/smoke.sh            run the check
#   lab/smoke.sh --keep     leave the hosts running afterwards (prints how to reach and remove them)
#
# LAB_SMOKE_SUBNET (default 10.213.99.0/24) picks the network; the hosts get .111 .112 .113.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
SUBNET="${LAB_SMOKE_SUBNET:-10.213.99.0/24}"
PREFIX=cs-smoke
LABEL=consul-swarm.smoke=1
NET="$PREFIX-net"
HOSTS=(1 2 3)
OCTETS=(111 112 113)
KEEP=0
[[ "${1:-}" == --keep ]] && KEEP=1

T0=$SECONDS
log() { printf '[smoke %3ds] %s\n' "$((SECONDS - T0))" "$*"; }
die() { printf '[smoke] FAIL: %s\n' "$*" >&2; exit 1; }

base="${SUBNET%/*}"
base="${base%.*}"
ip_of() { echo "$base.${OCTETS[$1 - 1]}"; }

# Everything this script makes carries the label, so leftovers of a killed run are found too.
remove_all() {
  local ids
  ids="$(docker ps -aq --filter "label=$LABEL")"
  [[ -z "$ids" ]] || docker rm -f -v $ids >/dev/null
  ids="$(docker network ls -q --filter "label=$LABEL")"
  [[ -z "$ids" ]] || docker network rm $ids >/dev/null
  ids="$(docker volume ls -q --filter "label=$LABEL")"
  [[ -z "$ids" ]] || docker volume rm $ids >/dev/null
}

WORK=
cleanup() {
  local rc=$?
  if ((KEEP)) && ((rc == 0)); then
    log "hosts left running (--keep). Log in with: ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -i $WORK/id_ed25519 root@$(ip_of 1)"
    log "remove them with: docker rm -f -v \$(docker ps -aq --filter label=$LABEL); docker network rm $NET; docker volume rm \$(docker volume ls -q --filter label=$LABEL); rm -rf $WORK"
    exit 0
  fi
  log "removing containers, network and volumes"
  remove_all || true
  [[ -z "$WORK" ]] || rm -rf "$WORK"
  if ((rc == 0)); then log "PASS"; else log "FAILED (rc=$rc)"; fi
  exit "$rc"
}

# ---- the subnet must not overlap a route of this machine --------------------------------------
ip2int() { local IFS=.; read -r a b c d <<<"$1"; echo $(((a << 24) | (b << 16) | (c << 8) | d)); }
overlaps() { # overlaps A/n B/m
  local a="${1%/*}" n="${1#*/}" b="${2%/*}" m="${2#*/}" k
  [[ "$1" == */* ]] || n=32
  [[ "$2" == */* ]] || m=32
  k=$((n < m ? n : m))
  local mask=$(((0xffffffff << (32 - k)) & 0xffffffff))
  (($(($(ip2int "$a") & mask)) == $(($(ip2int "$b") & mask))))
}
while read -r dst _; do
  [[ "$dst" == default ]] && continue
  if overlaps "$SUBNET" "$dst"; then
    die "subnet $SUBNET overlaps this machine's route to $dst (ip route): set LAB_SMOKE_SUBNET"
  fi
done < <(ip -4 route show)

# ---- image and key ------------------------------------------------------------------------------
log "image: building or reusing (lab/image/build.sh)"
IMAGE="$("$REPO/lab/image/build.sh")"
log "image: $IMAGE"

trap cleanup EXIT
remove_all # leftovers of an earlier, killed run
WORK="$(mktemp -d)"
ssh-keygen -q -t ed25519 -N '' -C consul-swarm-smoke -f "$WORK/id_ed25519"
SSH=(ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes
  -o ConnectTimeout=3 -o LogLevel=ERROR -i "$WORK/id_ed25519")

# The run options a lab host needs (lab/README.md explains each).
CAPS=()
while IFS= read -r cap; do CAPS+=(--cap-add "$cap"); done < <(
  sed -n '/"add"/,/]/p' "$HERE/capabilities.json" | grep -o '"[A-Z_]*"' | tr -d '"')
((${#CAPS[@]} > 0)) || die "no capabilities read from lab/capabilities.json"
RUN_OPTS=(
  "${CAPS[@]}"
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined
  --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw
  --tmpfs /run --tmpfs /run/lock
  --stop-signal SIGRTMIN+3
)

log "network $NET ($SUBNET)"
docker network create --label "$LABEL" --subnet "$SUBNET" "$NET" >/dev/null

declare -A STARTED
for n in "${HOSTS[@]}"; do
  name="$PREFIX-$n"
  docker volume create --label "$LABEL" "$name-docker" >/dev/null
  STARTED[$n]=$SECONDS
  docker run -d --name "$name" --hostname "$name" --label "$LABEL" \
    --network "$NET" --ip "$(ip_of "$n")" \
    "${RUN_OPTS[@]}" \
    -v "$name-docker:/var/lib/docker" \
    -e LAB_AUTHORIZED_KEYS="$(cat "$WORK/id_ed25519.pub")" \
    "$IMAGE" >/dev/null
  log "started $name at $(ip_of "$n")"
done

# ---- systemd reaches `running` ---------------------------------------------------------------
for n in "${HOSTS[@]}"; do
  name="$PREFIX-$n"
  state=
  while :; do
    state="$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)"
    case "$state" in running | degraded) break ;; esac
    if ((SECONDS - STARTED[$n] > 90)); then
      docker logs "$name" 2>&1 | tail -n 20 >&2 || true
      die "$name: systemd not up after 90 s (state: ${state:-none})"
    fi
    sleep 0.5
  done
  if [[ "$state" != running ]]; then
    docker exec "$name" systemctl --failed --no-pager >&2 || true
    die "$name: systemd is $state (failed units above): fix them in lab/image/build.sh"
  fi
  log "$name: systemd running ($((SECONDS - STARTED[$n])) s after docker run)"
done

# ---- SSH as root with the key; services; Docker in Docker -------------------------------------
for n in "${HOSTS[@]}"; do
  name="$PREFIX-$n" ip="$(ip_of "$n")"
  t=$SECONDS
  until "${SSH[@]}" "root@$ip" true 2>/dev/null; do
    ((SECONDS - t < 30)) || die "$name: no SSH login as root@$ip with the key within 30 s"
    sleep 1
  done
  out="$("${SSH[@]}" "root@$ip" '
    set -e
    echo "hostname=$(hostname)"
    echo "active=$(systemctl is-active ssh docker | tr "\n" " ")"
    echo "docker=$(docker info --format "{{.ServerVersion}} {{.Driver}} {{.CgroupDriver}}")"
    echo "rootlogin=$(sshd -T | awk "/^permitrootlogin /{print \$2}")"
    echo "password=$(sshd -T | awk "/^passwordauthentication /{print \$2}")"
  ')" || die "$name: commands over SSH failed"
  echo "$out" | sed "s/^/    $name: /"
  grep -qx "hostname=$name" <<<"$out" || die "$name: wrong host answered at $ip"
  grep -qx "active=active active " <<<"$out" || die "$name: ssh and docker are not both active"
  grep -q '^docker=.* overlay2 ' <<<"$out" || die "$name: inner dockerd does not use overlay2"
  grep -qx 'rootlogin=without-password' <<<"$out" || die "$name: PermitRootLogin is not prohibit-password"
  grep -qx 'password=no' <<<"$out" || die "$name: PasswordAuthentication is not off"
  log "$name: ssh root@$ip ok, ssh+docker active, inner docker info ok"
done

# A container inside a lab host (no registry: a tiny image made from the host's own files).
"${SSH[@]}" "root@$(ip_of 1)" '
  set -e
  r=$(mktemp -d)
  for f in /usr/bin/cat $(ldd /usr/bin/cat | grep -o "/[^ ]*" | sort -u); do cp --parents -L "$f" "$r"; done
  tar -C "$r" -c . | docker import - smoke-mini >/dev/null
  rm -rf "$r"
  docker run --rm smoke-mini /usr/bin/cat /etc/hostname >/dev/null
' || die "$PREFIX-1: running a container inside the lab host failed"
log "$PREFIX-1: a container runs inside it (Docker in Docker)"

# Each host made its own SSH host key and machine id; the hosts reach each other.
keys="$(for n in "${HOSTS[@]}"; do docker exec "$PREFIX-$n" cat /etc/ssh/ssh_host_ed25519_key.pub; done | sort -u | wc -l)"
((keys == ${#HOSTS[@]})) || die "SSH host keys are shared between hosts"
ids="$(for n in "${HOSTS[@]}"; do docker exec "$PREFIX-$n" cat /etc/machine-id; done | sort -u | wc -l)"
((ids == ${#HOSTS[@]})) || die "machine ids are shared between hosts"
for n in "${HOSTS[@]:1}"; do
  "${SSH[@]}" "root@$(ip_of 1)" "ping -c 1 -W 2 $(ip_of "$n") >/dev/null" || die "$PREFIX-1 cannot reach $(ip_of "$n")"
done
log "host keys and machine ids differ per host; hosts reach each other"

# The server must offer public key authentication only.
out="$("${SSH[@]}" -o PreferredAuthentications=password,keyboard-interactive -o PubkeyAuthentication=no \
  "root@$(ip_of 1)" true 2>&1 || true)"
grep -q 'Permission denied (publickey)' <<<"$out" || die "sshd offers more than publickey: $out"
log "sshd offers public key authentication only"
