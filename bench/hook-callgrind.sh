#!/bin/sh
# Instruction counts (valgrind --tool=callgrind, Ir) of the hook's Node call, against `node -e 0`: the
# load-independent A/B figure for issue 21 item 4 (bench/hook-start.mjs measures CPU time, which a loaded
# machine moves). In a private mount namespace, chrooted into a labelled tmpfs root as hook-start.mjs's part 3
# does it: a selinuxfs stand-in on /sys/fs/selinux (the policy bytes of /etc/selinux/default, the booleans at
# their defaults), /etc/virt-seclabel/policy-store bound to a store `hook install --hook-config` filled with
# this build (or none), and one ISO labelled public_content_t with relabel='no' for the phase's model.
# Rows: node -e 0; DAC `prepare begin` (fast entry); SELinux `start begin` (fast entry) with the store (its copy of the running policy used, as while the kernel keeps the policy install read; and not, as after a policy load or boolean change) and
# without. One run each: V8 seeds its hash with a random prime search at startup, which moves a count by
# up to ~12 M instructions between runs of the same command (HashSeed::InitializeRoots).
# Each command runs with only PATH and LC_ALL, as libvirt runs the hook and hook-start.mjs measures it: an
# inherited NODE_EXTRA_CA_CERTS alone makes every Node start parse a CA bundle (about 416 M instructions
# with Debian's), which drowns the hook's own cost in the ratios.
#
# Needs root, valgrind, unshare, setfattr, /etc/selinux/default/policy/policy.33 and a build.
# Usage: npm run build && sh bench/hook-callgrind.sh [DIST-DIR]
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
dist=$(cd "${1:-$here/dist}" && pwd)
policy=/etc/selinux/default/policy/policy.33
for t in valgrind unshare setfattr; do command -v $t >/dev/null || { echo "hook-callgrind bench skipped: no $t"; exit 0; }; done
[ -f "$policy" ] || { echo "hook-callgrind bench skipped: $policy is missing"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "hook-callgrind bench skipped: needs root"; exit 0; }
w=$(mktemp -d /tmp/bench-hook-callgrind-XXXXXX)
trap 'rm -rf "$w"' EXIT
mkdir -p "$w/etc" "$w/hooks" "$w/selinuxfs/booleans" "$w/root"
node "$dist/cli/main.js" hook install --hooks-dir "$w/hooks" --binary "$dist/cli/main.js" --hook-config "$w/etc/hook.conf" >/dev/null
cp "$policy" "$w/selinuxfs/policy"
echo 1 > "$w/selinuxfs/enforce"; echo 33 > "$w/selinuxfs/policyvers"
node --input-type=module -e "
import { loadPolicy } from '$dist/selinux/policy/load.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
const p = loadPolicy(readFileSync('$w/selinuxfs/policy')).value;
for (const b of p.bools.byValue) if (b) writeFileSync('$w/selinuxfs/booleans/' + b.name, b.defaultState ? '1 1' : '0 0');
writeFileSync('$w/selinuxfs/mls', p.mls ? '1' : '0');
// The status page (version 1, sequence 0, enforcing 1, policyload 1, deny_unknown 0) and the security initial SID.
const page = Buffer.alloc(20); page.writeUInt32LE(1, 0); page.writeUInt32LE(1, 8); page.writeUInt32LE(1, 12);
writeFileSync('$w/selinuxfs/status', page);
mkdirSync('$w/selinuxfs/initial_contexts');
writeFileSync('$w/selinuxfs/initial_contexts/security', 'system_u:object_r:security_t:s0');
"
# What hook install writes on a host whose kernel is the stand-in: the policy's bytes and the record (the
# kernel's instance: boot, policyload; the projection made from those bytes, as its entry's head states it:
# policy length, payload length, payload CRC) next to the entries; the other store lacks them (the kernel's
# policy changed since).
cp -a "$w/etc/policy-store" "$w/etc/policy-store-copy"
cp "$w/selinuxfs/policy" "$w/etc/policy-store-copy/running-policy.bin"
{
  cat /proc/sys/kernel/random/boot_id
  echo 1
  od -An -tu4 -j12 -N12 "$w/etc/policy-store/projection.bin"
} | awk 'NR == 1 { boot = $1 } NR == 2 { load = $1 } NR == 3 { printf "%s %s\nprojection %s %s %s\n", boot, load, $1, $2, $3 }' > "$w/etc/policy-store-copy/running-policy.instance"
chmod 0600 "$w/etc/policy-store-copy/running-policy.bin" "$w/etc/policy-store-copy/running-policy.instance"
truncate -s 1M "$w/a.iso"
xml() {
  cat <<XML
<domain type='qemu'>
  <name>cgdom</name>
  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
  <memory unit='KiB'>65536</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/srv/iso/a.iso'>
        <seclabel model='$1' relabel='no'/>
      </source>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
  </devices>
  <seclabel type='dynamic' model='selinux' relabel='yes'>
    <label>system_u:system_r:svirt_t:s0:c10,c20</label>
    <imagelabel>system_u:object_r:svirt_image_t:s0:c10,c20</imagelabel>
  </seclabel>
</domain>
XML
}
xml selinux > "$w/selinux.xml"
xml dac > "$w/dac.xml"
# chrooted STORE(-|dir) XML CMD...: prints the callgrind total of CMD run there with XML on stdin.
chrooted() {
  store=$1 input=$2; shift 2
  unshare --mount --propagation private sh -c '
set -e
r=$1 store=$2 selinuxfs=$3 w=$4
mount -t tmpfs -o mode=0755 tmpfs "$r"
for d in usr work proc dev tmp sys run; do [ -e "/$d" ] || continue; mkdir "$r/$d"; mount --rbind "/$d" "$r/$d"; done
mkdir "$r/etc"
for e in /etc/* /etc/.[!.]*; do
  n=${e#/etc/}
  if [ "$n" = virt-seclabel ]; then continue; fi
  if [ -L "$e" ]; then cp -P "$e" "$r/etc/$n"
  elif [ -d "$e" ]; then mkdir "$r/etc/$n"; mount --rbind "$e" "$r/etc/$n"
  elif [ -e "$e" ]; then : > "$r/etc/$n"; mount --bind "$e" "$r/etc/$n"; fi
done
mkdir -m 0755 "$r/etc/virt-seclabel"
if [ "$store" != - ]; then mkdir -m 0700 "$r/etc/virt-seclabel/policy-store"; mount --bind "$store" "$r/etc/virt-seclabel/policy-store"; fi
mount -t tmpfs -o mode=0755 tmpfs "$r/sys/fs"; mkdir "$r/sys/fs/selinux"; mount --bind "$selinuxfs" "$r/sys/fs/selinux"
for l in bin lib lib64 sbin; do [ -L "/$l" ] && ln -s "$(readlink "/$l")" "$r/$l"; done
mkdir -p "$r/srv/iso"
cp "$w/a.iso" "$r/srv/iso/a.iso"; chmod 0644 "$r/srv/iso/a.iso"
setfattr -n security.selinux -v system_u:object_r:root_t:s0 "$r"
setfattr -n security.selinux -v system_u:object_r:var_t:s0 "$r/srv"
setfattr -n security.selinux -v system_u:object_r:public_content_t:s0 "$r/srv/iso"
setfattr -n security.selinux -v system_u:object_r:public_content_t:s0 "$r/srv/iso/a.iso"
shift 4
exec chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@"
' bench-chroot "$w/root" "$store" "$w/selinuxfs" "$w" "$@" < "$input" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
base=$(chrooted - "$w/dac.xml" node -e 0)
row() { awk -v n="$2" -v b="$base" -v what="$1" 'BEGIN { printf "  %-58s %6d M  %5.2fx\n", what, n / 1e6, n / b }'; }
echo "hook Node call, instructions (callgrind Ir) / node -e 0, one run each; build $dist"
row 'node -e 0 (chroot)' "$base"
row 'hook -- prepare begin (fast entry), DAC' "$(chrooted "$w/etc/policy-store" "$w/dac.xml" node "$dist/cli/main.js" hook -- cgdom prepare begin -)"
row 'hook -- start begin (fast entry), SELinux, policy store' "$(chrooted "$w/etc/policy-store-copy" "$w/selinux.xml" node "$dist/cli/main.js" hook -- cgdom start begin -)"
row 'the same, the kernel policy changed since install' "$(chrooted "$w/etc/policy-store" "$w/selinux.xml" node "$dist/cli/main.js" hook -- cgdom start begin -)"
row 'the same without the store' "$(chrooted - "$w/selinux.xml" node "$dist/cli/main.js" hook -- cgdom start begin -)"
