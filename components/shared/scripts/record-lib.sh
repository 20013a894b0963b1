# What a step last wrote on this host, kept as SHA-256 sums: the read-only drift checks that
# `pulumi refresh` runs tell a file edited by hand from one the stack wrote. Never used to decide
# what a step does (steps decide from the host's real state).
RECORD_DIR=/var/lib/consul-swarm/applied

# record_files NAME: the sums of the files named on stdin, one per line, replacing NAME's record.
record_files() {
  mkdir -p "$RECORD_DIR"
  while IFS= read -r f; do
    [ ! -f "$f" ] || sha256sum "$f"
  done > "$RECORD_DIR/$1.sha256.tmp"
  mv -f "$RECORD_DIR/$1.sha256.tmp" "$RECORD_DIR/$1.sha256"
}

# record_check NAME LABEL: one finding per file of NAME's record that is gone or changed.
record_check() {
  [ -s "$RECORD_DIR/$1.sha256" ] || return 0
  while read -r sum f; do
    if [ ! -e "$f" ]; then
      echo "$2: $f was removed"
    elif [ "$(sha256sum "$f" | cut -d' ' -f1)" != "$sum" ]; then
      echo "$2: $f was edited after the stack wrote it"
    fi
  done < "$RECORD_DIR/$1.sha256"
}
