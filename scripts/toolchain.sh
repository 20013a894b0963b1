#!/usr/bin/env bash
# Builds the project's toolchain from the Go module proxy and prints the directory that holds it:
#   pulumi, pulumi-language-nodejs, pulumi-resource-{command,random,docker}, consul, and the
#   launcher of Pulumi's dynamic provider (toolchain/bundled/pulumi-resource-pulumi-nodejs)
#
#   scripts/toolchain.sh            build what is missing, print the bin directory (stdout)
#   scripts/toolchain.sh --bin-dir  print the bin directory only if the toolchain is complete
#
# Versions come from toolchain/versions.json; each binary is built by `go build` inside a Go module
# of the project's own (toolchain/go/*), whose go.mod/go.sum pin every dependency. Binaries are
# cached outside the repo, each under a key made of versions.json and its module's files, in
#   ${CONSUL_SWARM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/consul-swarm}/toolchain
# so a fresh clone on the same machine reuses them. Progress goes to stderr.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${CONSUL_SWARM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/consul-swarm}/toolchain"
VERSIONS="$REPO/toolchain/versions.json"
T0=$(date +%s)

log() { printf '[toolchain %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*" >&2; }
die() { printf 'consul-swarm toolchain: %s\n' "$*" >&2; exit 1; }

version_of() { node -e 'const v=require(process.argv[1]); const p=process.argv[2].split("."); let x=v; for (const k of p) x=x[k]; process.stdout.write(String(x));' "$VERSIONS" "$1"; }

PULUMI_VERSION=$(version_of pulumi)
COMMAND_VERSION=$(version_of plugins.command)
RANDOM_VERSION=$(version_of plugins.random)
DOCKER_VERSION=$(version_of plugins.docker)
CONSUL_VERSION=$(version_of consul)
CONSUL_ALSO=$(version_of consulAlso | tr ',' ' ')

# name | module dir | main package | version | -tags | -ldflags
# A Consul is linked as HashiCorp's release links it (GNUmakefile, .github/workflows/build.yml):
# version.BuildDate is the release commit's time and version.GitCommit its hash's first 8 digits,
# both as the module proxy serves them for the version (@MODULE_TIME@, @MODULE_REVISION@, read at
# build time). The proxy gives the hash only for some versions (its .info's Origin); without it the
# revision stays empty and `consul version` prints no Revision line rather than a made-up one.
CONSUL_LDFLAGS="-s -X=github.com/hashicorp/consul/version.BuildDate=@MODULE_TIME@ -X=github.com/hashicorp/consul/version.GitCommit=@MODULE_REVISION@"
BINARIES=(
  "pulumi|pulumi|github.com/pulumi/pulumi/pkg/v3/cmd/pulumi|$PULUMI_VERSION|osusergo,grpcnotrace|-X=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
  "pulumi-language-nodejs|langhost|.|$PULUMI_VERSION||-X=main.version=$PULUMI_VERSION"
  "pulumi-resource-command|providers|./cmd/pulumi-resource-command|$COMMAND_VERSION||-X=main.version=$COMMAND_VERSION"
  "pulumi-resource-random|providers|./cmd/pulumi-resource-random|$RANDOM_VERSION||-X=main.version=$RANDOM_VERSION"
  "pulumi-resource-docker|providers|./cmd/pulumi-resource-docker|$DOCKER_VERSION||-X=main.version=$DOCKER_VERSION"
  "consul|consul|github.com/hashicorp/consul|$CONSUL_VERSION||$CONSUL_LDFLAGS"
)
# Older Consul releases, for upgrades: each beside the pinned one as consul-VERSION.
for v in $CONSUL_ALSO; do
  BINARIES+=("consul-$v|consul-$v|github.com/hashicorp/consul|$v||$CONSUL_LDFLAGS")
done

# The key of one module: the pinned versions plus every file of the module.
module_key() {
  local dir="$REPO/toolchain/go/$1"
  {
    cat "$VERSIONS"
    (cd "$dir" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum -o -name '*.json' \) | LC_ALL=C sort | while IFS= read -r f; do
      printf '%s\0' "$f"; cat "$f"
    done)
    go env GOVERSION 2>/dev/null || true
  } | sha256sum | cut -c1-16
}

# The key of one binary: its module's key and how it is built (a changed flag is a new binary).
binary_key() {
  local name mod pkg version tags ldflags
  IFS='|' read -r name mod pkg version tags ldflags <<<"$1"
  printf '%s|%s|%s|%s\n' "$(module_key "$mod")" "$pkg" "$tags" "$ldflags" | sha256sum | cut -c1-16
}

