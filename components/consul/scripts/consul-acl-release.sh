# A secondary datacenter's delete: its policies (named with its datacenter; POLICIES) and every
# token that holds one of them are removed from the primary (ACL_DC), where they were made. ACLs
# are global: without this, the agents' token (node_prefix write) would outlive the datacenter in
# the primary, valid for whoever finds it on a discarded disk. The primary's own policies and
# tokens, and its management token that this datacenter uses, are never touched. A primary that no
# longer answers took its tokens with it: this step then says so and lets the destroy go on.
if ! retry_for "$WAIT_SECONDS" api -o /dev/null "http://127.0.0.1:8500/v1/acl/policies?dc=$ACL_DC"; then
  echo "consul-swarm: the primary datacenter $ACL_DC does not answer: $POLICIES and their tokens stay there if it still exists" >&2
  exit 0
fi
for name in $POLICIES; do
  id=$(api "http://127.0.0.1:8500/v1/acl/policy/name/$name?dc=$ACL_DC" 2>/dev/null | sed -n 's/^{"ID":"\([^"]*\)".*/\1/p' || true)
  [ -n "$id" ] || continue
  for accessor in $(api "http://127.0.0.1:8500/v1/acl/tokens?policy=$id&dc=$ACL_DC" | grep -o '"AccessorID":"[^"]*"' | cut -d'"' -f4); do
    api -X DELETE -o /dev/null "http://127.0.0.1:8500/v1/acl/token/$accessor?dc=$ACL_DC"
    echo "consul-swarm: token $accessor ($name) removed from $ACL_DC"
  done
  api -X DELETE -o /dev/null "http://127.0.0.1:8500/v1/acl/policy/$id?dc=$ACL_DC"
  echo "consul-swarm: policy $name removed from $ACL_DC"
done
