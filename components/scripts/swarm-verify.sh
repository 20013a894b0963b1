deadline=$(( $(date +%s) + WAIT_SECONDS ))
until [ "$(docker node ls --format '{{.Status}}' 2>/dev/null | grep -c '^Ready$' || true)" -ge "$EXPECTED" ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "consul-swarm: fewer than $EXPECTED swarm nodes Ready after ${WAIT_SECONDS}s" >&2
    docker node ls >&2 || true
    exit 9
  fi
  sleep 1
done
docker node ls --format 'node={{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}'
