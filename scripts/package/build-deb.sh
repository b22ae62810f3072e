#!/usr/bin/env bash
# Builds virt-seclabel_X.Y.Z_amd64.deb with dpkg-deb (no build farm, no debhelper) from the built tree:
#   /usr/lib/virt-seclabel        the program (scripts/package/stage.sh: bundle + native xattr addon)
#   /usr/bin/virt-seclabel        a two-line sh wrapper running it with /usr/bin/node
#   /usr/share/doc/virt-seclabel  copyright, changelog.gz (Debian format), README.md.gz
#   and, each only if it exists in the tree when this runs (it says which it included):
#   /usr/share/man/man1/virt-seclabel.1.gz                         from man/virt-seclabel.1
#   /usr/share/bash-completion/completions/virt-seclabel            from `virt-seclabel completion bash`
#   /usr/share/zsh/vendor-completions/_virt-seclabel                from `virt-seclabel completion zsh`
#   /usr/share/virt-seclabel/libvirt-hook/virt-seclabel             from contrib/libvirt-hook/virt-seclabel
# The hook is shipped as an example only: installing never enables it (nothing goes to /etc/libvirt/hooks).
# Usage: npm run build && scripts/package/build-deb.sh [OUTDIR]   (prints the .deb path last)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mkdir -p "${1:-$root/.tmp/deb}" && cd "${1:-$root/.tmp/deb}" && pwd)
version=$(node -p "require('$root/package.json').version")
arch=$(dpkg --print-architecture)
work=$(mktemp -d "$out/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
pkg="$work/pkg"
log() { echo "build-deb: $*" >&2; }

tarball=$("$here/npm-pack.sh" "$work")
"$here/stage.sh" "$tarball" "$pkg/usr/lib/virt-seclabel"
# A wrapper, not a symlink: the bundle runs
# with the node this package depends on, whatever `env node` would find first on PATH.
install -D -m 0755 /dev/stdin "$pkg/usr/bin/virt-seclabel" <<'WRAPPER'
#!/bin/sh
exec /usr/bin/node /usr/lib/virt-seclabel/dist/cli/main.js "$@"
WRAPPER
cli="$pkg/usr/lib/virt-seclabel/dist/cli/main.js"

doc="$pkg/usr/share/doc/virt-seclabel"
mkdir -p "$doc"
gzip -9n < "$root/README.md" > "$doc/README.md.gz"
{
  echo "virt-seclabel ($version) unstable; urgency=medium"
  echo
  echo "  * Release $version (upstream changes: see CHANGELOG.md in the source)."
  echo
  echo " -- virt-seclabel maintainers <virt-seclabel@lists.invalid>  $(date -R -d "@${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct)}")"
} | gzip -9n > "$doc/changelog.gz"
"$here/copyright.sh" deb > "$doc/copyright"

extras="$work/extras"
"$here/extras.sh" "$extras" "$cli"
install_extra() { # NAME DEST MODE
  if [ -f "$extras/$1" ]; then install -D -m "$3" "$extras/$1" "$pkg/$2"; fi
}
if [ -f "$extras/virt-seclabel.1" ]; then
  mkdir -p "$pkg/usr/share/man/man1"
  gzip -9n < "$extras/virt-seclabel.1" > "$pkg/usr/share/man/man1/virt-seclabel.1.gz"
fi
install_extra virt-seclabel.bash usr/share/bash-completion/completions/virt-seclabel 0644
install_extra _virt-seclabel usr/share/zsh/vendor-completions/_virt-seclabel 0644
install_extra libvirt-hook usr/share/virt-seclabel/libvirt-hook/virt-seclabel 0755

size=$(du -sk "$pkg/usr" | cut -f1)
mkdir -p "$pkg/DEBIAN"
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: virt-seclabel
Version: $version
Architecture: $arch
Maintainer: virt-seclabel maintainers <virt-seclabel@lists.invalid>
Installed-Size: $size
Depends: nodejs (>= 20), libc6, python3, attr
Section: admin
Priority: optional
Homepage: https://github.com/virt-seclabel/virt-seclabel
Description: add relabel='no' seclabels to libvirt disks QEMU can already access
 virt-seclabel reads libvirt domain XML, checks every disk source against the
 host's SELinux policy and DAC (the qemu user and group), and writes the same
 XML back with <seclabel relabel='no'/> wherever access is already proven, so
 libvirt does not relabel files that need no relabelling. It runs as a filter
 before virsh define, as a pre-commit hook from host facts snapshots, and
 answers SELinux policy queries.
CONTROL
find "$pkg" -type d -exec chmod 0755 {} +
find "$pkg" -type f ! -perm /111 -exec chmod 0644 {} +
deb="$out/virt-seclabel_${version}_${arch}.deb"
(cd "$pkg" && find usr -type f -print0 | sort -z | xargs -0 md5sum) > "$pkg/DEBIAN/md5sums"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
log "built $deb"
echo "$deb"
