#!/bin/sh
# /init of the guest. The kernel command line carries vsl.lsm=selinux|apparmor (the LSM the kernel was
# booted with; selinux when absent), vsl.policy=PATH (SELinux: a binary policy on the host) and
# vsl.job=PATH (a script on the host, run inside the new root); results go to the console between
# markers, so kernel messages interleaved with them can be dropped by the reader.
export PATH=/bin

# Prints the job's output and error between markers, then powers off. $1: the busybox to use.
finish() {
  bb=$1 out=$2 err=$3
  echo "===VSL-RESULT-BEGIN==="
  $bb base64 "$out"
  echo "===VSL-RESULT-END==="
  echo "===VSL-STDERR-BEGIN==="
  $bb base64 "$err"
  echo "===VSL-STDERR-END==="
  # The serial console drains from the kernel's tty buffer after echo returns; a poweroff -f straight after
  # it once cut a result frame in the middle (CI, libvirt permissive): give the buffer time to reach the host.
  $bb sleep 3
  $bb poweroff -f
}

# AppArmor, second stage: this script again, as PID 1 in the new root (see below), busybox beside it.
if [ "$1" = vsl-stage2 ]; then
  job=$2 repo=$3 arg=$4
  echo "vsl-guest: running $job"
  PATH=/usr/sbin:/usr/bin:/sbin:/bin /bin/sh "$job" "$repo" "$arg" > /tmp/job.out 2> /tmp/job.err
  echo "vsl-guest: job exit $?"
  finish /run/vsl/busybox /tmp/job.out /tmp/job.err
fi

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p loop; do
  insmod /modules/$m.ko || echo "vsl-guest: insmod $m failed"
done
policy=; job=; repo=; arg=; hostctx=; lsm=selinux
for a in $(cat /proc/cmdline); do
  case "$a" in vsl.lsm=*) lsm=${a#vsl.lsm=} ;; vsl.policy=*) policy=${a#vsl.policy=} ;; vsl.job=*) job=${a#vsl.job=} ;; vsl.repo=*) repo=${a#vsl.repo=} ;; vsl.arg=*) arg=${a#vsl.arg=} ;; vsl.hostcontext=*) hostctx=${a#vsl.hostcontext=} ;; esac
done
# vsl.hostcontext=CTX gives every file of the host's tree one label (the enforcing cases: QEMU's
# libraries and firmware must be readable by svirt_t; the host's files carry no SELinux labels).
# SELinux takes mount options only once a policy is loaded, and the policy is on the host: copy it out,
# load it, then mount the host again with the label.
opts=trans=virtio,version=9p2000.L,ro,msize=512000
mount -t 9p -o "$opts" host /host || { echo "vsl-guest: 9p mount failed ($opts)"; poweroff -f; }
loaded=
if [ -n "$hostctx" ]; then
  cp "/host$policy" /policy.bin && umount /host
  mount -t selinuxfs selinuxfs /sys/fs/selinux
  dd if=/policy.bin of=/sys/fs/selinux/load bs=16M 2>/dev/null || echo "vsl-guest: policy load failed"
  loaded=1
  mount -t 9p -o "$opts,context=$hostctx" host /host || { echo "vsl-guest: 9p mount failed ($opts,context=$hostctx)"; poweroff -f; }
fi

# A tmpfs root (labelled by the policy, unlike 9p) with the host's trees bound in read-only.
mount -t tmpfs -o mode=0755 tmpfs /newroot
for d in usr etc var root work opt; do
  [ -d /host/$d ] || continue
  mkdir -p /newroot/$d
  mount --bind /host/$d /newroot/$d
done
for l in bin lib lib64 sbin; do ln -s usr/$l /newroot/$l; done
mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp /newroot/srv /newroot/run
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
mount -t tmpfs -o mode=0755 tmpfs /newroot/srv
mount -t tmpfs -o mode=0755 tmpfs /newroot/run
# The repository under test, wherever it was cloned (CI's clone may live under /tmp).
if [ -n "$repo" ] && [ ! -d "/newroot$repo" ]; then mkdir -p "/newroot$repo" && mount --bind "/host$repo" "/newroot$repo"; fi
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev

echo 0 > /newroot/proc/sys/kernel/printk_ratelimit

if [ "$lsm" = apparmor ]; then
  # AppArmor names files by their path from the mount namespace's root, not from a chroot: under the
  # SELinux guest's `chroot /newroot` every path would read /newroot/usr/..., and no profile would attach
  # to /usr/sbin/libvirtd. So the new root is moved over / (what switch_root does on a real host), and this
  # script runs again as PID 1 inside it, with a copy of busybox to frame the results and power off.
  mount -t securityfs securityfs /newroot/sys/kernel/security || echo "vsl-guest: securityfs mount failed"
  mkdir -p /newroot/run/vsl && cp /bin/busybox /newroot/run/vsl/busybox
  cp /init /newroot/run/vsl/init
  cd /newroot
  mount --move . / || { echo "vsl-guest: cannot move the new root over /"; poweroff -f; }
  exec chroot . /run/vsl/busybox sh /run/vsl/init vsl-stage2 "$job" "$repo" "$arg"
fi

# The policy: selinuxfs, then the whole file in ONE write(2) (the kernel refuses a load in pieces).
if [ -z "$loaded" ]; then
  mount -t selinuxfs selinuxfs /newroot/sys/fs/selinux
  dd if=/newroot$policy of=/newroot/sys/fs/selinux/load bs=16M 2>/dev/null || echo "vsl-guest: policy load failed"
fi

echo "vsl-guest: running $job"
chroot /newroot /bin/sh "$job" "$repo" "$arg" > /newroot/tmp/job.out 2> /newroot/tmp/job.err
echo "vsl-guest: job exit $?"
finish /bin/busybox /newroot/tmp/job.out /newroot/tmp/job.err
