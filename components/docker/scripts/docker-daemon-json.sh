step_lock docker
STATE=/var/lib/consul-swarm/docker
command -v jq >/dev/null 2>&1 || {
  echo "consul-swarm: $(hostname) has no jq, which merging /etc/docker/daemon.json needs: install jq" >&2
  exit 3
}
mkdir -p "$STATE" /etc/docker /etc/systemd/system/docker.service.d
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
docker_ensure_installed
# Keep what was there before the stack first touched it, so destroy can put it back.
if [ ! -e "$STATE/daemon.json.orig" ] && [ ! -e "$STATE/daemon.json.absent" ]; then
  if [ -e /etc/docker/daemon.json ]; then
    cp -p /etc/docker/daemon.json "$STATE/daemon.json.orig"
  else
    : > "$STATE/daemon.json.absent"
  fi
fi
printf '%s' "$DAEMON_JSON" > "$tmp/ours.json"
# The stack's keys win; every other key of the user's file is kept.
if [ -e "$STATE/daemon.json.orig" ]; then
  jq -s '.[0] * .[1]' "$STATE/daemon.json.orig" "$tmp/ours.json" > "$tmp/daemon.json"
else
  jq . "$tmp/ours.json" > "$tmp/daemon.json"
fi
dockerd_bin=$(command -v dockerd)
printf '%s' "$DROPIN" | sed "s|@DOCKERD@|$dockerd_bin|" > "$tmp/dropin.conf"
cmp -s "$tmp/daemon.json" /etc/docker/daemon.json || install -m 0644 "$tmp/daemon.json" /etc/docker/daemon.json
cmp -s "$tmp/dropin.conf" /etc/systemd/system/docker.service.d/consul-swarm.conf ||
  install -m 0644 "$tmp/dropin.conf" /etc/systemd/system/docker.service.d/consul-swarm.conf
docker_stamp_dropin
if [ "$TLS" = yes ]; then
  docker_tls_files
fi
docker_apply
