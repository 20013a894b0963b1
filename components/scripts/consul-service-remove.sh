systemctl disable --now consul >/dev/null 2>&1 || true
rm -f /etc/systemd/system/consul.service "$CONFIG_DIR/consul.json" "$CONFIG_DIR/bootstrap.json"
rm -rf "$TLS_DIR"
rmdir "$CONFIG_DIR" 2>/dev/null || true
rm -rf "$DATA_DIR" /var/lib/consul-swarm/consul
systemctl daemon-reload
