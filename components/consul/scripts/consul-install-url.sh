# Installs Consul from URL: a release zip or a bare binary. SHA256 is the download's checksum (for
# a zip, the line of HashiCorp's SHA256SUMS a user copies); BINARY_SHA is the consul executable's,
# which the stack read from the same download before any host was touched, and which every other
# step checks. Decided from the host: a binary already installed with BINARY_SHA is kept as it is,
# so a re-run after a kill, or a new URL for the same binary, downloads nothing.
BINARY=/usr/local/bin/consul
if echo "$BINARY_SHA  $BINARY" | sha256sum -c --quiet - >/dev/null 2>&1; then
  "$BINARY" version | head -n 1
  exit 0
fi
for tool in curl sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || { echo "consul-swarm: $(hostname) needs $tool to install Consul" >&2; exit 3; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Bounded: 30 s to connect, 10 minutes for the whole transfer of each try, three tries.
curl -fsSL --connect-timeout 30 --max-time 600 --retry 3 -o "$tmp/download" "$URL" || {
  echo "consul-swarm: $(hostname) could not download $URL (curl exit $?; waited at most 30 s to connect and 600 s per try, 3 retries)" >&2
  exit 4
}
echo "$SHA256  $tmp/download" | sha256sum -c --quiet - >/dev/null 2>&1 || {
  echo "consul-swarm: $URL as downloaded on $(hostname) does not match consul.install.sha256 ($SHA256)" >&2
  exit 5
}
if [ "$(head -c 2 "$tmp/download")" = PK ]; then
  command -v unzip >/dev/null 2>&1 || { echo "consul-swarm: $(hostname) needs unzip to install Consul from a zip" >&2; exit 3; }
  unzip -o -q "$tmp/download" consul -d "$tmp/x" || {
    echo "consul-swarm: $URL holds no consul executable" >&2
    exit 5
  }
  src="$tmp/x/consul"
else
  src="$tmp/download"
fi
echo "$BINARY_SHA  $src" | sha256sum -c --quiet - >/dev/null 2>&1 || {
  echo "consul-swarm: the consul executable from $URL on $(hostname) is not the one the stack read (SHA-256 $BINARY_SHA)" >&2
  exit 5
}
install -m 0755 "$src" "$BINARY.new"
mv -f "$BINARY.new" "$BINARY"
"$BINARY" version | head -n 1
