# Read-only, run by `pulumi refresh`: is the Consul binary the one the stack installed? Changes nothing.
echo "$BINARY_SHA  /usr/local/bin/consul" | sha256sum -c --quiet - >/dev/null 2>&1 ||
  echo "consul: /usr/local/bin/consul on $(hostname) is not the binary the stack installed (SHA-256 $BINARY_SHA)"
