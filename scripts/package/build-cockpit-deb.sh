#!/usr/bin/env bash
# Builds cockpit-virt-seclabel_X.Y.Z_all.deb with dpkg-deb from the built tree (npm run build writes
# dist/cockpit/): the Cockpit page, in its own package so the CLI's stays free of Cockpit.
#   /usr/share/cockpit/virt-seclabel/          manifest.json, index.html, index.js, index.css
#   /usr/share/doc/cockpit-virt-seclabel/      copyright (the page's bundled React and PatternFly), changelog.gz
# Depends on cockpit-bridge (which runs the page's spawn) and on virt-seclabel of the same version (the CLI
# the page runs).
# Usage: npm run build && scripts/package/build-cockpit-deb.sh [OUTDIR]   (prints the .deb path last)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mkdir -p "${1:-$root/.tmp/deb}" && cd "${1:-$root/.tmp/deb}" && pwd)
version=$(node -p "require('$root/package.json').version")
page="$root/dist/cockpit/virt-seclabel"
[ -f "$page/index.js" ] || { echo "build-cockpit-deb: $page/index.js missing: run npm run build first" >&2; exit 1; }
work=$(mktemp -d "$out/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
pkg="$work/pkg"
name=cockpit-virt-seclabel

mkdir -p "$pkg/usr/share/cockpit"
cp -r "$page" "$pkg/usr/share/cockpit/virt-seclabel"
doc="$pkg/usr/share/doc/$name"
mkdir -p "$doc"
{
  echo "$name ($version) unstable; urgency=medium"
  echo
  echo "  * Release $version (upstream changes: see CHANGELOG.md in the source)."
  echo
  echo " -- virt-seclabel maintainers <virt-seclabel@lists.invalid>  $(date -R -d "@${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct)}")"
} | gzip -9n > "$doc/changelog.gz"
"$here/copyright.sh" cockpit-deb > "$doc/copyright"

size=$(du -sk "$pkg/usr" | cut -f1)
mkdir -p "$pkg/DEBIAN"
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: all
Maintainer: virt-seclabel maintainers <virt-seclabel@lists.invalid>
Installed-Size: $size
Depends: cockpit-bridge, virt-seclabel (= $version)
Section: admin
Priority: optional
Homepage: https://github.com/virt-seclabel/virt-seclabel
Description: Cockpit page for virt-seclabel: libvirt's needless relabelling
 Shows, in Cockpit's web console next to Virtual Machines, every file of every
 libvirt domain with, per security model, whether libvirt will chown or
 relabel it although QEMU could already use it, and offers to stop that
 relabelling or grant QEMU access by ACL, each after showing its plan. The
 decisions are virt-seclabel's: the page runs it and shows its answers.
CONTROL
find "$pkg" -type d -exec chmod 0755 {} +
find "$pkg" -type f -exec chmod 0644 {} +
deb="$out/${name}_${version}_all.deb"
(cd "$pkg" && find usr -type f -print0 | sort -z | xargs -0 md5sum) > "$pkg/DEBIAN/md5sums"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "build-cockpit-deb: built $deb" >&2
echo "$deb"
