# CentOS/RHEL 7: the packaged unit reads $OPTIONS from /etc/sysconfig/docker (the tutorial's file).
step_lock docker
STATE=/var/lib/consul-swarm/docker
CONF=/etc/sysconfig/docker
mkdir -p "$STATE"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
docker_ensure_installed
if [ ! -e "$STATE/sysconfig.orig" ] && [ ! -e "$STATE/sysconfig.absent" ]; then
  if [ -e "$CONF" ]; then cp -p "$CONF" "$STATE/sysconfig.orig"; else : > "$STATE/sysconfig.absent"; fi
fi
orig_opts=
: > "$tmp/docker"
if [ -e "$STATE/sysconfig.orig" ]; then
  # systemd does not expand variables in an EnvironmentFile, so the line is rewritten whole.
  orig_opts=$(set +u; OPTIONS=; . "$STATE/sysconfig.orig" >/dev/null 2>&1; printf '%s' "${OPTIONS:-}")
  grep -v '^[[:space:]]*OPTIONS=' "$STATE/sysconfig.orig" > "$tmp/docker" || true
fi
printf "OPTIONS='%s'\n" "${orig_opts:+$orig_opts }$FLAGS" >> "$tmp/docker"
cmp -s "$tmp/docker" "$CONF" || install -m 0644 "$tmp/docker" "$CONF"
docker_stamp_dropin
if [ "$TLS" = yes ]; then
  docker_tls_files
fi
docker_apply
