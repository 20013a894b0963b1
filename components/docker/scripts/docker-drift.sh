# Read-only, run by `pulumi refresh`: what on this host differs from what the Docker step made.
# One line per finding; none when dockerd is as the stack left it. Changes nothing.
# shellcheck disable=SC2086 # a list of paths, split on purpose
set -- $FILES
if ! systemctl is-active --quiet docker; then
  echo "docker: dockerd on $(hostname) is not running (systemd: $(systemctl is-active docker 2>/dev/null || true))"
elif ! docker_current "$@"; then
  echo "docker: dockerd on $(hostname) runs with an older config than the one on disk"
fi
record_check docker-daemon docker
