STATE=/var/lib/consul-swarm/docker
CONF=/etc/sysconfig/docker
if [ -e "$STATE/sysconfig.orig" ]; then
  install -m 0644 "$STATE/sysconfig.orig" "$CONF"
elif [ -e "$STATE/sysconfig.absent" ]; then
  rm -f "$CONF"
fi
rm -f /etc/systemd/system/docker.service.d/consul-swarm-stamp.conf
rm -rf "$STATE" "$TLS_DIR"
systemctl daemon-reload
systemctl restart docker || true
