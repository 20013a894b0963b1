# Shared by the DockerDaemon scripts. With TLS on, the CA, the server certificate and its key
# arrive on stdin (never on a command line) and land in /etc/docker/tls, the key 0600.
docker_tls_files() {
  mkdir -p "$TLS_DIR" "$tmp/tls"
  chmod 0700 "$TLS_DIR"
  umask 077
  awk -v d="$tmp/tls" '
    /-----BEGIN CERTIFICATE-----/ { n++; f = d (n == 1 ? "/ca.pem" : "/cert.pem") }
    /-----BEGIN EC PRIVATE KEY-----/ { f = d "/key.pem" }
    f { print > f }'
  umask 022
  for f in ca.pem cert.pem key.pem; do
    [ -s "$tmp/tls/$f" ] || { echo "consul-swarm: no $f in the TLS material on stdin" >&2; exit 3; }
    if ! cmp -s "$tmp/tls/$f" "$TLS_DIR/$f"; then
      mode=0644
      [ "$f" = key.pem ] && mode=0600
      install -m "$mode" "$tmp/tls/$f" "$TLS_DIR/$f"
    fi
  done
}

# TLS on: the material from stdin. Off (docker.tls turned off on a running stack): the stack's key
# and certificates go, so no stale key stays behind and no script takes the API for a TLS one.
docker_tls_material() {
  if [ "$TLS" = yes ]; then
    docker_tls_files
  else
    rm -rf "$TLS_DIR"
  fi
}
