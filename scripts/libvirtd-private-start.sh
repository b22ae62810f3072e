#!/usr/bin/env bash
# Starts a private libvirtd (and its virtlogd) for tests that install a libvirt hook, so no other
# daemon on this host ever runs that hook. libvirtd reads hooks only from /etc/libvirt/hooks (compiled
# in); here it runs in its own mount namespace where that directory, and everything a second daemon
# must not share with the system one (/run/libvirt with its sockets, the persistent definitions, the
# per-domain state), are bind-mounted from STATE_DIR. Nothing is mounted outside the namespace, and it
# disappears with its last process.
# Connect with: virsh -c "qemu:///system?socket=STATE_DIR/run/libvirt-sock"
# Usage: libvirtd-private-start.sh STATE_DIR    (stop with libvirtd-private-stop.sh STATE_DIR)
# With LIBVIRTD_PRIVATE_QEMU_CONF=FILE the daemon reads FILE as /etc/libvirt/qemu.conf (bind-mounted in its
# namespace only), for tests of a qemu.conf change.
# With LIBVIRTD_PRIVATE_USERNS=1 the daemon also runs in its own user namespace, uids and gids 0-65535 mapped to
# themselves (root there is not root of the host: trusted.* xattrs are refused, as in a container).
set -euo pipefail

state=$(realpath -m "${1:?usage: libvirtd-private-start.sh STATE_DIR}")
mkdir -p "$state"/{hooks,run,etc-qemu,lib-qemu,cache-qemu}
chmod 0755 "$state" "$state"/{hooks,run,etc-qemu,cache-qemu}
# QEMU (as the qemu user) creates its monitor socket in the per-domain directory below this one.
chown --reference=/var/lib/libvirt/qemu "$state/lib-qemu"
chmod --reference=/var/lib/libvirt/qemu "$state/lib-qemu"
mkdir -p /run/libvirt /var/cache/libvirt/qemu
# libvirt re-probes QEMU on every call (~40 s) when /dev/kvm is root:root 0600. Instead of changing the
# host's node (libvirtd-start.sh does, for the shared daemon), this daemon sees its own node for the
# same device, with Debian's usual root:kvm 0660, bind-mounted over /dev/kvm in its namespace only.
kvm=""
if [ -c /dev/kvm ]; then
  kvm="$state/kvm"
  rm -f "$kvm"
  mknod "$kvm" c "$((16#$(stat -c %t /dev/kvm)))" "$((16#$(stat -c %T /dev/kvm)))"
  chown root:kvm "$kvm"
  chmod 0660 "$kvm"
fi

userns=()
if [ "${LIBVIRTD_PRIVATE_USERNS:-}" = 1 ]; then
  # unshare's --map-users needs newuidmap; the maps are written here instead, before the daemon starts.
  userns=(--user)
  rm -f "$state/userns.fifo"
  mkfifo "$state/userns.fifo"
fi

unshare "${userns[@]}" --mount --propagation private bash -euc '
  s=$1
  if [ -p "$s/userns.fifo" ]; then read -r _ < "$s/userns.fifo"; fi
  mount --bind "$s/hooks" /etc/libvirt/hooks
  mount --bind "$s/run" /run/libvirt
  mount --bind "$s/etc-qemu" /etc/libvirt/qemu
  mount --bind "$s/lib-qemu" /var/lib/libvirt/qemu
  mount --bind "$s/cache-qemu" /var/cache/libvirt/qemu
  if [ -n "$2" ]; then mount --bind "$2" /dev/kvm; fi
  if [ -n "$3" ]; then mount --bind "$3" /etc/libvirt/qemu.conf; fi
  virtlogd -d -p "$s/virtlogd.pid"
  libvirtd -d -p "$s/libvirtd.pid"
' private-libvirtd "$state" "$kvm" "${LIBVIRTD_PRIVATE_QEMU_CONF:-}" &
ns=$!
if [ ${#userns[@]} -gt 0 ]; then
  for _ in $(seq 1 100); do [ "$(readlink "/proc/$ns/ns/user")" != "$(readlink /proc/self/ns/user)" ] && break; sleep 0.05; done
  echo '0 0 65536' > "/proc/$ns/uid_map"
  echo '0 0 65536' > "/proc/$ns/gid_map"
  echo go > "$state/userns.fifo"
  rm -f "$state/userns.fifo"
fi
wait "$ns"

for _ in $(seq 1 300); do
  if virsh -c "qemu:///system?socket=$state/run/libvirt-sock" version >/dev/null 2>&1; then
    exit 0
  fi
  sleep 1
done
echo "libvirtd-private-start: the private libvirtd did not answer within 300 s" >&2
exit 1
