STATE=/var/lib/consul-swarm/docker
CONF=/etc/sysconfig/docker
if [ -e "$STATE/sysconfig.orig" ]; then
  install -m 0644 "$STATE/sysconfig.orig" "$CONF"
elif [ -e "$STATE/sysconfig.absent" ]; then
  rm -f "$CONF"
fi
# A Docker CE host of the family got daemon.json and the drop-in instead.
if [ -e "$STATE/daemon.json.orig" ]; then
  install -m 0644 "$STATE/daemon.json.orig" /etc/docker/daemon.json
elif [ -e "$STATE/daemon.json.absent" ]; then
  rm -f /etc/docker/daemon.json
fi
rm -f /etc/systemd/system/docker.service.d/consul-swarm.conf
rm -f /etc/systemd/system/docker.service.d/consul-swarm-stamp.conf
rmdir /etc/systemd/system/docker.service.d 2>/dev/null || true
rm -f /var/lib/consul-swarm/applied/docker-daemon.sha256
rm -rf "$STATE" "$TLS_DIR"
systemctl daemon-reload
systemctl restart docker || true
