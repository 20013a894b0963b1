# The binary arrived at $UPLOAD (copied by the stack); install it only if it is the one expected.
echo "$SHA256  $UPLOAD" | sha256sum -c --quiet - || {
  echo "consul-swarm: $UPLOAD on $(hostname) does not match SHA-256 $SHA256" >&2
  exit 5
}
install -m 0755 "$UPLOAD" /usr/local/bin/consul.new
mv -f /usr/local/bin/consul.new /usr/local/bin/consul
/usr/local/bin/consul version | head -n 1
