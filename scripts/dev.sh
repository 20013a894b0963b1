#!/usr/bin/env bash
# `npm run dev`: from a fresh clone to the tutorial's cluster on lab hosts on this machine.
#   npm run dev              install, build or reuse the toolchain and the lab image, start a
#                            Docker engine if none answers, `pulumi up` the dev stack, print
#                            where the UI is and what the cluster looks like
#   npm run dev -- destroy   tear the dev stack down (lab containers, network, volumes)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
. scripts/env.sh
consul_swarm_env
bash scripts/dockerd-start.sh
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-$CONSUL_SWARM_DEV_PASSPHRASE}"
pulumi stack select dev >/dev/null 2>&1 || pulumi stack init dev >/dev/null
consul_swarm_recover dev
case "${1:-up}" in
  destroy)
    pulumi destroy --yes --stack dev
    exit 0 ;;
  up) ;;
  *) echo "usage: npm run dev [-- destroy]" >&2; exit 2 ;;
esac
bash lab/kernel-limits.sh
bash lab/image/build.sh >/dev/null
# A host that fails (say, never answers SSH) fails the up, but only after everything that does
# not depend on it is done.
pulumi up --yes --stack dev --skip-preview --continue-on-error
out() { pulumi stack output --stack dev "$@"; }
cat <<SUMMARY

consul-swarm dev stack is up.
  Consul UI:     $(out consulUiUrl)
  Consul leader: $(out consulLeader)
  Members:       $(out consulMembers --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).map(m=>`${m.name} ${m.address} ${m.status}`).join(", ")))')
  Swarm nodes:   $(out swarmNodes --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).map(n=>`${n.hostname} ${n.status}${n.manager?" ("+n.manager+")":""}`).join(", ")))')
  Swarm manager: DOCKER_HOST=$(out swarmManager)
All outputs: npm run pulumi -- stack output --stack dev
Tear down:   npm run dev -- destroy
SUMMARY
