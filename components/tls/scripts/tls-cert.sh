# Runs on the machine running Pulumi: a key and a certificate signed by the CA that arrives on
# stdin (certificate then key), printed as certificate then key. When this step runs again, the
# previous pair (PULUMI_COMMAND_STDOUT) is printed again if it is still what is asked for: signed
# by this CA, the same subject, names and usage, with at least RENEW_DAYS to live. So a re-run
# or an edited script changes nothing, and a new CA or a new address issues a new certificate.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077
awk -v d="$tmp" '/-----BEGIN CERTIFICATE-----/ { f = d "/ca.pem" } /-----BEGIN EC PRIVATE KEY-----/ { f = d "/ca.key" } f { print > f }'
{
  echo "basicConstraints=critical,CA:FALSE"
  echo "keyUsage=critical,digitalSignature,keyEncipherment"
  echo "extendedKeyUsage=$EKU"
  if [ -n "$SAN" ]; then echo "subjectAltName=$SAN"; fi
} > "$tmp/ext"
# What a certificate says about itself, in a form that compares equal for the same request.
tls_describe() {
  openssl x509 -in "$1" -noout -subject -nameopt RFC2253 -ext subjectAltName,extendedKeyUsage 2>/dev/null |
    sed 's/IP Address:/IP:/g; s/^ *//' | tr -d '\n'
}
tls_keep_previous() {
  [ -n "${PULUMI_COMMAND_STDOUT:-}" ] || return 1
  printf '%s\n' "$PULUMI_COMMAND_STDOUT" > "$tmp/prev"
  grep -q -- '-----BEGIN EC PRIVATE KEY-----' "$tmp/prev" || return 1
  openssl verify -CAfile "$tmp/ca.pem" "$tmp/prev" >/dev/null 2>&1 || return 1
  openssl x509 -in "$tmp/prev" -noout -checkend $((RENEW_DAYS * 86400)) >/dev/null 2>&1 || return 1
  # The wanted description, from a throw-away certificate made for the same request.
  openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/probe.key"
  openssl req -new -x509 -key "$tmp/probe.key" -subj "/CN=$CN" -days 1 -extensions v3 \
    -config "$tmp/probe.cnf" -out "$tmp/probe.pem" 2>/dev/null || return 1
  [ "$(tls_describe "$tmp/prev")" = "$(tls_describe "$tmp/probe.pem")" ] || return 1
  cat "$tmp/prev"
}
{ printf '[req]\ndistinguished_name=dn\n[dn]\n[v3]\n'; cat "$tmp/ext"; } > "$tmp/probe.cnf"
tls_keep_previous && exit 0
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/key.pem"
openssl req -new -key "$tmp/key.pem" -subj "/CN=$CN" -out "$tmp/req.csr"
openssl x509 -req -in "$tmp/req.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
  -days "$DAYS" -sha256 -extfile "$tmp/ext" -out "$tmp/cert.pem" 2>/dev/null
cat "$tmp/cert.pem" "$tmp/key.pem"
