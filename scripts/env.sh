# Sourced by the project's scripts: the environment the project's own Pulumi CLI runs in.
#   - the toolchain (built on first use) first on PATH, CONSUL_SWARM_TOOLBIN pointing at it
#   - a project-local PULUMI_HOME with the built plugins installed at their pinned versions
#   - a local file backend, no update checks, no plugin downloads
# shellcheck shell=bash

CONSUL_SWARM_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONSUL_SWARM_STATE="${CONSUL_SWARM_STATE:-$CONSUL_SWARM_REPO/.state}"
# The passphrase that protects the dev and example stacks' secrets (documented in the README);
# any other stack needs the user's own PULUMI_CONFIG_PASSPHRASE.
CONSUL_SWARM_DEV_PASSPHRASE="consul-swarm-dev-only"

consul_swarm_env() {
  local toolbin
  toolbin="$(bash "$CONSUL_SWARM_REPO/scripts/toolchain.sh")" || return 1
  export CONSUL_SWARM_TOOLBIN="$toolbin"
  export PATH="$toolbin:$PATH"
  export PULUMI_HOME="$CONSUL_SWARM_STATE/pulumi-home"
  export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$CONSUL_SWARM_STATE/backend}"
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
  # Plugins come from PULUMI_HOME at their pinned versions, never from whatever is on PATH.
  export PULUMI_IGNORE_AMBIENT_PLUGINS=true
  mkdir -p "$PULUMI_HOME" "${PULUMI_BACKEND_URL#file://}"
  consul_swarm_install_plugins "$toolbin"
}

# Installs each built provider into PULUMI_HOME at the version its npm package asks for, again
# whenever the binary changed.
consul_swarm_install_plugins() {
  local toolbin=$1 name version bin stamp want
  for name in command random docker; do
    version=$(node -e 'process.stdout.write(require(process.argv[1]).plugins[process.argv[2]])' "$CONSUL_SWARM_REPO/toolchain/versions.json" "$name")
    bin="$toolbin/pulumi-resource-$name"
    want=$(readlink -f "$bin")
    stamp="$PULUMI_HOME/plugins/.consul-swarm-$name-$version"
    if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
      "$toolbin/pulumi" plugin install resource "$name" "$version" --file "$bin" --reinstall >/dev/null
      echo "$want" > "$stamp"
    fi
  done
}

# The stack a pulumi command line targets: --stack/-s, else the selected one.
consul_swarm_target_stack() {
  local prev=""
  for a in "$@"; do
    case "$prev" in --stack|-s) echo "$a"; return ;; esac
    case "$a" in --stack=*) echo "${a#--stack=}"; return ;; esac
    prev=$a
  done
  (cd "$CONSUL_SWARM_REPO" && pulumi stack --show-name 2>/dev/null) || true
}
