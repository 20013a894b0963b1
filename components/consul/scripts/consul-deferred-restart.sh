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
# Never a healthy server out of a degraded cluster that cannot lose it: bounded, for autopilot
# to see the servers restarted before this one stable (its health lags by up to 2 s).
if systemctl is-active --quiet consul && ! retry_for 30 consul_may_leave; then
  echo "consul-swarm: cluster already degraded: not healthy: ${degraded_why:-unknown}. consul on $NODE was not restarted: the cluster could not lose it now. Bring those servers back (a machine lost for good: npm run host-gone), then run up again." >&2
  exit 12
fi
if systemctl is-active --quiet consul; then
  echo "consul-swarm: restarting consul on $NODE, the last server (it led the cluster or waited for a degraded cluster)"
  consul_restart_gracefully
else
  echo "consul-swarm: starting consul on $NODE"
  systemctl start consul
fi
consul_wait_healthy
echo "consul=restarted node=$NODE"
