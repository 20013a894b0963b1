#!/usr/bin/env bash
# npm run screenshot [-- STACK]: the README's pictures of a running stack (dev by default):
#   docs/consul-ui.png      its Consul UI's node list, logged in with the stack's management token
#                           (headless Chromium from Debian's packages, installed here if missing)
#   docs/docker-node-ls.txt `docker node ls` through the swarm manager, with the stack's client TLS
# The token and keys come from the stack's outputs and go on stdin or into 0600 files only.
set -euo pipefail
stack=${1:-dev}
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
consul_swarm_env >/dev/null
cd "$CONSUL_SWARM_REPO"
if ! command -v chromium >/dev/null 2>&1; then
  echo "screenshot: installing chromium with apt-get" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
consul_swarm_outputs "$stack"
api=$(consul_swarm_output consulHttpsAddr)
[ -n "$api" ] || { echo "screenshot: stack $stack has no consulHttpsAddr output (Consul TLS off?)" >&2; exit 3; }
mkdir -p docs
node -e 'const o=JSON.parse(require("fs").readFileSync(0,"utf8")); process.stdout.write(JSON.stringify({ api: o.consulHttpsAddr, caCert: o.consulCaCert, token: o.aclBootstrapToken }))' <<<"$CONSUL_SWARM_OUTPUTS" |
  node --import tsx scripts/screenshot.ts docs/consul-ui.png "/ui/$(consul_swarm_output datacenter)/nodes"
echo "screenshot: docs/consul-ui.png" >&2
eval "$(bash scripts/client-env.sh "$stack" 2>/dev/null)"
{ echo "\$ docker node ls"; docker node ls; } > docs/docker-node-ls.txt
echo "screenshot: docs/docker-node-ls.txt" >&2