# A module version's release commit as the module proxy serves it: "TIME HASH" (RFC 3339 UTC; the
# hash's first 8 digits, or nothing where the proxy does not say). Asked outside any module so that
# no go.mod or go.sum of the project is touched.
module_release() {
  local path=$1 version=$2 download
  if ! download=$(cd / && go mod download -json "$path@v$version"); then
    echo "$download"
    return 1
  fi
  node -e '
    const info = JSON.parse(require("fs").readFileSync(JSON.parse(process.argv[1]).Info, "utf8"));
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(info.Time || "")) {
      console.log(`the module proxy gave ${process.argv[2]} the time "${info.Time}"`);
      process.exit(1);
    }
    const hash = /^[0-9a-f]{40}$/.test(info.Origin?.Hash || "") ? info.Origin.Hash.slice(0, 8) : "";
    console.log(`${info.Time} ${hash}`.trim());
  ' "$download" "$path@v$version"
}

# One binary into $out/$name.tmp; its output is the build log.
build_binary() {
  local release time revision
  if [[ "$ldflags" == *@MODULE_* ]]; then
    release=$(module_release "$pkg" "$version") || { echo "$release"; return 1; }
    read -r time revision <<<"$release"
    ldflags=${ldflags//@MODULE_TIME@/$time}
    ldflags=${ldflags//@MODULE_REVISION@/$revision}
  fi
  cd "$REPO/toolchain/go/$mod" && go build -trimpath ${tags:+"-tags=$tags"} ${ldflags:+"-ldflags=$ldflags"} -o "$out/$name.tmp" "$pkg"
}

bin_dir_key() {
  local line name
  {
    for line in "${BINARIES[@]}"; do
      IFS='|' read -r name _ <<<"$line"
      printf '%s=%s\n' "$name" "$(binary_key "$line")"
    done
    cat "$REPO"/toolchain/bundled/*
  } | sha256sum | cut -c1-16
}

command -v node >/dev/null 2>&1 || die "node is not on PATH (the toolchain script reads toolchain/versions.json with it)"
if ! command -v go >/dev/null 2>&1; then
  die "the Go toolchain is missing: install Go (>= 1.25) so the Pulumi CLI, its plugins and Consul can be built from the Go module proxy"
fi

BIN_DIR="$CACHE/bin-$(bin_dir_key)"
if [ "${1:-}" = "--bin-dir" ]; then
  [ -e "$BIN_DIR/.complete" ] || exit 1
  echo "$BIN_DIR"
  exit 0
fi
if [ -e "$BIN_DIR/.complete" ]; then
  log "toolchain up to date: $BIN_DIR"
  echo "$BIN_DIR"
  exit 0
fi

case "$(go env GOPROXY)" in
  off) log "note: GOPROXY=off: only modules already in the module cache can be used" ;;
esac

mkdir -p "$CACHE" "$BIN_DIR"
built=0
i=0
for line in "${BINARIES[@]}"; do
  i=$((i + 1))
  IFS='|' read -r name mod pkg version tags ldflags <<<"$line"
  out="$CACHE/$name-$version-$(binary_key "$line")"
  if [ ! -x "$out/$name" ]; then
    log "building $name $version ($i/${#BINARIES[@]}) in toolchain/go/$mod: a cold build takes minutes on 2 cores"
    started=$(date +%s)
    mkdir -p "$out"
    logfile="$out/build.log"
    if ! (build_binary) >"$logfile" 2>&1; then
      reason=$(grep -m1 -E 'GOPROXY|proxy|dial|lookup|403|404|cannot find|missing|no required module' "$logfile" || tail -n 1 "$logfile")
      printf 'consul-swarm toolchain: could not build %s %s (go build %s in toolchain/go/%s).\n' "$name" "$version" "$pkg" "$mod" >&2
      printf '  why: %s\n' "$reason" >&2
      printf '  The Go module proxy must be reachable (go env GOPROXY = %s) or the modules already in the module cache.\n' "$(go env GOPROXY)" >&2
      printf '  Full log: %s\n' "$logfile" >&2
      tail -n 15 "$logfile" | sed 's/^/    /' >&2
      exit 1
    fi
    mv -f "$out/$name.tmp" "$out/$name"
    built=$((built + 1))
    log "built $name in $(( $(date +%s) - started ))s"
  fi
  # Hard links, not symlinks: the CLI finds its language host next to its own path (/proc/self/exe).
  ln -f "$out/$name" "$BIN_DIR/$name"
done
# Every Consul under its version's name too: a stack picks its binary by consul.version.
ln -f "$BIN_DIR/consul" "$BIN_DIR/consul-$CONSUL_VERSION"
total=$(( $(date +%s) - T0 ))
if [ "$built" -eq "${#BINARIES[@]}" ]; then
  # Every binary was built from scratch here: the cold figure the warm benchmark compares against.
  echo "$total" > "$CACHE/cold-build-seconds"
fi
# Plugins the CLI expects next to itself that are scripts, not builds (the dynamic provider).
install -m 0755 "$REPO"/toolchain/bundled/* "$BIN_DIR/"
touch "$BIN_DIR/.complete"
log "toolchain ready in ${total}s ($built built): $BIN_DIR"
echo "$BIN_DIR"
