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
  # The program keeps its snapshots there: the same path whichever directory it runs from.
  export CONSUL_SWARM_STATE
  export PATH="$toolbin:$PATH"
  export PULUMI_HOME="$CONSUL_SWARM_STATE/pulumi-home"
  export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$CONSUL_SWARM_STATE/backend}"
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
  # Plugins come from PULUMI_HOME at their pinned versions, never from whatever is on PATH.
  export PULUMI_IGNORE_AMBIENT_PLUGINS=true
  # The program runs without a type-check (about 1.5 s of every preview and up): `npm test`
  # type-checks it. Set to false to have the CLI type-check again.
  export PULUMI_NODEJS_TRANSPILE_ONLY="${PULUMI_NODEJS_TRANSPILE_ONLY:-true}"
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

# The file backend writes a checkpoint whole (a temporary file, then a rename) but its attributes
# sidecar in place: a CLI killed at that moment leaves it empty, and every later command on the
# stack, `stack ls` included, fails with "failed to load checkpoint: EOF". The sidecar holds
# nothing the stack needs, so an empty one goes, before any command.
consul_swarm_repair_attrs() {
  local stack=$1 f
  [ -n "$stack" ] || return 0
  case "$PULUMI_BACKEND_URL" in file://*) ;; *) return 0 ;; esac
  for f in "${PULUMI_BACKEND_URL#file://}"/.pulumi/stacks/*/"$stack".json*.attrs; do
    if [ -e "$f" ] && [ ! -s "$f" ]; then
      echo "consul-swarm: removing $f, an empty attributes file that an interrupted write of stack $stack's checkpoint left (the checkpoint itself is whole)" >&2
      rm -f "$f"
    fi
  done
}

# Before a run that changes a stack: what an interrupted earlier run left behind is cleared, the
# way Pulumi recommends, so the next `up` converges without editing state by hand.
#   - a lock whose pulumi process, on this machine, no longer runs (a killed CLI): removed, saying so;
#   - pending operations (a CREATE or UPDATE the killed CLI never saw finish): `pulumi refresh
#     --clear-pending-creates`. Every step of this stack decides from the host's real state, so a
#     create that ran halfway simply runs again whole.
consul_swarm_recover() {
  local stack=$1 dir f pid host pending
  [ -n "$stack" ] || return 0
  case "$PULUMI_BACKEND_URL" in file://*) ;; *) return 0 ;; esac
  consul_swarm_repair_attrs "$stack"
  dir="${PULUMI_BACKEND_URL#file://}/.pulumi/locks"
  for f in "$dir"/*/*/"$stack"/*.json; do
    [ -e "$f" ] || continue
    pid=$(jq -r '.pid // 0' "$f")
    host=$(jq -r '.hostname // ""' "$f")
    [ "$host" = "$(hostname)" ] || continue
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" != pulumi ]; then
      echo "consul-swarm: clearing the lock on stack $stack left by pulumi process $pid (started $(jq -r .timestamp "$f")), which no longer runs" >&2
      rm -f "$f"
    fi
  done
  local state
  state=$(pulumi stack export --stack "$stack" 2>/dev/null) || return 0
  pending=$(printf '%s' "$state" | jq '.deployment.pending_operations // [] | length' 2>/dev/null || echo 0)
  if [ "${pending:-0}" -gt 0 ]; then
    # A lab container, volume or network whose create the killed run never saw finish may exist
    # under its fixed name: nothing uses it yet, so it goes, and the next up makes it again.
    printf '%s' "$state" | jq -r '.deployment.pending_operations[] | select(.type == "creating") | .resource
        | select(.type | startswith("docker:index/")) | "\(.type) \(.inputs.name // "")"' |
      while read -r type name; do
        [ -n "$name" ] || continue
        case "$type" in
          docker:index/container:Container) docker rm -f "$name" >/dev/null 2>&1 && echo "consul-swarm: removed lab container $name, left half-made by the interrupted run" >&2 || true ;;
          docker:index/volume:Volume) docker volume rm "$name" >/dev/null 2>&1 && echo "consul-swarm: removed lab volume $name, left half-made by the interrupted run" >&2 || true ;;
          docker:index/network:Network) docker network rm "$name" >/dev/null 2>&1 && echo "consul-swarm: removed lab network $name, left half-made by the interrupted run" >&2 || true ;;
        esac
      done
    echo "consul-swarm: stack $stack has $pending operation(s) an interrupted run left pending: clearing them with pulumi refresh --clear-pending-creates" >&2
    pulumi refresh --yes --skip-preview --clear-pending-creates --stack "$stack" >&2
  fi
}

# The benchmarks' clock: now (nanoseconds), secs START END (seconds, one decimal).
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

# Removes every lab container, volume and network whose name starts with PREFIX (what a benchmark
# or test run made, including what a failed run left behind).
consul_swarm_remove_lab() {
  local prefix=$1 ids
  ids=$(docker ps -aq --filter "name=$prefix") || true
  [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
  ids=$(docker volume ls -q --filter "name=$prefix") || true
  [ -z "$ids" ] || docker volume rm $ids >/dev/null 2>&1 || true
  ids=$(docker network ls -q --filter "name=$prefix") || true
  [ -z "$ids" ] || docker network rm $ids >/dev/null 2>&1 || true
}

# consul_swarm_outputs STACK: the stack's outputs, secrets included, into CONSUL_SWARM_OUTPUTS (in
# memory, never printed); the dev and example stacks get their documented passphrase.
# consul_swarm_output KEY.PATH then prints one of them (a string as it is, anything else as JSON).
consul_swarm_outputs() {
  case "$1" in dev | example) export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-$CONSUL_SWARM_DEV_PASSPHRASE}" ;; esac
  CONSUL_SWARM_OUTPUTS=$(cd "$CONSUL_SWARM_REPO" && pulumi stack output --stack "$1" --json --show-secrets)
}
consul_swarm_output() {
  node -e 'const o=JSON.parse(require("fs").readFileSync(0,"utf8")); const v=process.argv[1].split(".").reduce((a,k)=>a==null?a:a[k],o); process.stdout.write(v==null?"":typeof v==="string"?v:JSON.stringify(v))' "$1" <<<"$CONSUL_SWARM_OUTPUTS"
}
