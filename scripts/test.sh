#!/usr/bin/env bash
# `npm test`: the whole suite, each stage failing the run: types, shell syntax, Go unit tests of the
# toolchain's own code, unit tests (mocks), policy tests, then the end-to-end tests on lab hosts.
# `npm run test:quick` (--quick): the inner loop: the same static, unit and policy stages, no Go
# tests, and one end-to-end smoke (test/smoke) instead of the e2e files.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
quick=no
[ "${1:-}" != --quick ] || quick=yes
T0=$(date +%s)
stage() { printf '\n=== %s (%ss)\n' "$*" "$(( $(date +%s) - T0 ))"; }

stage "setup: Debian and npm packages the suite needs (what is missing only)"
bash scripts/setup.sh

stage "types: tsc --noEmit (strict)"
npx tsc --noEmit -p tsconfig.json

stage "shell: sh -n / bash -n on every script"
for f in components/*/scripts/*.sh lab/hosts/scripts/*.sh; do sh -n "$f"; done
for f in scripts/*.sh bench/*.sh lab/image/build.sh lab/kernel-limits.sh lab/smoke.sh .ci/run; do bash -n "$f"; done

stage "workflows: actionlint on .github/workflows (built from the Go module proxy)"
bash scripts/actionlint.sh

if [ "$quick" = no ]; then
  stage "go: vet and tests of the language host and the providers (sshd and Docker integration included)"
  # The providers' integration tests need a Docker engine and an sshd binary: both are required here,
  # and a skipped Go test fails this stage, so a missing piece cannot pass silently.
  bash scripts/dockerd-start.sh
  gotest_log=$(mktemp)
  for mod in toolchain/go/langhost toolchain/go/providers; do
    (cd "$mod" && go vet ./... && DOCKER_INTEGRATION=require go test -count=1 -v ./... > "$gotest_log" 2>&1) || {
      tail -n 60 "$gotest_log"; exit 1; }
    grep -E '^(ok|FAIL|---)' "$gotest_log" | grep -v -- '--- PASS' || true
    if grep -q -- '--- SKIP' "$gotest_log"; then
      grep -A2 -- '--- SKIP' "$gotest_log"
      echo "go tests in $mod skipped a test: install what it names (scripts/setup.sh does)" >&2
      exit 1
    fi
  done
  rm -f "$gotest_log"
fi

stage "unit: components and config with Pulumi mocks"
npm run --silent test:unit

if [ -f policy/package.json ]; then
  stage "policy: rules against passing and failing cases"
  npm run --silent test:policy
fi

if [ "$quick" = yes ]; then
  stage "smoke: a cold up of the dev topology on lab hosts, a no-op preview, a destroy"
  bash scripts/test-e2e.sh test/smoke/*.test.ts
  stage "quick stage passed"
  exit 0
fi

stage "e2e: the real engine on lab hosts"
bash scripts/test-e2e.sh

stage "all tests passed"
