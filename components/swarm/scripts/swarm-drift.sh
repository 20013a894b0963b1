# Read-only, run by `pulumi refresh`: is this node still in the swarm the stack made? One line
# per finding; none when it is. Changes nothing.
state=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo "unknown (dockerd does not answer)")
if [ "$state" != active ]; then
  echo "swarm: $(hostname) is not in a swarm (state: $state)"
elif [ -n "$CLUSTER_ID" ]; then
  mine=$(swarm_cluster_of_node)
  [ "$mine" = "$CLUSTER_ID" ] || echo "swarm: $(hostname) is in swarm '${mine:-unknown}', not in $CLUSTER_ID"
fi
