# The two ways a dockerd reads the stack's API settings, for the Debian and the RHEL scripts. Each
# keeps what was there before the stack first touched it, so destroy can put it back.

# daemon.json, merged: the stack's keys win and every other key of the user's file is kept; and a
# drop-in that clears the unit's ExecStart, whose -H fd:// dockerd refuses beside daemon.json's hosts.
docker_config_daemon_json() {
  command -v jq >/dev/null 2>&1 || {
    echo "consul-swarm: $(hostname) has no jq, which merging /etc/docker/daemon.json needs: install jq" >&2
    exit 3
  }
  mkdir -p /etc/docker /etc/systemd/system/docker.service.d
  if [ ! -e "$STATE/daemon.json.orig" ] && [ ! -e "$STATE/daemon.json.absent" ]; then
    if [ -e /etc/docker/daemon.json ]; then
      cp -p /etc/docker/daemon.json "$STATE/daemon.json.orig"
    else
      : > "$STATE/daemon.json.absent"
    fi
  fi
  printf '%s' "$DAEMON_JSON" > "$tmp/ours.json"
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
}

# /etc/sysconfig/docker's OPTIONS ($CONF), where CentOS/RHEL 7's packaged docker reads its flags
# (the tutorial's file): the file's own OPTIONS and lines are kept, the API flags added.
docker_config_sysconfig() {
  if [ ! -e "$STATE/sysconfig.orig" ] && [ ! -e "$STATE/sysconfig.absent" ]; then
    if [ -e "$CONF" ]; then cp -p "$CONF" "$STATE/sysconfig.orig"; else : > "$STATE/sysconfig.absent"; fi
  fi
  orig_opts=
  : > "$tmp/docker"
  if [ -e "$STATE/sysconfig.orig" ]; then
    # systemd does not expand variables in an EnvironmentFile, so the line is rewritten whole; the
    # stock file reads variables it never sets, hence +u.
    orig_opts=$(set +u; OPTIONS=; . "$STATE/sysconfig.orig" >/dev/null 2>&1; printf '%s' "${OPTIONS:-}")
    grep -v '^[[:space:]]*OPTIONS=' "$STATE/sysconfig.orig" > "$tmp/docker" || true
  fi
  printf "OPTIONS='%s'\n" "${orig_opts:+$orig_opts }$FLAGS" >> "$tmp/docker"
  cmp -s "$tmp/docker" "$CONF" || install -m 0644 "$tmp/docker" "$CONF"
}

# Does the host's docker unit read /etc/sysconfig/docker? CentOS/RHEL 7's packaged docker does;
# Docker CE and Fedora's moby-engine do not, and read daemon.json.
docker_reads_sysconfig() {
  systemctl cat docker.service 2>/dev/null | grep -q '^EnvironmentFile=-\{0,1\}/etc/sysconfig/docker[[:space:]]*$'
}
