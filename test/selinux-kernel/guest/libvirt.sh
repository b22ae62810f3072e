#!/bin/sh
# Runs inside the guest (scripts/selinux-guest/init.sh): starts this host's own libvirtd and virtlogd
# under the SELinux or AppArmor kernel, then the Node job that defines and starts VMs with QEMU.
# $1: the repository; $2: the job's mode (permissive|enforcing|mls: SELinux, passed on to libvirt.mjs;
# nfs: as enforcing, then ../../nfs-kernel/guest/nfs.mjs; files-doctor: enforcing, the job is
# files-doctor.mjs; apparmor: the AppArmor kernel, the job is ../../apparmor-kernel/guest/libvirt-apparmor.mjs).
# The host's trees are bound read-only; libvirt's own state directories get private tmpfs copies, so
# nothing inside reaches the host and the host's libvirt state does not leak in beyond its defaults.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
repo=$1
mode=${2:-permissive}
say() { echo "vsl-progress: libvirt.sh: $*" > /dev/console; echo "libvirt.sh: $*" >&2; }
say "mode $mode"
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
state="/etc/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt"
# AppArmor: virt-aa-helper writes each VM's profile under /etc/apparmor.d/libvirt and apparmor_parser
# may write its cache; both get the same private copies.
[ "$mode" = apparmor ] && state="$state /etc/apparmor.d /var/cache/apparmor"
for d in $state; do
  rm -rf /tmp/copy && mkdir -p /tmp/copy && cp -a "$d/." /tmp/copy/
  mount -t tmpfs -o mode=0755 tmpfs "$d"
  cp -a /tmp/copy/. "$d/"
