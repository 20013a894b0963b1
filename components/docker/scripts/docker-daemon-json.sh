# Debian and Ubuntu: daemon.json and a drop-in (docker-config-lib).
step_lock docker
STATE=/var/lib/consul-swarm/docker
mkdir -p "$STATE"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
docker_ensure_installed
docker_config_daemon_json
docker_stamp_dropin
docker_tls_material
docker_apply
