#!/usr/bin/env bash
# npm run host-gone -- STACK HOST: a host gone for good (no SSH to it ever again) out of STACK's
# state, before it is taken out of the config; see scripts/host-gone.ts.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
consul_swarm_env >/dev/null
cd "$CONSUL_SWARM_REPO"
case "${1:-}" in dev | dev-dc2 | example) export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-$CONSUL_SWARM_DEV_PASSPHRASE}" ;; esac
exec node --import tsx scripts/host-gone.ts "$@"
