#!/usr/bin/env bash
# `npm test`: the whole suite, each stage failing the run: types, shell syntax, Go unit tests of the
# toolchain's own code, unit tests (mocks), policy tests, then the end-to-end tests on lab hosts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
T0=$(date +%s)
stage() { printf '\n=== %s (%ss)\n' "$*" "$(( $(date +%s) - T0 ))"; }

stage "types: tsc --noEmit (strict)"
npx tsc --noEmit -p tsconfig.json

stage "shell: sh -n / bash -n on every script"
for f in components/scripts/*.sh; do sh -n "$f"; done
for f in scripts/*.sh lab/image/build.sh lab/smoke.sh .ci/run; do bash -n "$f"; done

stage "go: vet and unit tests of the language host and the providers"
for mod in toolchain/go/langhost toolchain/go/providers; do
  (cd "$mod" && go vet ./... && go test -count=1 ./...)
done

stage "unit: components and config with Pulumi mocks"
npm run --silent test:unit

if [ -f policy/package.json ]; then
  stage "policy: rules against passing and failing cases"
  npm run --silent test:policy
fi

stage "e2e: the real engine on lab hosts"
bash scripts/test-e2e.sh

stage "all tests passed"
