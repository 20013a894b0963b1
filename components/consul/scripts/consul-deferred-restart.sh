# After every server's service step: a server whose restart its service step put off, because it
# led the cluster, restarts now (handing its leadership to a server already restarted). On any
# other server the agent is current and nothing happens. Decided from the running agent, so a run
# killed at any line is finished by the next.
step_lock consul-service
if [ -e "$TOKEN_FILE" ]; then export CONSUL_HTTP_TOKEN_FILE="$TOKEN_FILE"; fi
if consul_agent_current; then
  echo "consul=current node=$NODE"
  exit 0
fi
if systemctl is-active --quiet consul; then
  echo "consul-swarm: restarting consul on $NODE, the last server (it led the cluster)"
  consul_restart_gracefully
else
  echo "consul-swarm: starting consul on $NODE"
  systemctl start consul
fi
consul_wait_healthy
echo "consul=restarted node=$NODE"
