#!/bin/sh
# Runs inside the SELinux guest (scripts/selinux-guest/init.sh, enforcing): brings up a real NFS server
# on loopback with Debian's kernel nfsd and this host's nfs-kernel-server userland, then hands over to
# ../../selinux-kernel/guest/libvirt.sh in mode nfs (libvirt's daemons as in the enforcing cases), which
# runs nfs.mjs; then cifs.mjs (samba on loopback) in the same boot. The exports are tmpfs mounts with
# fsid= (nfsd does not export the 9p/overlay root well).
# $1: the repository.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
repo=$1
say() { echo "vsl-progress: nfs.sh: $*" > /dev/console; echo "nfs.sh: $*" >&2; }
# The modules, from the same Debian kernel package the guest booted (build-initramfs.sh unpacked it), in
# dependency order (busybox insmod resolves nothing; the package has no modules.dep, depmod makes it).
kmods=$(ls -d "$repo"/.cache/selinux-guest/kernel-*/lib/modules/"$(uname -r)" 2>/dev/null | head -1)
[ -n "$kmods" ] || say "no module tree for $(uname -r) under $repo/.cache/selinux-guest"
for m in net/sunrpc/sunrpc fs/nfs_common/grace fs/lockd/lockd fs/nfs_common/nfs_acl net/sunrpc/auth_gss/auth_rpcgss \
         fs/nfsd/nfsd fs/nfs/nfs fs/nfs/nfsv3 net/dns_resolver/dns_resolver fs/nfs/nfsv4; do
  grep -q "^$(basename $m) " /proc/modules && continue
  busybox insmod "$kmods/kernel/$m.ko" 2>&1 | head -3 >&2 || true
  grep -q "^$(basename $m) " /proc/modules || say "insmod $m failed"
done
# CIFS (cifs.mjs, after NFS): the client and the crypto SMB3 signing asks for by name (no modprobe here).
for m in crypto/cmac crypto/ccm crypto/ctr crypto/gf128mul crypto/ghash-generic crypto/gcm crypto/sha512_generic crypto/ecb \
         fs/netfs/netfs fs/fscache/fscache fs/smb/common/cifs_arc4 fs/smb/common/cifs_md4 fs/smb/client/cifs; do
  n=$(basename $m | tr - _)
  grep -q "^$n " /proc/modules && continue
  busybox insmod "$kmods/kernel/$m.ko" 2>&1 | head -3 >&2 || true
  grep -q "^$n " /proc/modules || say "insmod $m failed"
done
ip link set lo up || ifconfig lo 127.0.0.1 up
# nfs-utils' state (etab, rmtab, v4recovery) on a private tmpfs: the host's /var is read-only here.
for d in /var/lib/nfs; do
  rm -rf /tmp/copy && mkdir -p /tmp/copy && cp -a "$d/." /tmp/copy/
  mount -t tmpfs -o mode=0755 tmpfs "$d" && cp -a /tmp/copy/. "$d/"
done
rm -rf /tmp/copy
mkdir -p /run/rpcbind /run/rpc_pipefs /proc/fs/nfsd
mount -t nfsd nfsd /proc/fs/nfsd || say "cannot mount the nfsd filesystem"
mount -t rpc_pipefs rpc_pipefs /run/rpc_pipefs 2>/dev/null || true
rpcbind -w || say "rpcbind failed"
rpc.mountd || say "rpc.mountd failed"
# A 10 s v4 grace period (the default 90 would hold every first open of a v4 client) before threads start.
rpc.nfsd -G 10 -L 10 -V 3 -V 4.2 4 || say "rpc.nfsd failed"
say "nfsd up: versions $(cat /proc/fs/nfsd/versions 2>/dev/null); threads $(cat /proc/fs/nfsd/threads 2>/dev/null)"
/bin/sh "$repo/test/selinux-kernel/guest/libvirt.sh" "$repo" nfs
# Then CIFS in the same boot (libvirtd still up): its JSON follows nfs.mjs's after a marker line.
printf '\n#VSL-CIFS\n'
exec /usr/bin/node "$repo/test/nfs-kernel/guest/cifs.mjs" "$repo"
