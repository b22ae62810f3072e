#!/usr/bin/env bash
# Stops only the daemons scripts/libvirtd-start.sh started (by the pids it recorded) and restores
# /dev/kvm's original owner and mode. Usage: libvirtd-stop.sh STATE_DIR
set -uo pipefail

state=${1:?usage: libvirtd-stop.sh STATE_DIR}

if [ -f "$state/started.pids" ]; then
  # Stop in reverse start order: libvirtd before the virtlogd it logs through.
  tac "$state/started.pids" | while read -r name pid; do
    # Only signal the pid if it is still the program we started (pids get reused).
    if [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$name" ]; then
      kill "$pid"
      for _ in $(seq 1 100); do
        [ -e "/proc/$pid" ] || break
        sleep 0.1
      done
      [ -e "/proc/$pid" ] && kill -KILL "$pid"
    fi
  done
  rm -f "$state/started.pids"
fi

if [ -f "$state/kvm.orig" ]; then
  read -r kvm owner mode <"$state/kvm.orig"
  if [ -e "$kvm" ]; then
    chown "$owner" "$kvm"
    chmod "$mode" "$kvm"
  fi
  rm -f "$state/kvm.orig"
fi
exit 0
