#!/usr/bin/env bash
# npm run snapshot -- save STACK [FILE]      the cluster's state (KV, ACLs, catalog) to FILE, by
#                                            default .state/snapshots/STACK/<time>-manual.snap
# npm run snapshot -- restore STACK FILE     a snapshot into STACK's cluster (the same cluster, to
#                                            roll back, or a newly built one)
# Through the servers' HTTPS API with the stack's management token and CA, read from its outputs
# into memory and handed to curl in 0600 files: never printed, never on a command line.
# A restore keeps what the stack itself owns in the restored cluster: its swarm's KV keys are put
# back, and its ACL step runs again (`up --replace`), so its own tokens exist beside the snapshot's.
set -euo pipefail
usage() { echo "usage: npm run snapshot -- save STACK [FILE] | restore STACK FILE" >&2; exit 2; }
action=${1:-}
stack=${2:-}
file=${3:-}
case "$action" in save | restore) ;; *) usage ;; esac
[ -n "$stack" ] || usage
[ "$action" = save ] || [ -n "$file" ] || usage
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
consul_swarm_env >/dev/null
cd "$CONSUL_SWARM_REPO"
consul_swarm_outputs "$stack"
field() { consul_swarm_output "$1"; }
ca=$(field consulCaCert)
# A secondary datacenter exports no management token: its primary's, given as CONSUL_HTTP_TOKEN.
token=$(field aclBootstrapToken)
token=${token:-${CONSUL_HTTP_TOKEN:-}}
servers=$(field consulServers | node -e 'process.stdout.write(Object.values(JSON.parse(require("fs").readFileSync(0,"utf8"))).join(" "))')
[ -n "$servers" ] || { echo "consul-swarm: stack $stack has no consulServers output: has it been up?" >&2; exit 3; }
addrs=
for s in $servers; do
  if [ -n "$ca" ]; then addrs="$addrs https://$s:8501"; else addrs="$addrs http://$s:8500"; fi
done
core="$CONSUL_SWARM_REPO/components/consul/scripts/consul-snapshot.sh"
secrets() { printf '%s\n%s' "$token" "$ca"; }
if [ "$action" = save ]; then
  if [ -n "$file" ]; then
    mkdir -p "$(dirname "$file")"
    secrets | ACTION=save ADDRS="$addrs" DIR="$(dirname "$file")" NAME="$(basename "$file")" LABEL=manual sh -eu "$core"
  else
    secrets | ACTION=save ADDRS="$addrs" DIR="$CONSUL_SWARM_STATE/snapshots/$stack" LABEL=manual sh -eu "$core"
  fi
  exit 0
fi
file=$(cd "$(dirname "$file")" && pwd)/$(basename "$file")
# The stack's swarm keys in the cluster restored into stay its own (see the core script).
secrets | ACTION=restore ADDRS="$addrs" FILE="$file" KEEP_PREFIX=consul-swarm/swarm sh -eu "$core"
urn=$(pulumi stack export --stack "$stack" | node -e 'const d=JSON.parse(require("fs").readFileSync(0,"utf8")); const r=(d.deployment.resources||[]).find((x)=>x.type==="command:remote:Command"&&/::consul-acl-agent$/.test(x.urn)); process.stdout.write(r?r.urn:"")')
if [ -n "$urn" ]; then
  echo "consul-swarm: the stack's own ACL tokens made again (up --replace its ACL step)"
  bash "$CONSUL_SWARM_REPO/scripts/pulumi.sh" up --stack "$stack" --yes --skip-preview --replace "$urn" >/dev/null
fi
echo "consul-swarm: restored $file into stack $stack"
