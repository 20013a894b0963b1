# Shared by the DockerDaemon scripts: restart dockerd only when its config changed, then wait,
# bounded, until the API answers on TCP.
docker_apply() {
  changed=$1
  if [ "$changed" = yes ]; then
    echo "consul-swarm: Docker daemon config changed on $(hostname): restarting docker"
    systemctl daemon-reload
    systemctl restart docker
  elif ! systemctl is-active --quiet docker; then
    systemctl start docker
  fi
  i=0
  until curl -sf "http://$PING_ADDR:$PORT/_ping" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -ge 60 ]; then
      echo "consul-swarm: the Docker API on $(hostname) did not answer on $PING_ADDR:$PORT within 60 s" >&2
      systemctl status docker --no-pager >&2 || true
      exit 4
    fi
    sleep 1
  done
  echo "docker_api=$PING_ADDR:$PORT"
}
