#!/usr/bin/env bash
# The kernel limits lab hosts need on this machine: every host runs systemd (and dnsmasq, dockerd),
# each taking inotify instances and watches from one per-user pool shared by all containers. With
# the default of 128 instances a few dozen hosts exhaust it and the last ones never boot (they
# restart forever with exit code 255). Raises each limit that is lower, saying so, or stops naming
# the sysctl and the value to set.
set -euo pipefail
raise() {
  local name=$1 want=$2 have
  have=$(sysctl -n "$name")
  [ "$have" -lt "$want" ] || return 0
  if sysctl -w "$name=$want" >/dev/null 2>&1; then
    echo "lab: raised $name from $have to $want (lab hosts run systemd, which needs inotify instances and watches)" >&2
  else
    echo "lab: $name is $have and lab hosts need at least $want: run 'sysctl -w $name=$want' as root (or set it in /etc/sysctl.d/)" >&2
    exit 1
  fi
}
raise fs.inotify.max_user_instances 1024
raise fs.inotify.max_user_watches 524288
