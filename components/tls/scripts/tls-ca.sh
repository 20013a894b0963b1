# Runs on the machine running Pulumi: the stack's CA, printed as certificate then key (the stack
# keeps the output a secret and never logs it). A CA is made once: when this step runs again (a
# changed script, a re-run), the previous pair, handed back by the command provider as
# PULUMI_COMMAND_STDOUT, is printed again as long as it is still a CA for CN with at least
# RENEW_DAYS to live; only then is a new one made.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077
tls_keep_previous() {
  [ -n "${PULUMI_COMMAND_STDOUT:-}" ] || return 1
  printf '%s\n' "$PULUMI_COMMAND_STDOUT" > "$tmp/prev"
  openssl x509 -in "$tmp/prev" -noout -subject -nameopt RFC2253 2>/dev/null | grep -qx "subject=CN=$CN" || return 1
  openssl x509 -in "$tmp/prev" -noout -checkend $((RENEW_DAYS * 86400)) >/dev/null 2>&1 || return 1
  grep -q -- '-----BEGIN EC PRIVATE KEY-----' "$tmp/prev" || return 1
  cat "$tmp/prev"
}
tls_keep_previous && exit 0
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/ca.key"
openssl req -x509 -new -key "$tmp/ca.key" -sha256 -days "$DAYS" -subj "/CN=$CN" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$tmp/ca.pem" 2>/dev/null
cat "$tmp/ca.pem" "$tmp/ca.key"
