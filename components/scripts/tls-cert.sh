# Runs on the machine running Pulumi: a key and a certificate signed by the CA that arrives on
# stdin (certificate then key), printed as certificate then key.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077
awk -v d="$tmp" '/-----BEGIN CERTIFICATE-----/ { f = d "/ca.pem" } /-----BEGIN EC PRIVATE KEY-----/ { f = d "/ca.key" } f { print > f }'
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/key.pem"
openssl req -new -key "$tmp/key.pem" -subj "/CN=$CN" -out "$tmp/req.csr"
{
  echo "basicConstraints=critical,CA:FALSE"
  echo "keyUsage=critical,digitalSignature,keyEncipherment"
  echo "extendedKeyUsage=$EKU"
  if [ -n "$SAN" ]; then echo "subjectAltName=$SAN"; fi
} > "$tmp/ext"
openssl x509 -req -in "$tmp/req.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
  -days "$DAYS" -sha256 -extfile "$tmp/ext" -out "$tmp/cert.pem" 2>/dev/null
cat "$tmp/cert.pem" "$tmp/key.pem"
