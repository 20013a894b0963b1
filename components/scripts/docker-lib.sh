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
  echo "docker_api=$PING_ADDR:$PORT tls=$TLS"
}
