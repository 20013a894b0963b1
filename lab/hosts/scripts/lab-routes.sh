# On this machine (the lab's Docker engine): traffic between this lab's subnet and each of PEERS,
# both ways, forwarded and not masqueraded. Docker isolates its bridge networks from each other
# (DOCKER-ISOLATION) and masquerades whatever leaves one; two datacenters' servers must see each
# other's own addresses, as routed networks would. DOCKER-USER is the chain Docker leaves to its
# users and evaluates first. ACTION is add or remove; each rule is checked before it is changed,
# so a run killed at any line converges when run again.
command -v iptables >/dev/null || { echo "lab-routes: iptables is missing on this machine (apt-get install iptables)" >&2; exit 3; }
rule() {
  if [ "$ACTION" = add ]; then
    iptables -w -t "$1" -C "$2" -s "$3" -d "$4" -j "$5" 2>/dev/null || iptables -w -t "$1" -I "$2" -s "$3" -d "$4" -j "$5"
  else
    while iptables -w -t "$1" -C "$2" -s "$3" -d "$4" -j "$5" 2>/dev/null; do iptables -w -t "$1" -D "$2" -s "$3" -d "$4" -j "$5"; done
  fi
}
if [ "$ACTION" = add ] && ! iptables -w -n -L DOCKER-USER >/dev/null 2>&1; then
  echo "lab-routes: no DOCKER-USER chain: is the Docker engine running with its iptables rules?" >&2
  exit 4
fi
for peer in $PEERS; do
  for pair in "$SUBNET $peer" "$peer $SUBNET"; do
    set -- $pair
    rule filter DOCKER-USER "$1" "$2" ACCEPT
    rule nat POSTROUTING "$1" "$2" RETURN
  done
  echo "route $SUBNET <-> $peer: $ACTION"
done
