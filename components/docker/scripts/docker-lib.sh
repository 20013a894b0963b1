# Shared by the DockerDaemon scripts. Whether dockerd must restart comes from the host's real
# state, so a run killed between writing a file and restarting is finished by the next one: a
# drop-in stamps every start of docker.service, and a daemon that started before any of its files
# last changed runs with an old config.
DOCKER_STARTED=/run/consul-swarm-docker.started
DOCKER_STAMP_DROPIN=/etc/systemd/system/docker.service.d/consul-swarm-stamp.conf

# A host without Docker gets its distribution's own package, from the package sources the host
# already has: docker.io on Debian and Ubuntu, docker on CentOS/RHEL 7 (its extras repository),
# moby-engine where dnf has no docker (Fedora). Decided by what is on the host, not by a record:
# a run killed mid-install is finished by the next. A Docker the stack installed stays on destroy
# (other containers may need it by then); the record says so.
docker_ensure_installed() {
  command -v dockerd >/dev/null 2>&1 && systemctl cat docker.service >/dev/null 2>&1 && return 0
  if command -v apt-get >/dev/null 2>&1; then
    echo "consul-swarm: $(hostname) has no Docker: installing docker.io with apt-get"
    # The package lists the host has first; fetched again only if they cannot serve it.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io >"$tmp/install.log" 2>&1 ||
      { apt-get update -q >>"$tmp/install.log" 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io >>"$tmp/install.log" 2>&1; } || true
  elif command -v dnf >/dev/null 2>&1; then
    echo "consul-swarm: $(hostname) has no Docker: installing it with dnf"
    { dnf install -y -q docker || dnf install -y -q moby-engine; } >"$tmp/install.log" 2>&1 || true
  elif command -v yum >/dev/null 2>&1; then
    echo "consul-swarm: $(hostname) has no Docker: installing docker with yum"
    yum install -y -q docker >"$tmp/install.log" 2>&1 || true
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    echo "consul-swarm: $(hostname) has no Docker and its package manager could not install it; install Docker and run up again:" >&2
    tail -n 5 "$tmp/install.log" >&2 2>/dev/null || true
    exit 3
  fi
  mkdir -p "$STATE"
  : > "$STATE/docker.installed-by-stack"
  systemctl enable docker >/dev/null 2>&1 || true
}

docker_stamp_dropin() {
  mkdir -p "${DOCKER_STAMP_DROPIN%/*}"
  printf '[Service]\nExecStartPre=/bin/touch %s\n' "$DOCKER_STARTED" > "$tmp/stamp.conf"
  cmp -s "$tmp/stamp.conf" "$DOCKER_STAMP_DROPIN" || install -m 0644 "$tmp/stamp.conf" "$DOCKER_STAMP_DROPIN"
}

# docker_current FILE...: dockerd runs and started after every FILE last changed.
docker_current() {
  systemctl is-active --quiet docker || return 1
  [ -e "$DOCKER_STARTED" ] || return 1
  [ -z "$(find "$@" "$DOCKER_STAMP_DROPIN" -newer "$DOCKER_STARTED" 2>/dev/null)" ]
}

# Is this daemon a node of a swarm? Its restart then takes its turn (docker-restart), one daemon
# of the swarm at a time, so managers keep their quorum and services keep replicas running.
docker_in_swarm() {
  [ "$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || true)" = active ]
}

# Bounded wait until the API answers on TCP (with TLS: the client-certificate handshake included).
docker_wait_api() {
  if [ "$TLS" = yes ]; then
    # The server certificate also serves as a client certificate for this check (clientAuth).
    ping="curl -sf --cacert $TLS_DIR/ca.pem --cert $TLS_DIR/cert.pem --key $TLS_DIR/key.pem https://$PING_ADDR:$PORT/_ping"
  else
    ping="curl -sf http://$PING_ADDR:$PORT/_ping"
  fi
  # shellcheck disable=SC2086 # $ping is a command line, split on purpose
  retry_for 60 $ping >/dev/null 2>&1 || {
    echo "consul-swarm: the Docker API on $(hostname) did not answer on $PING_ADDR:$PORT within 60 s" >&2
    systemctl status docker --no-pager >&2 || true
    exit 4
  }
}

# docker_apply: (re)start dockerd unless it runs with the files in $FILES, then wait until the API
# answers. A swarm node's restart is left to its turn (docker-restart).
docker_apply() {
  # shellcheck disable=SC2086 # a list of paths, split on purpose
  set -- $FILES
  find "$@" "$DOCKER_STAMP_DROPIN" -type f 2>/dev/null | record_files docker-daemon
  if ! docker_current "$@"; then
    if docker_in_swarm; then
      echo "consul-swarm: dockerd on $(hostname) does not run with its current config: it restarts in its turn"
      echo "docker_api=deferred run=$(date +%s%N)"
      return 0
    fi
    echo "consul-swarm: dockerd on $(hostname) does not run with its current config: restarting docker"
    systemctl daemon-reload
    systemctl restart docker
  fi
  docker_wait_api
  echo "docker_api=$PING_ADDR:$PORT tls=$TLS"
}
