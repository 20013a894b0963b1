# The binary arrives at $UPLOAD (copied by the stack) and is consumed here: installed only if it
# is the one expected, then removed. A re-run with nothing uploaded is fine when the installed
# binary is already the expected one.
# The upload's directory is /var/tmp, which anyone may write: it is copied first, and the copy,
# which only root can change, is what gets checked and installed (a file swapped after a check
# would otherwise be what root installs and runs).
if [ -e "$UPLOAD" ]; then
  install -m 0755 "$UPLOAD" /usr/local/bin/consul.new
  echo "$SHA256  /usr/local/bin/consul.new" | sha256sum -c --quiet - >/dev/null 2>&1 || {
    rm -f /usr/local/bin/consul.new
    echo "consul-swarm: $UPLOAD on $(hostname) does not match SHA-256 $SHA256" >&2
    exit 5
  }
  mv -f /usr/local/bin/consul.new /usr/local/bin/consul
  rm -f "$UPLOAD"
elif ! echo "$SHA256  /usr/local/bin/consul" | sha256sum -c --quiet - 2>/dev/null; then
  echo "consul-swarm: nothing uploaded to $UPLOAD on $(hostname) and /usr/local/bin/consul is not the expected binary (SHA-256 $SHA256)" >&2
  exit 5
fi
/usr/local/bin/consul version | head -n 1
