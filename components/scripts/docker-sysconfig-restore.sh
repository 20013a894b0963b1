STATE=/var/lib/consul-swarm/docker
CONF=/etc/sysconfig/docker
if [ -e "$STATE/sysconfig.orig" ]; then
  install -m 0644 "$STATE/sysconfig.orig" "$CONF"
elif [ -e "$STATE/sysconfig.absent" ]; then
  rm -f "$CONF"
fi
rm -rf "$STATE" "$TLS_DIR"
systemctl restart docker || true
