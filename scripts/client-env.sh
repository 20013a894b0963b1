#!/usr/bin/env bash
# `eval "$(npm run --silent client-env -- STACK)"`: a shell's Docker and Consul clients pointed at a
# stack's cluster: DOCKER_HOST (the swarm manager), DOCKER_TLS_VERIFY and DOCKER_CERT_PATH (the
# stack's client certificate, written 0600 under .state/clients/STACK), CONSUL_HTTP_ADDR (HTTPS
# when Consul has TLS), CONSUL_CACERT and CONSUL_HTTP_TOKEN_FILE (the ACL bootstrap token). Prints export lines only; secrets go to files or
# to your shell's environment, never to a command line.
set -euo pipefail
stack=${1:-dev}
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
consul_swarm_env >/dev/null
cd "$CONSUL_SWARM_REPO"
consul_swarm_outputs "$stack"
field() { consul_swarm_output "$1"; }
dir="$CONSUL_SWARM_STATE/clients/$stack"
mkdir -p "$dir"
chmod 0700 "$dir"
printf 'export DOCKER_HOST=%q\n' "$(field swarmManager)"
if [ -n "$(field dockerTls.caCert)" ]; then
  field dockerTls.caCert > "$dir/ca.pem"
  field dockerTls.clientCert > "$dir/cert.pem"
  (umask 077 && field dockerTls.clientKey > "$dir/key.pem")
  printf 'export DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=%q\n' "$dir"
fi
if [ -n "$(field consulCaCert)" ]; then
  field consulCaCert > "$dir/consul-ca.pem"
  printf 'export CONSUL_HTTP_ADDR=%q CONSUL_CACERT=%q\n' "$(field consulHttpsAddr)" "$dir/consul-ca.pem"
else
  printf 'export CONSUL_HTTP_ADDR=%q\n' "$(field consulHttpAddr)"
fi
if [ -n "$(field aclBootstrapToken)" ]; then
  (umask 077 && field aclBootstrapToken > "$dir/consul.token")
  printf 'export CONSUL_HTTP_TOKEN_FILE=%q\n' "$dir/consul.token"
fi
