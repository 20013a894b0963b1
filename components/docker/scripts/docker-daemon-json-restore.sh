STATE=/var/lib/consul-swarm/docker
if [ -e "$STATE/daemon.json.orig" ]; then
  install -m 0644 "$STATE/daemon.json.orig" /etc/docker/daemon.json
elif [ -e "$STATE/daemon.json.absent" ]; then
  rm -f /etc/docker/daemon.json
fi
rm -f /etc/systemd/system/docker.service.d/consul-swarm.conf
rm -rf "$TLS_DIR"
rm -f /etc/systemd/system/docker.service.d/consul-swarm-stamp.conf
rmdir /etc/systemd/system/docker.service.d 2>/dev/null || true
rm -f /var/lib/consul-swarm/applied/docker-daemon.sha256
rm -rf "$STATE"
systemctl daemon-reload
systemctl restart docker || true
