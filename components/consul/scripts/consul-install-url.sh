for tool in curl sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || { echo "consul-swarm: $(hostname) needs $tool to install Consul" >&2; exit 3; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL --retry 3 -o "$tmp/download" "$URL"
echo "$SHA256  $tmp/download" | sha256sum -c --quiet - || {
  echo "consul-swarm: $URL does not match consul.install.sha256 ($SHA256)" >&2
  exit 5
}
case "$URL" in
  *.zip)
    command -v unzip >/dev/null 2>&1 || { echo "consul-swarm: $(hostname) needs unzip to install Consul" >&2; exit 3; }
    unzip -o -q "$tmp/download" consul -d "$tmp/x"
    src="$tmp/x/consul" ;;
  *) src="$tmp/download" ;;
esac
install -m 0755 "$src" /usr/local/bin/consul.new
mv -f /usr/local/bin/consul.new /usr/local/bin/consul
/usr/local/bin/consul version | head -n 1
