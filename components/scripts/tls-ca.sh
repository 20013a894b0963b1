# Runs on the machine running Pulumi: a new CA for the Docker API, printed as certificate then key
# (the stack keeps the output a secret and never logs it).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/ca.key"
openssl req -x509 -new -key "$tmp/ca.key" -sha256 -days "$DAYS" -subj "/CN=$CN" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$tmp/ca.pem" 2>/dev/null
cat "$tmp/ca.pem" "$tmp/ca.key"
