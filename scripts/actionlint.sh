#!/usr/bin/env bash
# Checks the CI workflow files with actionlint, built once from the Go module proxy at the version
# toolchain/versions.json pins (cached next to the toolchain), the way the machine's go is set up.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
version=$(node -e 'process.stdout.write(require("./toolchain/versions.json").actionlint)')
bin="${CONSUL_SWARM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/consul-swarm}/tools/actionlint-$version"
if [ ! -x "$bin/actionlint" ]; then
  echo "actionlint: building $version from the Go module proxy" >&2
  mkdir -p "$bin"
  GOBIN="$bin" go install "github.com/rhysd/actionlint/cmd/actionlint@v$version" >&2 ||
    { echo "actionlint: could not build github.com/rhysd/actionlint $version with go install" >&2; exit 1; }
fi
"$bin/actionlint" -no-color .github/workflows/*.yml
echo "actionlint $version: .github/workflows clean"
