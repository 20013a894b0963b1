# Facts the other components need, read once. A host that is still booting finishes first, so
# later steps never race systemd (the flag is unknown to old systemd: then nothing is awaited).
if command -v systemctl >/dev/null 2>&1; then
  systemctl is-system-running --wait >/dev/null 2>&1 || true
fi
if [ -r /etc/os-release ]; then . /etc/os-release; fi
echo "os_id=${ID:-unknown}"
echo "os_version=${VERSION_ID:-}"
echo "os_like=${ID_LIKE:-}"
echo "init=$(cat /proc/1/comm 2>/dev/null || echo unknown)"
echo "hostname=$(hostname)"
