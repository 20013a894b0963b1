# After this host's Docker step and, for a manager, the previous manager's turn (a worker takes one
# from Consul KV): a swarm node's dockerd that does not run with its current config restarts now,
# then the step waits until the API answers and the node is back in the swarm (a manager: until it
# answers for the swarm and knows every node's state), so the next daemon goes only once this one
# is back. Decided from the running daemon, so a run killed at any line is finished by the next.
step_lock docker
# shellcheck disable=SC2086 # a list of paths, split on purpose
set -- $FILES
if docker_current "$@"; then
  echo "dockerd=current"
  exit 0
fi
in_swarm=no
docker_in_swarm && in_swarm=yes
# A swarm worker takes a turn from Consul KV (swarm-turn-lib), so only TURNS workers at a time are
# away from the swarm, each back before its turn goes to the next; given back however this ends.
if [ "$in_swarm" = yes ] && [ "${TURNS:-0}" -gt 0 ]; then
  tmp=$(mktemp -d)
  trap 'turn_release; rm -rf "$tmp"' EXIT
  consul_kv_auth
  turn_take || exit 9
fi
echo "consul-swarm: restarting docker on $(hostname), its turn"
systemctl daemon-reload
systemctl restart docker
docker_wait_api
if [ "$in_swarm" = yes ]; then
  # A manager is back once it answers for the swarm and knows every node's state again (a restart
  # may move the swarm's leadership, and a new leader reports nodes Unknown until they check in).
  back() {
    [ "$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)" = active ] || return 1
    [ "$(docker info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" = true ] || return 0
    states=$(docker node ls --format '{{.Status}}' 2>/dev/null) || return 1
    ! printf '%s\n' "$states" | grep -qx Unknown
  }
  retry_for 60 back || {
    echo "consul-swarm: $(hostname) is not back in its swarm 60 s after dockerd restarted" >&2
    exit 6
  }
fi
echo "dockerd=restarted"
