#!/usr/bin/env bash
# Builds what the SELinux guest boots: Debian's own kernel (SELinux built in) and a busybox initramfs
# whose /init mounts this host's root read-only over virtio-9p, makes a tmpfs root from it, loads a
# binary policy and runs one job script from the repository inside it (test/selinux-kernel/).
# Everything comes from apt; the result is cached under CACHE (default .cache/selinux-guest).
# Usage: build-initramfs.sh [CACHE]   prints the paths of vmlinuz and initrd.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-$here/../../.cache/selinux-guest}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# Several test files boot guests at once: one builder at a time (the others then find the cache).
exec 9>"$cache/.build.lock"
flock 9

# Name one kernel version (the one linux-image-amd64 points at); a glob would fetch every old one.
kernel_version() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-6/ { sub("linux-image-", "", $2); print $2; exit }'; }
version=$(kernel_version)
if [ -z "$version" ]; then apt-get update -q >/dev/null 2>&1 || true; version=$(kernel_version); fi
[ -n "$version" ] || { echo "build-initramfs: cannot tell the kernel version (apt-get update?)" >&2; exit 1; }
kdir=$cache/kernel-$version
if [ ! -f "$kdir/boot/vmlinuz-$version" ]; then
  rm -rf "$kdir" "$cache"/linux-image-*.deb
  # apt-get download needs the package lists; a machine whose packages all came preinstalled may have none.
  (cd "$cache" && { apt-get download -q "linux-image-$version" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get download -q "linux-image-$version" >/dev/null; }; })
  dpkg-deb -x "$cache"/linux-image-"$version"_*.deb "$kdir"
  rm -f "$cache"/linux-image-*.deb
fi

initrd=$cache/initrd-$version.cpio.gz
stamp=$(sha256sum "$here/init.sh" "$0" | sha256sum | cut -c1-16)
if [ ! -f "$initrd" ] || [ "$(cat "$initrd.stamp" 2>/dev/null)" != "$stamp" ]; then
  root=$(mktemp -d "$cache/initramfs.XXXXXX")
  mkdir -p "$root"/{bin,dev,proc,sys,host,newroot,modules}
  cp /usr/bin/busybox "$root/bin/busybox"
  for applet in sh mount umount mkdir insmod cat echo ln chroot sleep poweroff dd base64 switch_root mknod ls cp; do
    ln -s busybox "$root/bin/$applet"
  done
  # The 9p and overlay stack of the full flavour, in the order busybox insmod needs (no modprobe).
  for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p loop; do
    ko=$(find "$kdir/lib/modules/$version" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
    [ -n "$ko" ] || { echo "build-initramfs: module $m not in $version" >&2; exit 1; }
    case "$ko" in *.xz) xz -dc "$ko" > "$root/modules/$m.ko" ;; *) cp "$ko" "$root/modules/$m.ko" ;; esac
  done
  cp "$here/init.sh" "$root/init"
  chmod 755 "$root/init"
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  echo "$stamp" > "$initrd.stamp"
  rm -rf "$root"
fi
echo "$kdir/boot/vmlinuz-$version"
echo "$initrd"
