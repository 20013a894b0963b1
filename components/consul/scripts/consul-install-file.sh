# The binary arrives at $UPLOAD (copied by the stack) and is consumed here: installed only if it
# is the one expected, then removed. A re-run with nothing uploaded is fine when the installed
# binary is already the expected one.
if [ -e "$UPLOAD" ]; then
  echo "$SHA256  $UPLOAD" | sha256sum -c --quiet - || {
    echo "consul-swarm: $UPLOAD on $(hostname) does not match SHA-256 $SHA256" >&2
    exit 5
  }
  install -m 0755 "$UPLOAD" /usr/local/bin/consul.new
  mv -f /usr/local/bin/consul.new /usr/local/bin/consul
  rm -f "$UPLOAD"
elif ! echo "$SHA256  /usr/local/bin/consul" | sha256sum -c --quiet - 2>/dev/null; then
  echo "consul-swarm: nothing uploaded to $UPLOAD on $(hostname) and /usr/local/bin/consul is not the expected binary (SHA-256 $SHA256)" >&2
  exit 5
fi
/usr/local/bin/consul version | head -n 1
