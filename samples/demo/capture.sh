#!/bin/sh
# Rebuilds samples/demo/host.json: a facts snapshot of a realistic SELinux hypervisor layout, taken by
# the real `virt-seclabel facts` (same code path as any host), so `explain --facts` shows DAC and SELinux
# decisions on any machine.
#
# The host is a throwaway root filesystem (tmpfs) inside private mount and UTS namespaces, entered with
# chroot: its `/` can carry SELinux labels and ACLs without touching this machine's real `/`, and
# everything vanishes when the script ends. Needs root, util-linux (unshare), attr, acl, qemu-utils, and
# the CLI built: npx tsc -p tsconfig.build.json --outDir .tmp/odist
set -eu
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
dist=${DIST:-$project/.tmp/odist}
policy=/etc/selinux/default/policy/policy.33
[ -f "$dist/cli/main.js" ] || { echo "build the CLI into $dist first" >&2; exit 2; }
[ -f "$policy" ] || { echo "needs $policy (selinux-policy-default)" >&2; exit 2; }

exec unshare --mount --uts --propagation private sh -eu -c '
here=$1 project=$2 dist=$3 policy=$4
R=$(mktemp -d /tmp/demo-host.XXXXXX)
# The mounts die with the namespace; the empty mount point is ours to remove, on failure too.
trap "umount -R \"\$R\" 2>/dev/null; rmdir \"\$R\"" EXIT
mount -t tmpfs -o mode=0755 tmpfs "$R"
hostname hv1.example.com
L() { setfattr -n security.selinux -v "system_u:object_r:$2" "$R$1"; }

# Accounts as on a Fedora/RHEL hypervisor: qemu:qemu 107:107, also in kvm.
mkdir -p "$R/etc/libvirt" "$R/etc/selinux/default/policy"
cat > "$R/etc/passwd" <<PW
root:x:0:0:root:/root:/bin/bash
qemu:x:107:107:qemu user:/:/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/bash
PW
cat > "$R/etc/group" <<GR
root:x:0:
disk:x:6:
cdrom:x:11:
kvm:x:36:qemu
qemu:x:107:
alice:x:1000:
GR
printf "%s\n" "# /etc/libvirt/qemu.conf: distribution defaults (user/group unset: qemu:qemu)" "security_driver = \"selinux\"" > "$R/etc/libvirt/qemu.conf"
cp "$policy" "$R/etc/selinux/default/policy/policy.33"

# The layout: shared ISOs, a private home, libvirt images with a backing chain, block devices.
mkdir -p "$R/srv/iso" "$R/srv/shared" "$R/home/alice/Downloads" "$R/var/lib/libvirt/images" "$R/dev" "$R/root"
chmod 0755 "$R/srv" "$R/srv/iso" "$R/srv/shared" "$R/home" "$R/var" "$R/var/lib" "$R/var/lib/libvirt"
chmod 0711 "$R/var/lib/libvirt/images"
chown 1000:1000 "$R/home/alice" "$R/home/alice/Downloads"; chmod 0700 "$R/home/alice"
for f in fedora-40.iso virtio-win.iso private.iso; do truncate -s 4M "$R/srv/iso/$f"; done
chmod 0644 "$R/srv/iso/fedora-40.iso" "$R/srv/iso/virtio-win.iso"; chmod 0600 "$R/srv/iso/private.iso"
truncate -s 4M "$R/srv/shared/tools.iso"; chmod 0640 "$R/srv/shared/tools.iso"; setfacl -m u:107:r "$R/srv/shared/tools.iso"
truncate -s 4M "$R/home/alice/Downloads/ubuntu.iso"; chown 1000:1000 "$R/home/alice/Downloads/ubuntu.iso"; chmod 0644 "$R/home/alice/Downloads/ubuntu.iso"
qemu-img create -q -f qcow2 "$R/var/lib/libvirt/images/base.qcow2" 64M
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 "$R/var/lib/libvirt/images/web01.qcow2"
chmod 0644 "$R/var/lib/libvirt/images/base.qcow2"
chown 107:107 "$R/var/lib/libvirt/images/web01.qcow2"; chmod 0600 "$R/var/lib/libvirt/images/web01.qcow2"
mknod -m 0660 "$R/dev/sr0" b 11 0; chgrp 11 "$R/dev/sr0"
mknod -m 0660 "$R/dev/sdb" b 8 16; chgrp 6 "$R/dev/sdb"

L / root_t:s0; L /etc etc_t:s0; L /srv var_t:s0
L /srv/iso public_content_t:s0; L /srv/iso/fedora-40.iso public_content_t:s0
L /srv/iso/virtio-win.iso virt_content_t:s0; L /srv/iso/private.iso virt_content_t:s0
L /srv/shared public_content_t:s0; L /srv/shared/tools.iso virt_content_t:s0
L /home home_root_t:s0; L /home/alice user_home_dir_t:s0; L /home/alice/Downloads user_home_t:s0
L /home/alice/Downloads/ubuntu.iso user_home_t:s0
L /var var_t:s0; L /var/lib var_lib_t:s0; L /var/lib/libvirt virt_var_lib_t:s0
L /var/lib/libvirt/images virt_image_t:s0; L /var/lib/libvirt/images/base.qcow2 virt_content_t:s0
L /var/lib/libvirt/images/web01.qcow2 svirt_image_t:s0:c10,c20
L /dev device_t:s0; L /dev/sr0 removable_device_t:s0; L /dev/sdb fixed_disk_device_t:s0

# The program, "installed" under /opt; /usr and /proc from this machine.
mkdir -p "$R/usr" "$R/proc" "$R/opt/virt-seclabel/node_modules"
mount --bind /usr "$R/usr"; ln -s usr/bin "$R/bin"; ln -s usr/lib "$R/lib"; ln -s usr/lib64 "$R/lib64"
mount -t proc proc "$R/proc"
cp -r "$dist" "$R/opt/virt-seclabel/dist"; cp "$project/package.json" "$R/opt/virt-seclabel/"
mount --bind "$project/node_modules" "$R/opt/virt-seclabel/node_modules"
cp "$here/web01.xml" "$R/root/web01.xml"

chroot "$R" /usr/bin/env -u NODE_EXTRA_CA_CERTS /bin/sh -c "cd /root && node /opt/virt-seclabel/dist/cli/main.js facts --models dac,selinux --policy /etc/selinux/default/policy/policy.33 web01.xml -o host.json"
cp "$R/root/host.json" "$here/host.json"
' sh "$here" "$project" "$dist" "$policy"
