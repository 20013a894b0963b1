#!/usr/bin/env bash
# `npm run pulumi -- ARGS`: the project's own Pulumi CLI, in the project's environment
# (scripts/env.sh). A stack that has a Pulumi.<stack>.yaml here but not yet in the backend is
# created on first use.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
consul_swarm_env
cd "$CONSUL_SWARM_REPO"
stack=$(consul_swarm_target_stack "$@")
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  case "$stack" in
    dev|dev-dc2|example) export PULUMI_CONFIG_PASSPHRASE="$CONSUL_SWARM_DEV_PASSPHRASE" ;;
  esac
fi
# What an interrupted run left is cleared first: a stack whose sidecar it emptied or whose lock it
# kept would otherwise look missing to the check below, which would then try to create it again.
case " $* " in
  *" up "*|*" update "*|*" destroy "*) consul_swarm_recover "$stack" ;;
  *) consul_swarm_repair_attrs "$stack" ;;
esac
# `stack ls` reads every stack's checkpoint, and another stack's CLI may be writing its own at
# that moment (the e2e files run side by side on one backend): a stack it missed then is found by
# `stack init` to exist already, which is no error.
if [ -n "$stack" ] && [ -f "Pulumi.$stack.yaml" ] && ! pulumi stack ls --json 2>/dev/null | grep -q "\"name\": \"$stack\""; then
  if ! init_out=$(pulumi stack init "$stack" --no-select 2>&1); then
    case "$init_out" in
      *"already exists"*) ;;
      *) printf '%s\n' "$init_out" >&2; exit 1 ;;
    esac
  fi
fi
exec pulumi "$@"
