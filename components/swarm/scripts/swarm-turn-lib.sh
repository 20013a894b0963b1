# Swarm workers' dockerd restarts take turns (docker-restart), a bounded number at a time: TURNS
# slots in Consul KV under $KV_PREFIX/restart-turns/, each held by one host while its dockerd
# restarts and rejoins. A slot is taken by a check-and-set (cas=0: only while free), so no two
# hosts ever hold one. The holder rewrites its slot every TURN_BEAT seconds; a slot this host sees
# unchanged for TURN_STALE seconds of its own waiting has a dead holder and is taken over (cas=its
# index): no other host's clock is trusted. A slot this host held in a run killed earlier is its own
# at once. Needs swarm-lib (consul_kv_auth has filled $tmp/auth).
turn_url() { printf '%s/v1/kv/%s/restart-turns/%s' "$CONSUL" "$KV_PREFIX" "$1"; }

# turn_read SLOT [FILE]: turn_status (200, 404, or 000 when Consul did not answer), turn_index and
# turn_holder of the slot.
turn_read() {
  turn_file=${2:-$tmp/turn.json}
  : > "$turn_file"
  turn_status=$(curl -s -m 10 -K "$tmp/auth" -o "$turn_file" -w '%{http_code}' "$(turn_url "$1")") || turn_status=000
  turn_index=$(sed -n 's/.*"ModifyIndex":\([0-9]*\).*/\1/p' "$turn_file")
  turn_holder=$(sed -n 's/.*"Value":"\([^"]*\)".*/\1/p' "$turn_file" | base64 -d 2>/dev/null || true)
}

# turn_put SLOT INDEX: this host's name into the slot if its index is still INDEX (0: the slot is
# free); true when Consul wrote it.
turn_put() {
  [ "$(printf '%s' "$turn_me" | curl -s -m 10 -K "$tmp/auth" -X PUT --data-binary @- "$(turn_url "$1")?cas=$2" || true)" = true ]
}

turn_took() {
  turn_slot=$1
  echo "consul-swarm: $turn_me has restart turn $turn_slot ($2)"
  # Its output nowhere: a sleep left by the killed loop must not hold the step's output open.
  (
    while sleep "$TURN_BEAT"; do
      turn_read "$turn_slot" "$tmp/beat.json"
      [ "$turn_holder" = "$turn_me" ] || exit 0
      turn_put "$turn_slot" "$turn_index" || true
    done
  ) >/dev/null 2>&1 &
  turn_beat=$!
}

# Waits for a free slot (or one whose holder is dead), for at most TURN_WAIT seconds, and for
# Consul at most TURN_WAIT_CONSUL seconds in a row; returns non-zero, having said why, when none came.
turn_take() {
  turn_me=$(hostname)
  turn_start=$(date +%s)
  turn_answered=$turn_start
  : > "$tmp/turn.seen"
  while :; do
    now=$(date +%s)
    slot=0
    while [ "$slot" -lt "$TURNS" ]; do
      turn_read "$slot"
      case "$turn_status" in
        404)
          turn_answered=$now
          if turn_put "$slot" 0; then turn_took "$slot" free; return 0; fi
          ;;
        200)
          turn_answered=$now
          if [ "$turn_holder" = "$turn_me" ]; then
            if turn_put "$slot" "$turn_index"; then turn_took "$slot" "its own from an earlier run"; return 0; fi
          else
            since=$(sed -n "s/^$slot $turn_index //p" "$tmp/turn.seen")
            if [ -z "$since" ]; then
              sed -i "/^$slot /d" "$tmp/turn.seen"
              echo "$slot $turn_index $now" >> "$tmp/turn.seen"
            elif [ $((now - since)) -ge "$TURN_STALE" ] && turn_put "$slot" "$turn_index"; then
              turn_took "$slot" "taken over from $turn_holder, unchanged for $((now - since)) s"
              return 0
            fi
          fi
          ;;
      esac
      slot=$((slot + 1))
    done
    if [ $((now - turn_answered)) -ge "$TURN_WAIT_CONSUL" ]; then
      echo "consul-swarm: $turn_me: no restart turn: Consul at $CONSUL did not answer for $TURN_WAIT_CONSUL s (dockerd not restarted; run up again once Consul answers)" >&2
      return 1
    fi
    if [ $((now - turn_start)) -ge "$TURN_WAIT" ]; then
      echo "consul-swarm: $turn_me: no restart turn within $TURN_WAIT s, every one of $TURNS held ($KV_PREFIX/restart-turns/ in Consul): dockerd not restarted" >&2
      return 1
    fi
    sleep 1
  done
}

# Gives the slot back, if it is still this host's.
turn_release() {
  [ -n "${turn_slot:-}" ] || return 0
  kill "$turn_beat" 2>/dev/null || true
  wait "$turn_beat" 2>/dev/null || true
  turn_read "$turn_slot"
  if [ "$turn_holder" = "$turn_me" ]; then
    curl -s -m 10 -K "$tmp/auth" -X DELETE "$(turn_url "$turn_slot")?cas=$turn_index" >/dev/null || true
    echo "consul-swarm: $turn_me gave back restart turn $turn_slot"
  fi
  turn_slot=
}
