#!/usr/bin/env bash
# Builds Debian's `default` policy with two CIL statements added, `(typepermissive virtd_t)` and
# `(typepermissive virtlogd_t)`, for the enforcing cases of the SELinux guest: the kernel enforces, QEMU's
# svirt_t and every disk decision are Debian's policy unchanged, and only libvirt's daemons' own domains
# are permissive. They need a fully labelled host (config, state, sockets, cgroups, D-Bus) that a 9p-root
# guest does not have; what is under test is the disk, not libvirtd's confinement. Built from a copy of
# the installed module store with semodule -p (the host's store and loaded policy are not touched);
# cached by the inputs' hashes.
# Usage: build-policy.sh [CACHE]   prints the path of the policy file.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-$here/../../.cache/selinux-guest}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# Several test files boot guests at once: one builder at a time (the others then find the cache).
exec 9>"$cache/.build.lock"
flock 9
store=/var/lib/selinux/default
[ -d "$store/active" ] || { echo "build-policy: no module store at $store (selinux-policy-default)" >&2; exit 1; }
cil='(typepermissive virtd_t) (typepermissive virtlogd_t)'
stamp=$( { echo "$cil"; sha256sum "$store/active/policy.kern"; } | sha256sum | cut -c1-16)
out=$cache/policy-daemons-permissive-$stamp.33
if [ ! -f "$out" ]; then
  alt=$(mktemp -d "$cache/altroot.XXXXXX")
  trap 'rm -rf "$alt"' EXIT
  mkdir -p "$alt/var/lib/selinux" "$alt/etc/selinux"
  cp -a "$store" "$alt/var/lib/selinux/"
  cp -a /etc/selinux/default "$alt/etc/selinux/"
  cp /etc/selinux/semanage.conf /etc/selinux/config "$alt/etc/selinux/"
  echo "$cil" > "$alt/vsl_virtd_permissive.cil"
  # -n: build only, load nothing. libsemanage warns about users of the policy absent here; harmless.
  semodule -p "$alt" -s default -n -i "$alt/vsl_virtd_permissive.cil" 2>"$alt/semodule.err" || { cat "$alt/semodule.err" >&2; exit 1; }
  cp "$alt/etc/selinux/default/policy/policy.33" "$out.tmp"
  mv "$out.tmp" "$out"
fi
echo "$out"
