#!/usr/bin/env bash
# Installs what the test suites need on a Debian 12 machine: the real references the engines are
# tested against (kernel DAC via setpriv/setfacl, libsepol and Debian's real policies, libvirt).
# Idempotent and quick when everything is already there. Without root it only reports what is missing;
# suites then skip, except under CI=true, where a missing tool is a failure.
set -euo pipefail

packages=(
  acl attr util-linux                                   # setfacl/getfacl, setfattr, setpriv
  libvirt-clients libxml2-utils                         # virt-xml-validate (runs xmllint), virsh test:///default
  selinux-policy-default selinux-policy-mls             # real binary policies (policy.33)
  checkpolicy setools libsepol-dev gcc libc6-dev        # small test policies, sesearch, libsepol.a
  policycoreutils                                       # semodule: the guest's enforcing policy; restorecon inside the guest
  selinux-utils                                         # matchpathcon inside the guest (the firmware's file-context label)
  qemu-utils                                            # qemu-img for image chains
)
# Real libvirtd + QEMU for the end-to-end suite.
packages+=(libvirt-daemon-system libvirt-daemon-driver-qemu qemu-system-x86)
packages+=(ovmf)                                        # UEFI firmware for the beyond-disk libvirtd suite (loader, nvram template)
packages+=(swtpm swtpm-tools)                             # TPM emulator for the beyond-disk libvirtd suite (swtpm, swtpm_setup)
packages+=(python3)                                     # doctor --apply: libvirt's fcntl metadata lock is held by a python3 helper
packages+=(git pre-commit)                              # the pre-commit round trip
packages+=(time)                                        # /usr/bin/time -v: peak RSS in the bench
packages+=(lintian rpm cpio ansible python3-apt)        # the .deb check, rpmbuild + payload unpack, the fleet playbook (apt module)
packages+=(busybox-static cpio attr)                    # the SELinux guest: busybox initramfs (the kernel comes from apt-get download)
packages+=(apparmor)                                    # apparmor_parser and the tunables/abstractions libvirt's qemu profile includes (AppArmor engine suites); it loads libvirt's profiles in the AppArmor guest
packages+=(virtinst)                                    # virt-install --print-xml: the two-document stream
packages+=(tmux)                                        # explain in a real terminal (80 and 200 columns)
packages+=(nfs-kernel-server nfs-common rpcbind)          # the NFS guest suite: rpc.nfsd, rpc.mountd, exportfs, mount.nfs (the guest's kernel has nfsd)
packages+=(samba cifs-utils)                            # the CIFS part of the NFS guest suite: smbd on loopback, mount.cifs (the guest's kernel has the cifs client)
packages+=(bindfs fuse3 python3-fusepy)                # FUSE mounts for the kernel-probe differential (bindfs kinds, a deciding daemon)
packages+=(groff-base mandoc zsh)                       # man page lint (groff -ww, mandoc -T lint); zsh completion
packages+=(cockpit-ws cockpit-bridge chromium)          # the Cockpit page in a real browser (cockpit-ws --local-session, headless chromium)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-test-deps: missing Debian packages (suites needing them will skip): ${missing[*]}" >&2
  exit 0
fi
echo "install-test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=600)
if ! apt-get install "${apt_opts[@]}" "${missing[@]}" >/tmp/virt-seclabel-apt.log 2>&1; then
  apt-get update -q >>/tmp/virt-seclabel-apt.log 2>&1
  apt-get install "${apt_opts[@]}" "${missing[@]}" >>/tmp/virt-seclabel-apt.log 2>&1 || {
    tail -30 /tmp/virt-seclabel-apt.log >&2
    exit 1
  }
fi
