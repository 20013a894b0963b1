#!/usr/bin/env bash
# What a fresh machine needs before anything else: Debian's packages (Docker engine, debootstrap
# for the lab image, OpenSSH client, sshd for the command provider's tests, jq) and the npm packages of the stack and its policy pack.
# Safe to run twice; asks apt only for what is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
need=()
for pkg in docker.io debootstrap openssh-client openssh-server openssl iptables jq curl; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v go >/dev/null 2>&1 || { echo "setup: Go is missing: install Go >= 1.25 (the toolchain is built from the Go module proxy)" >&2; exit 1; }
# npm ci only when the lock file changed since the last install here.
npm_ci() {
  local dir=$1 stamp
  stamp="$dir/node_modules/.consul-swarm-lock.sha256"
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$(sha256sum "$dir/package-lock.json" | cut -c1-64)" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund)
    sha256sum "$dir/package-lock.json" | cut -c1-64 > "$stamp"
  fi
}
npm_ci .
if [ -f policy/package.json ]; then
  npm_ci policy
fi
