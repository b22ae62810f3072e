#!/bin/sh
# /init of the SELinux guest. The kernel command line carries vsl.policy=PATH (a binary policy on the
# host) and vsl.job=PATH (a script on the host, run inside the new root); results go to the console
# between markers, so kernel messages interleaved with them can be dropped by the reader.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p loop; do
  insmod /modules/$m.ko || echo "vsl-guest: insmod $m failed"
done
policy=; job=; repo=; arg=; hostctx=
for a in $(cat /proc/cmdline); do
  case "$a" in vsl.policy=*) policy=${a#vsl.policy=} ;; vsl.job=*) job=${a#vsl.job=} ;; vsl.repo=*) repo=${a#vsl.repo=} ;; vsl.arg=*) arg=${a#vsl.arg=} ;; vsl.hostcontext=*) hostctx=${a#vsl.hostcontext=} ;; esac
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

# The policy: selinuxfs, then the whole file in ONE write(2) (the kernel refuses a load in pieces).
if [ -z "$loaded" ]; then
  mount -t selinuxfs selinuxfs /newroot/sys/fs/selinux
  dd if=/newroot$policy of=/newroot/sys/fs/selinux/load bs=16M 2>/dev/null || echo "vsl-guest: policy load failed"
fi
echo 0 > /newroot/proc/sys/kernel/printk_ratelimit

echo "vsl-guest: running $job"
chroot /newroot /bin/sh "$job" "$repo" "$arg" > /newroot/tmp/job.out 2> /newroot/tmp/job.err
echo "vsl-guest: job exit $?"
echo "===VSL-RESULT-BEGIN==="
base64 /newroot/tmp/job.out
echo "===VSL-RESULT-END==="
echo "===VSL-STDERR-BEGIN==="
base64 /newroot/tmp/job.err
echo "===VSL-STDERR-END==="
# The serial console drains from the kernel's tty buffer after echo returns; a poweroff -f straight after
# it once cut a result frame in the middle (CI, libvirt permissive): give the buffer time to reach the host.
sleep 3
poweroff -f
