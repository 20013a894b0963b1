# Read-only, run by `pulumi refresh`: what on this host differs from what the Consul steps made.
# One line per finding; none when the agent is as the stack left it. Changes nothing.
if ! systemctl is-active --quiet consul; then
  echo "consul: the agent on $NODE is not running (systemd: $(systemctl is-active consul 2>/dev/null || true))"
elif ! consul_agent_current; then
  echo "consul: the agent on $NODE runs with an older config, unit or binary than the one on disk"
fi
record_check consul-service consul
