# RHEL family: CentOS/RHEL 7's packaged docker reads $OPTIONS from /etc/sysconfig/docker (the
# tutorial's file); Docker CE and moby-engine read daemon.json. Which one, the unit the host runs
# says (after Docker is installed where it was missing).
step_lock docker
STATE=/var/lib/consul-swarm/docker
CONF=/etc/sysconfig/docker
mkdir -p "$STATE"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
docker_ensure_installed
if docker_reads_sysconfig; then
  docker_config_sysconfig
else
  docker_config_daemon_json
fi
docker_stamp_dropin
docker_tls_material
docker_apply
