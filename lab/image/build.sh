#!/usr/bin/env bash
# Build the lab host image: Debian bookworm with systemd as PID 1, sshd and its own dockerd.
#
#   lab/image/build.sh          build if needed; prints the image name (one line) on stdout
#   lab/image/build.sh --tag    print the image name without building anything
#
# The image is consul-swarm-lab:<hash>, <hash> being a short hash of this recipe (this file
# and everything under lab/image/files/, which is copied into the tree). Progress goes to stderr,
# so `image="$(lab/image/build.sh)"` works.
#
# Steps, each skipped when its result exists:
#   1. the image with that tag exists in the engine          -> print it, done (< 1 s)
#   2. the rootfs tarball $CACHE/<hash>.tar exists           -> docker import it (seconds)
#   3. otherwise debootstrap a minbase tree, configure it in a chroot, tar it into the cache,
#      import it.
# CACHE is ${XDG_CACHE_HOME:-$HOME/.cache}/consul-swarm/lab. The Debian mirror is read at run
# time from this machine's apt sources (or LAB_DEBIAN_MIRROR); no mirror is written here.
# See lab/README.md for how to run a lab host from the image.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/consul-swarm/lab"
SUITE=bookworm
REPOSITORY=consul-swarm-lab
# What a server of this project needs: systemd as init, sshd (with sftp-server) for the Pulumi
# command provider, Debian's Docker engine, and the tools the install scripts use. dbus lets
# systemctl/loginctl behave as on a real server; netbase gives /etc/services and /etc/protocols;
# dnsmasq is the hosts' own resolver, which consul.dnsForwarding points at Consul's DNS.
PACKAGES=(
  systemd systemd-sysv dbus
  openssh-server
  docker.io iptables
  iproute2 iputils-ping netbase
  curl ca-certificates
  procps unzip jq
  dnsmasq
  sudo
)
# Units that make no sense in a container (measured, see lab/README.md): consoles nobody logs in
# on, the kernel audit log, ext4 scrubbing of block devices the container does not have, and the
# apt timers (a lab host must not reach out to the package mirror on its own). With these masked
# a fresh host boots to `running` with no failed unit.
MASK=(
  getty@tty1.service console-getty.service
  systemd-journald-audit.socket
  e2scrub_all.timer e2scrub_reap.service
  apt-daily.timer apt-daily-upgrade.timer
)

T0=$SECONDS
log() { printf '[lab-image %3ds] %s\n' "$((SECONDS - T0))" "$*" >&2; }
die() { printf '[lab-image] error: %s\n' "$*" >&2; exit 1; }

recipe_hash() {
  (
    cd "$HERE"
    { echo build.sh; find files -type f | LC_ALL=C sort; } | while IFS= read -r f; do
      printf '%s\0' "$f"
      cat "$f"
    done
  ) | sha256sum | cut -c1-12
}

HASH="$(recipe_hash)"
TAG="$REPOSITORY:$HASH"
if [[ "${1:-}" == --tag ]]; then
  echo "$TAG"
  exit 0
fi
[[ $# -eq 0 ]] || die "usage: $0 [--tag]"

image_exists() { docker image inspect "$TAG" >/dev/null 2>&1; }

# ---- 1. already built --------------------------------------------------------------------
if image_exists; then
  echo "$TAG"
  exit 0
fi

if ! timeout 15 docker info >/dev/null 2>&1; then
  "$REPO/scripts/dockerd-start.sh" >&2
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/build.lock"
flock -w 1800 9 || die "another build holds $CACHE/build.lock"
if image_exists; then # built by a concurrent run while we waited
  echo "$TAG"
  exit 0
fi

TARBALL="$CACHE/$HASH.tar"
TREE=

DEBOOTSTRAP_PID=
cleanup() {
  local rc=$?
  if [[ -n "$DEBOOTSTRAP_PID" ]] && kill -0 "$DEBOOTSTRAP_PID" 2>/dev/null; then
    log "stopping debootstrap (process group $DEBOOTSTRAP_PID)"
    kill -TERM -- "-$DEBOOTSTRAP_PID" 2>/dev/null || true
    wait "$DEBOOTSTRAP_PID" 2>/dev/null || true
  fi
  if [[ -n "$TREE" && -d "$TREE" ]]; then
    # Never rm -rf through a mount left in the tree (debootstrap mounts /proc and /sys).
    { findmnt -rn -o TARGET | grep -F "$TREE/" || true; } | LC_ALL=C sort -r | while IFS= read -r m; do
      umount -l "$m" || true
    done
    rm -rf --one-file-system "$TREE"
  fi
  rm -f "$TARBALL.partial"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The mirror this machine's apt uses for the main bookworm suite (deb822 or one-line format).
debian_mirror() {
  if [[ -n "${LAB_DEBIAN_MIRROR:-}" ]]; then
    echo "$LAB_DEBIAN_MIRROR"
    return
  fi
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -e "$f" ]] || continue
    uri="$(awk -v suite="$SUITE" '
      BEGIN { RS = ""; FS = "\n" }
      {
        types = uris = suites = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^Types:/)  types  = " " substr($i, 7)  " "
          if ($i ~ /^URIs:/)   uris   = substr($i, 6)
          if ($i ~ /^Suites:/) suites = " " substr($i, 8) " "
        }
        gsub(/[ \t]+/, " ", types); gsub(/[ \t]+/, " ", suites)
        if (types ~ / deb / && suites ~ (" " suite " ")) { split(uris, u, " "); for (k in u) if (u[k] != "") { print u[k]; exit } }
      }' "$f")"
    [[ -n "$uri" ]] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -e "$f" ]] || continue
    uri="$(awk -v suite="$SUITE" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) == suite) { print $i; exit }
      }' "$f")"
    [[ -n "$uri" ]] && { echo "$uri"; return; }
  done
  return 1
}

