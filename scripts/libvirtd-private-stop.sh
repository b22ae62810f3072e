#!/usr/bin/env bash
# Stops the daemons libvirtd-private-start.sh started in STATE_DIR, by the pids they recorded (only if
# that pid still runs that program). Usage: libvirtd-private-stop.sh STATE_DIR
set -uo pipefail
state=${1:?usage: libvirtd-private-stop.sh STATE_DIR}
for name in libvirtd virtlogd; do
  pidfile="$state/$name.pid"
  [ -s "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$name" ]; then
    kill "$pid"
    for _ in $(seq 1 100); do
      [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || break
      grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break
      sleep 0.1
    done
  fi
done
exit 0
