# Shared by the swarm scripts: Consul KV through its HTTP API. With ACLs on, the token arrives on
# stdin and goes into a 0600 header file, so it never shows on a command line.
consul_kv_auth() {
  : > "$tmp/auth"
  if [ "$ACL" = yes ]; then
    (umask 077 && printf 'X-Consul-Token: %s\n' "$(cat)" > "$tmp/auth")
  fi
}
kv() {
  if [ -s "$tmp/auth" ]; then
    curl -sf -H "@$tmp/auth" "$@"
  else
    curl -sf "$@"
  fi
}