ensure_debootstrap() {
  command -v debootstrap >/dev/null && return
  log "installing debootstrap with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends debootstrap >&2 \
    || { apt-get update >&2 && apt-get install -y --no-install-recommends debootstrap >&2; } \
    || die "cannot install debootstrap"
}

build_tree() {
  local mirror
  mirror="$(debian_mirror)" || die "no 'deb … $SUITE' source in /etc/apt/sources.list{,.d}: set LAB_DEBIAN_MIRROR"
  ensure_debootstrap
  TREE="$(mktemp -d "$CACHE/tree.XXXXXX")"
  local dlog="$CACHE/debootstrap.log"
  log "debootstrap --variant=minbase $SUITE from $mirror (log: $dlog)"
  local joined
  joined="$(IFS=,; echo "${PACKAGES[*]}")"
  # debootstrap runs in a session of its own, so an interrupted build stops it and everything it
  # started (cleanup kills that process group) before removing the tree. Progress shows its stage
  # lines, not one line per package; success is read from its log.
  : >"$dlog"
  setsid debootstrap --variant=minbase --include="$joined" "$SUITE" "$TREE" "$mirror" </dev/null >"$dlog" 2>&1 9>&- &
  DEBOOTSTRAP_PID=$!
  tail -n +1 --pid="$DEBOOTSTRAP_PID" -f "$dlog" \
    | { grep --line-buffered -Ev '^I: (Retrieving|Validating) [^ ]+ [^ ]+$|^I: (Extracting|Unpacking|Configuring) [^ ]+\.\.\.$' || true; } \
    | while IFS= read -r line; do log "  $line"; done &
  local progress=$!
  wait "$DEBOOTSTRAP_PID" || true # a signal interrupts this wait, and cleanup runs
  DEBOOTSTRAP_PID=
  wait "$progress" || true
  [[ "$(tail -n 1 "$dlog")" == "I: Base system installed successfully." ]] \
    || { tail -n 20 "$dlog" >&2; die "debootstrap failed (log: $dlog)"; }
  log "debootstrap done ($(du -sh --one-file-system "$TREE" | cut -f1))"

  log "configuring the tree"
  local f mode
  while IFS= read -r f; do
    case "$f" in */bin/* | */sbin/*) mode=0755 ;; *) mode=0644 ;; esac
    install -D -m "$mode" "$HERE/files/$f" "$TREE/$f"
  done < <(cd "$HERE/files" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)

  # Each container makes its own host keys (lab-host-init.service) and machine id (systemd,
  # at boot, from an empty /etc/machine-id).
  rm -f "$TREE"/etc/ssh/ssh_host_*
  : >"$TREE/etc/machine-id"
  rm -f "$TREE/var/lib/dbus/machine-id"
  echo lab >"$TREE/etc/hostname"
  : >"$TREE/etc/resolv.conf" # Docker mounts its own
  chroot "$TREE" systemctl enable ssh.service docker.service containerd.service lab-host-init.service >&2
  chroot "$TREE" systemctl mask "${MASK[@]}" >&2
  # A second login, ops, with sudo and no password: how many real hosts are reached (the stack
  # runs its steps through `sudo -n` for any user but root). Its key is root's (lab-host-init).
  chroot "$TREE" useradd --create-home --shell /bin/bash ops
  chmod 0440 "$TREE/etc/sudoers.d/lab-ops"
  # Leftovers of the build: caches, logs, the host's apt state. Kept: the package lists and
  # docker.io's package, so a host whose Docker was removed gets it back from its own apt sources
  # without a network (the stack installs Docker where it is missing; the e2e tests remove it).
  find "$TREE/var/cache/apt/archives" -name '*.deb' ! -name 'docker.io_*' -delete
  rm -rf "$TREE"/var/cache/apt/*.bin \
    "$TREE"/var/cache/debconf/*-old "$TREE"/var/lib/dpkg/*-old "$TREE"/tmp/* "$TREE"/var/tmp/*
  find "$TREE/var/log" -type f -delete

  log "writing $TARBALL"
  tar -C "$TREE" --numeric-owner --xattrs --xattrs-include=security.capability \
    --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' --exclude='./run/*' \
    -cf "$TARBALL.partial" .
  mv "$TARBALL.partial" "$TARBALL"
  rm -rf --one-file-system "$TREE"
  TREE=
  # Keep the three newest tarballs (older recipes), each a few hundred MB.
  ls -1t "$CACHE"/*.tar 2>/dev/null | tail -n +4 | while IFS= read -r old; do
    log "removing old cached tarball $old"
    rm -f "$old"
  done
  log "tarball ready ($(du -h "$TARBALL" | cut -f1))"
}

# ---- 3. build the tree when no cached tarball --------------------------------------------
if [[ -s "$TARBALL" ]]; then
  log "using cached rootfs $TARBALL"
else
  build_tree
fi

# ---- 2. import -----------------------------------------------------------------------------
log "docker import -> $TAG"
docker import \
  -c 'CMD ["/sbin/init"]' \
  -c 'ENV container=docker' \
  -c 'VOLUME /var/lib/docker' \
  -c "LABEL org.opencontainers.image.title=consul-swarm-lab consul-swarm.recipe=$HASH" \
  "$TARBALL" "$TAG" >/dev/null
log "image ready: $TAG"
echo "$TAG"
