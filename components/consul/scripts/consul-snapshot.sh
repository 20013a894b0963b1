# On the machine running Pulumi: saves a snapshot of the cluster's state (KV, ACLs, catalog) to a
# file there, or restores one, through the servers' HTTP API. stdin: the management token on its
# first line, then the Consul CA in PEM when the API is HTTPS. Both go to 0600 files curl reads,
# never to a command line; files are made 0600. ADDRS: the servers' API base URLs; the first with a leader is used.
# Also run by scripts/snapshot.sh (`npm run snapshot`), outside any stack step.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077
IFS= read -r token || token=
cat > "$tmp/ca.pem"
{
  [ -z "$token" ] || printf 'header = "X-Consul-Token: %s"\n' "$token"
  [ ! -s "$tmp/ca.pem" ] || printf 'cacert = "%s"\n' "$tmp/ca.pem"
} > "$tmp/curl.conf"
# The first server with a leader.
find_api() {
  api=
  for a in $ADDRS; do
    case "$(curl -s -m 5 -K "$tmp/curl.conf" "$a/v1/status/leader" 2>/dev/null || true)" in
      *:*) api=$a; return 0 ;;
    esac
  done
  return 1
}
# One try of a save from $api: 0 saved, 1 worth another try (no answer, or a 5xx: a server answers
# 500 while the cluster settles, a new server being promoted or a leader just elected; or an
# archive cut short, which a 200 already sent cannot say: seen while servers joined), 2 refused.
save_once() {
  # Raft refuses a snapshot when nothing was committed since its last one ("nothing new to
  # snapshot", a 500): a key that says when this one was taken makes sure something was.
  code=$(printf '%s' "$(date -u +%Y-%m-%dT%H:%M:%SZ) $LABEL" |
    curl -sS -m 30 -K "$tmp/curl.conf" -o "$tmp/answer" -w '%{http_code}' -X PUT --data-binary @- "$api/v1/kv/consul-swarm/snapshots/last" 2>"$tmp/curl.err") || code=000
  if [ "$code" = 200 ]; then
    code=$(curl -sS -m 300 -K "$tmp/curl.conf" -o "$file.part" -w '%{http_code}' "$api/v1/snapshot" 2>"$tmp/curl.err") || code=000
    if [ "$code" = 200 ]; then
      gzip -t "$file.part" 2>/dev/null && return 0
      rm -f "$file.part"
      last_error="$api sent a snapshot that is not a whole gzip archive"
      return 1
    fi
    mv -f "$file.part" "$tmp/answer" 2>/dev/null || true
  fi
  last_error="$api answered $code: $(head -c 300 "$tmp/answer" 2>/dev/null) $(cat "$tmp/curl.err" 2>/dev/null)"
  case "$code" in 5??|000) return 1 ;; *) return 2 ;; esac
}
find_api || true
case "$ACTION" in
  save)
    if [ -z "$api" ]; then
      # A first up has no cluster to save yet; once one ran (the step's previous output, which the
      # command provider passes on an update), a change that restarts servers stops here instead.
      if [ -z "${PULUMI_COMMAND_STDOUT:-}" ] && [ "${REQUIRE_CLUSTER:-yes}" = no ]; then
        echo "snapshot=none (no cluster yet)"
        exit 0
      fi
      echo "consul-swarm: no Consul server answers with a leader ($ADDRS): no snapshot was taken, nothing was restarted" >&2
      exit 4
    fi
    # A snapshot holds every ACL token: readable by this user only.
    mkdir -p "$DIR"
    chmod 0700 "$DIR"
    file="$(cd "$DIR" && pwd)/${NAME:-$(date -u +%Y%m%dT%H%M%SZ)-$LABEL.snap}"
    # Within SAVE_WAIT seconds, each try asking again which server leads.
    deadline=$(( $(date +%s) + ${SAVE_WAIT:-90} ))
    until save_once; do
      result=$?
      if [ "$result" = 2 ] || [ "$(date +%s)" -ge "$deadline" ]; then
        rm -f "$file.part"
        echo "consul-swarm: no snapshot was taken, nothing was restarted: $last_error" >&2
        exit 5
      fi
      echo "consul-swarm: the snapshot is not taken yet ($last_error); trying again" >&2
      sleep 2
      find_api || true
    done
    mv "$file.part" "$file"
    echo "snapshot=$file"
    ;;
  restore)
    [ -n "$api" ] || { echo "consul-swarm: no Consul server answers with a leader ($ADDRS): nothing was restored" >&2; exit 4; }
    [ -s "$FILE" ] || { echo "consul-swarm: no snapshot file at $FILE" >&2; exit 3; }
    # Keys under KEEP_PREFIX belong to the cluster restored into (its swarm's join tokens and
    # manager address), not to the snapshot: read before, put back after, in one transaction.
    kept=no
    if [ -n "${KEEP_PREFIX:-}" ] &&
      [ "$(curl -sS -m 30 -K "$tmp/curl.conf" -o "$tmp/kept.json" -w '%{http_code}' "$api/v1/kv/$KEEP_PREFIX/?recurse")" = 200 ]; then
      kept=yes
    fi
    curl -sS -f -m 300 -K "$tmp/curl.conf" -X PUT --data-binary @"$FILE" "$api/v1/snapshot"
    if [ "$kept" = yes ]; then
      node -e 'const kv = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        process.stdout.write(JSON.stringify(kv.map((e) => ({ KV: { Verb: "set", Key: e.Key, Value: e.Value ?? "" } }))))' "$tmp/kept.json" |
        curl -sS -f -m 30 -K "$tmp/curl.conf" -X PUT --data-binary @- "$api/v1/txn" >/dev/null
      echo "kept=$KEEP_PREFIX/"
    fi
    echo "restored=$FILE into=$api"
    ;;
  *)
    echo "consul-swarm: ACTION must be save or restore, not '$ACTION'" >&2
    exit 2
    ;;
esac
