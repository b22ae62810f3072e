#!/usr/bin/env bash
# Starts a real libvirtd (and virtlogd) for the end-to-end suite, if they are not already running, and
# records what it started so scripts/libvirtd-stop.sh stops exactly those processes, by pid, and puts
# /dev/kvm back. Debian 12 without systemd: no socket activation, no virtqemud.
# Usage: libvirtd-start.sh STATE_DIR    (STATE_DIR holds started.pids and kvm.orig)
set -euo pipefail

state=${1:?usage: libvirtd-start.sh STATE_DIR}
mkdir -p "$state"
: >"$state/started.pids"

# A pid file names a live daemon only if that pid runs that program.
running() { # name pidfile
  local pid
  [ -s "$2" ] || return 1
  pid=$(cat "$2")
  [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$1" ]
}

start_daemon() { # name pidfile
  local name=$1 pidfile=$2 i
  if running "$name" "$pidfile"; then
    echo "libvirtd-start: $name already running (pid $(cat "$pidfile")), leaving it alone" >&2
    return 0
  fi
  "$name" -d
  for i in $(seq 1 100); do
    running "$name" "$pidfile" && break
    sleep 0.1
  done
  running "$name" "$pidfile" || { echo "libvirtd-start: $name did not start" >&2; exit 1; }
  echo "$name $(cat "$pidfile")" >>"$state/started.pids"
}

# libvirt re-probes QEMU on every call (~40 s) when /dev/kvm is root:root 0600; give it Debian's usual
# root:kvm 0660 while testing and remember the original to put back.
kvm=${VSL_KVM_DEVICE:-/dev/kvm} # overridable only so the test of this script can use a scratch device node
rm -f "$state/kvm.orig"
if [ -e "$kvm" ]; then
  orig=$(stat -c '%u:%g %a' "$kvm")
  if [ "$orig" != "0:$(getent group kvm | cut -d: -f3) 660" ]; then
    echo "$kvm $orig" >"$state/kvm.orig"
    chown root:kvm "$kvm"
    chmod 0660 "$kvm"
  fi
fi

start_daemon virtlogd /run/virtlogd.pid
start_daemon libvirtd /run/libvirtd.pid

for i in $(seq 1 300); do
  if virsh -c qemu:///system version >/dev/null 2>&1; then
    exit 0
  fi
  sleep 1
done
echo "libvirtd-start: virsh -c qemu:///system version did not answer within 300 s" >&2
exit 1
