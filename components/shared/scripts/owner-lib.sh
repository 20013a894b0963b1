# Which step of the stack owns a part of this host (its Consul install, its agent, its Docker
# config, its swarm membership). A renamed host or a changed role gives the stack new steps for the
# same machine, and the old steps' deletes run at the end of that same `up`: the new step claims
# the part when it runs, and an old delete finds it owned by another step and leaves it alone.
OWNERS=/var/lib/consul-swarm/owners
owner_claim() {
  mkdir -p "$OWNERS"
  printf '%s\n' "$OWNER_ID" > "$OWNERS/$OWNER_PART"
}
# After the owner's own delete has done its work: its record goes, and the stack's directories go
# with the last record in them (a host the stack leaves is as it was before).
owner_release() {
  rm -f "$OWNERS/$OWNER_PART"
  rmdir "$OWNERS" /var/lib/consul-swarm/applied /var/lib/consul-swarm 2>/dev/null || true
}
owner_check() {
  owner_now=$(cat "$OWNERS/$OWNER_PART" 2>/dev/null || true)
  if [ "$owner_now" != "$OWNER_ID" ]; then
    echo "consul-swarm: $OWNER_PART on $(hostname) belongs to ${owner_now:-no step of the stack}, not to $OWNER_ID: left as it is"
    exit 0
  fi
}
