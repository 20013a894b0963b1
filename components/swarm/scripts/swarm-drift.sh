# Read-only, run by `pulumi refresh`: is this node still in the swarm the stack made? One line
# per finding; none when it is. Changes nothing.
state=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo "unknown (dockerd does not answer)")
if [ "$state" != active ]; then
  echo "swarm: $(hostname) is not in a swarm (state: $state)"
elif [ -n "$CLUSTER_ID" ]; then
  mine=$(swarm_cluster_of_node)
  if [ "$mine" != "$CLUSTER_ID" ]; then
    echo "swarm: $(hostname) is in swarm '${mine:-unknown}', not in $CLUSTER_ID"
  elif swarm_removed_by_manager; then
    echo "swarm: $(hostname) is active here, but the manager at $MANAGER_API no longer lists it (taken out with docker node rm)"
  fi
fi