done
rm -rf /tmp/copy
say "state directories copied"
# libvirt's defaults, whatever the host's qemu.conf says, except one: no private /dev per VM (libvirt
# builds it from udev's view of /dev, which this guest has not got; QEMU then finds no /dev/null).
echo 'namespaces = []' > /etc/libvirt/qemu.conf
# Nor the host's autostarted networks and pools (a bridge, dnsmasq and a firewall are not under test).
rm -rf /etc/libvirt/hooks /etc/libvirt/qemu/*.xml /etc/libvirt/qemu/networks/autostart /etc/libvirt/storage/autostart /var/cache/libvirt/qemu/capabilities
mkdir -p /run/libvirt
if [ "$mode" = apparmor ]; then
  # libvirt's own profiles as Debian installs them: the daemon's (libvirt's probe needs it loaded, and the
  # daemon must run under it to change a QEMU child to its VM's profile) and virt-aa-helper's. The per-VM
  # profiles come from virt-aa-helper at each start, from TEMPLATE.qemu and abstractions/libvirt-qemu.
  apparmor_parser -r -K /etc/apparmor.d/usr.sbin.libvirtd /etc/apparmor.d/usr.lib.libvirt.virt-aa-helper >&2 || say "apparmor_parser failed"
  say "profiles loaded: $(tr '\n' ' ' < /sys/kernel/security/apparmor/profiles)"
  virtlogd > /tmp/virtlogd.log 2>&1 &
  # Started from this unconfined shell, /usr/sbin/libvirtd attaches to the profile of that path.
  libvirtd > /tmp/libvirtd.log 2>&1 &
  echo $! > /run/vsl-libvirtd.pid
  exec /usr/bin/node "$repo/test/apparmor-kernel/guest/libvirt-apparmor.mjs" "$repo"
elif [ "$mode" != enforcing ] && [ "$mode" != nfs ] && [ "$mode" != files-doctor ]; then
  echo "libvirt.sh: starting virtlogd and libvirtd" >&2
  virtlogd > /tmp/virtlogd.log 2>&1 &
  if [ "$mode" = mls ]; then
    # libvirt draws a VM's level from its own low level: as kernel_t (s15:c0.c1023 under MLS) QEMU would
    # run at s15; a real host runs libvirtd as virtd_t at s0-s15:c0.c1023 (permissive kernel: no transition
    # rule needed).
    runcon system_u:system_r:virtd_t:s0-s15:c0.c1023 libvirtd > /tmp/libvirtd.log 2>&1 &
  else
    libvirtd > /tmp/libvirtd.log 2>&1 &
  fi
else
  # Enforcing: the host's tree is one label (vsl.hostcontext, lib_t: svirt_t may read and map it);
  # what lives on the guest's own tmpfs gets the policy's file contexts; QEMU's binary is a labelled
  # copy bound over the original, since svirt_t may only be entered through qemu_exec_t.
  # Two booleans an admin sets on such a host, neither about files: node's JIT in the unconfined
  # domains this job runs in (allow_execmem), QEMU's TCG translator as svirt_t (virt_use_execmem; no KVM here).
  for b in allow_execmem virt_use_execmem; do echo 1 > /sys/fs/selinux/booleans/$b; done
  echo 1 > /sys/fs/selinux/commit_pending_bools
  say "booleans: $(cat /sys/fs/selinux/booleans/allow_execmem) $(cat /sys/fs/selinux/booleans/virt_use_execmem)"
  # qemu:///session: an unprivileged user (uid 4200) with a home on the guest's tmpfs.
  cp /etc/passwd /run/vsl-passwd && cp /etc/group /run/vsl-group
  echo 'vslsess:x:4200:4200:virt-seclabel session:/home/vslsess:/bin/sh' >> /run/vsl-passwd
  echo 'vslsess:x:4200:' >> /run/vsl-group
  mount --bind /run/vsl-passwd /etc/passwd && mount --bind /run/vsl-group /etc/group
  mkdir -p /home/vslsess /run/user/4200 && chown 4200:4200 /home/vslsess /run/user/4200 && chmod 0700 /run/user/4200
  restorecon -R /home >&2
  restorecon -R /etc/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /run /dev /tmp >&2 || echo "libvirt.sh: restorecon failed" >&2
  cp /usr/bin/qemu-system-x86_64 /run/vsl-qemu-system-x86_64
  setfattr -n security.selinux -v system_u:object_r:qemu_exec_t:s0 /run/vsl-qemu-system-x86_64
  mount --bind /run/vsl-qemu-system-x86_64 /usr/bin/qemu-system-x86_64
  # libvirt's daemons run in their own domains, made permissive in this policy (build-policy.sh): the
  # shell enters init_t (kernel_t may), and init_t may start virtd_t and virtlogd_t.
  # A subshell does that, so the job itself stays in kernel_t.
  # virtlogd at s0, the level systemd gives it on a Debian host: the kernel's initial SID is kernel_t:s0,
  # systemd becomes init_t:s0 by type_transition kernel_t init_exec_t (the range is copied), and the policy
  # has no range_transition for virtlogd_exec_t (sesearch --range_trans: initrc_exec_t only). The level
  # matters: virtlogd's pipes carry its context, and Debian's mlsconstrain on fifo_file write is
  # (h1 dom h2 or t1 != mcs_constrained_type), so svirt_t:s0:cX,cY may write a pipe of virtlogd_t:s0 but
  # not of virtlogd_t:s0-s0:c0.c1023: at that level every QEMU lost its log pipe (stderr, kept by exec as
  # /dev/null) and a <serial type='file'> domain could not start.
  (
    echo -n system_u:system_r:init_t:s0 > /proc/self/attr/current || say "cannot enter init_t"
    say "daemons start from $(cat /proc/self/attr/current)"
    runcon system_u:system_r:virtlogd_t:s0 virtlogd > /tmp/virtlogd.log 2>&1 &
    runcon system_u:system_r:virtd_t:s0-s0:c0.c1023 libvirtd > /tmp/libvirtd.log 2>&1 &
  )
fi
# In the background, not -d: a daemon that dies leaves its log for the job to show.
# nfs: the enforcing setup under the NFS job (../../nfs-kernel/guest/nfs.sh brought the server up first).
[ "$mode" = nfs ] && exec /usr/bin/node "$repo/test/nfs-kernel/guest/nfs.mjs" "$repo"
job=libvirt.mjs
[ "$mode" = files-doctor ] && job=files-doctor.mjs
exec /usr/bin/node "$repo/test/selinux-kernel/guest/$job" "$repo" "$mode"
