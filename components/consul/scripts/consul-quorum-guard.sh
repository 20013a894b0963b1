# On the seed server, before the cluster's membership changes: the servers this change takes out of
# raft must leave a quorum behind. A running cluster of N voters keeps working losing at most
# (N-1)/2 at once; a change that removes more is refused here, before any host is touched, naming
# the servers and the fix. With no cluster running yet there is nothing to protect.
if [ -e "$TOKEN_FILE" ]; then export CONSUL_HTTP_TOKEN_FILE="$TOKEN_FILE"; fi
voters=$(consul_voters)
if [ -z "$voters" ]; then
  echo "quorum_guard=no running cluster"
  exit 0
fi
n=0 removed= k=0
for v in $voters; do
  n=$((n + 1))
  case " $EXPECTED_SERVER_NODES " in *" $v "*) ;; *) removed="$removed $v"; k=$((k + 1)) ;; esac
done
tolerance=$(( (n - 1) / 2 ))
if [ "$k" -gt "$tolerance" ]; then
  # shellcheck disable=SC2086 # the names, one a line, sorted
  removed=$(printf ' %s' $(printf '%s\n' $removed | sort))
  echo "consul-swarm: hosts: this change takes $k of the $n Consul servers out at once:$removed; a cluster of $n keeps its quorum losing at most $tolerance. No server was taken out: take out at most $tolerance server(s) per up, or add servers first." >&2
  exit 10
fi
echo "quorum_guard=ok voters=$n leaving=$k tolerance=$tolerance"
