# Forwarding the `consul` domain from the host's own resolver to the local agent's DNS
# (systemd-resolved or dnsmasq, whichever the host runs), and taking it away again. A marker
# written before a change and removed after the resolver restarted lets a killed run be finished.
DNS_RESOLVED_CONF=/etc/systemd/resolved.conf.d/consul-swarm.conf
DNS_DNSMASQ_CONF=/etc/dnsmasq.d/10-consul-swarm
DNS_PENDING=/var/lib/consul-swarm/dns-forwarding.pending

# dns_place FILE CONTENT SERVICE: FILE holds CONTENT (or is gone when CONTENT is empty) and
# SERVICE runs with it.
dns_place() {
  mkdir -p "${DNS_PENDING%/*}"
  if [ -n "$2" ]; then
    printf '%s\n' "$2" > "$tmp/dns.conf"
    if ! cmp -s "$tmp/dns.conf" "$1"; then
      : > "$DNS_PENDING"
      mkdir -p "${1%/*}"
      install -m 0644 "$tmp/dns.conf" "$1"
    fi
  elif [ -e "$1" ]; then
    : > "$DNS_PENDING"
    rm -f "$1"
  fi
  if [ -e "$DNS_PENDING" ]; then
    systemctl restart "$3"
    rm -f "$DNS_PENDING"
    echo "consul-swarm: $3 on $(hostname) restarted for the consul domain"
  fi
}

consul_dns_forwarding() {
  if [ "$DNS_FORWARD" = yes ]; then
    if systemctl is-active --quiet systemd-resolved 2>/dev/null; then
      dns_place "$DNS_RESOLVED_CONF" "$(printf '[Resolve]\nDNS=127.0.0.1:%s\nDomains=~consul\n' "$DNS_PORT")" systemd-resolved
      echo "dns_forwarding=systemd-resolved"
    elif command -v dnsmasq >/dev/null 2>&1; then
      dns_place "$DNS_DNSMASQ_CONF" "$(printf 'server=/consul/127.0.0.1#%s\n' "$DNS_PORT")" dnsmasq
      echo "dns_forwarding=dnsmasq"
    else
      echo "consul-swarm: consul.dnsForwarding is on, but $(hostname) runs neither systemd-resolved nor dnsmasq: install one (apt-get install dnsmasq), or set consul.dnsForwarding: false" >&2
      exit 3
    fi
  else
    [ ! -e "$DNS_RESOLVED_CONF" ] || dns_place "$DNS_RESOLVED_CONF" "" systemd-resolved
    [ ! -e "$DNS_DNSMASQ_CONF" ] || dns_place "$DNS_DNSMASQ_CONF" "" dnsmasq
  fi
}
