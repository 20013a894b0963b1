# Runs a command once a second until it succeeds, at most SECONDS times; returns non-zero when it
# never does, so the caller says what failed and why.
retry_for() {
  retry_left=$1
  shift
  until "$@"; do
    retry_left=$((retry_left - 1))
    [ "$retry_left" -gt 0 ] || return 1
    sleep 1
  done
}
