# Runs on the machine running Pulumi: a key and a certificate signed by the CA that arrives on
# stdin (certificate then key), printed as certificate then key. When this step runs again, the
# previous pair (PULUMI_COMMAND_STDOUT) is printed again if it is still what is asked for: signed
# by this CA, the same subject, names and usage, with more than RENEW_SECONDS to live. So a re-run
# or an edited script changes nothing, and a new CA or a new address issues a new certificate.
# A renewal is not decided here: the step runs again only when its inputs change, and the
# CertificateRenewal resource beside it is what changes them once a certificate is due.
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
  openssl x509 -in "$tmp/prev" -noout -checkend "$RENEW_SECONDS" >/dev/null 2>&1 || return 1
  # The wanted description, from a throw-away certificate made for the same request.
  openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/probe.key"
  openssl req -new -x509 -key "$tmp/probe.key" -subj "/CN=$CN" -days 1 -extensions v3 \
    -config "$tmp/probe.cnf" -out "$tmp/probe.pem" 2>/dev/null || return 1
  [ "$(tls_describe "$tmp/prev")" = "$(tls_describe "$tmp/probe.pem")" ] || return 1
  cat "$tmp/prev"
}
{ printf '[req]\ndistinguished_name=dn\n[dn]\n[v3]\n'; cat "$tmp/ext"; } > "$tmp/probe.cnf"
tls_keep_previous && exit 0
# GNU date, then BSD date: a time in seconds as openssl ca writes a validity bound.
utc_at() {
  date -u -d "@$1" +%Y%m%d%H%M%SZ 2>/dev/null || date -u -r "$1" +%Y%m%d%H%M%SZ
}
now=$(date -u +%s)
# Valid from BACKDATE_SECONDS ago: a host whose clock is behind by up to the stack's skew bound
# still takes a certificate issued a moment ago.
start=$(utc_at $((now - BACKDATE_SECONDS)))
end=$(utc_at $((now + VALID_SECONDS)))
: > "$tmp/index.txt"
openssl rand -hex 16 > "$tmp/serial"
printf '[ca]\ndefault_ca=issuer\n[issuer]\ndatabase=%s\nserial=%s\nnew_certs_dir=%s\ncertificate=%s\nprivate_key=%s\ndefault_md=sha256\npolicy=any\nunique_subject=no\n[any]\ncommonName=supplied\n' \
  "$tmp/index.txt" "$tmp/serial" "$tmp" "$tmp/ca.pem" "$tmp/ca.key" > "$tmp/ca.cnf"
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/key.pem"
openssl req -new -key "$tmp/key.pem" -subj "/CN=$CN" -out "$tmp/req.csr"
openssl ca -batch -config "$tmp/ca.cnf" -in "$tmp/req.csr" -out "$tmp/cert.pem" -notext \
  -startdate "$start" -enddate "$end" -extfile "$tmp/ext" 2>"$tmp/ca.log" || { cat "$tmp/ca.log" >&2; exit 1; }
cat "$tmp/cert.pem" "$tmp/key.pem"
