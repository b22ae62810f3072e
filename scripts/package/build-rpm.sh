#!/usr/bin/env bash
# Builds the binary RPM (and, when dist/cockpit/ is built, cockpit-virt-seclabel) from virt-seclabel.spec with rpmbuild (Debian's `rpm` package works), in a
# private _topdir: makes the spec's four sources from the built tree (see the spec's header), announces
# the optional files the tree has with --with NAME (and says which), and prints the .rpm path last.
# Usage: npm run build && scripts/package/build-rpm.sh [OUTDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mkdir -p "${1:-$root/.tmp/rpm}" && cd "${1:-$root/.tmp/rpm}" && pwd)
version=$(node -p "require('$root/package.json').version")
top="$out/rpmbuild"
rm -rf "$top"
mkdir -p "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}
src="$top/SOURCES"
log() { echo "build-rpm: $*" >&2; }

tarball=$("$here/npm-pack.sh" "$src")
stage=$(mktemp -d "$out/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
"$here/stage.sh" "$tarball" "$stage/lib"
tar -czf "$src/virt-seclabel-$version-node_modules.tar.gz" -C "$stage/lib" node_modules
"$here/copyright.sh" deb > "$src/virt-seclabel-$version-copyright"

extras="$stage/extras"
"$here/extras.sh" "$extras" "$stage/lib/dist/cli/main.js"
with=()
[ -f "$extras/virt-seclabel.1" ] && with+=(--with man)
[ -f "$extras/virt-seclabel.bash" ] && with+=(--with bash_completion)
[ -f "$extras/_virt-seclabel" ] && with+=(--with zsh_completion)
[ -f "$extras/libvirt-hook" ] && with+=(--with libvirt_hook)
tar -czf "$src/virt-seclabel-$version-extras.tar.gz" -C "$stage" extras
# The Cockpit page, when the tree has it built (npm run build): the cockpit-virt-seclabel subpackage.
if [ -f "$root/dist/cockpit/virt-seclabel/index.js" ]; then
  mkdir -p "$stage/cockpit"
  cp -r "$root/dist/cockpit/virt-seclabel" "$stage/cockpit/"
  "$here/copyright.sh" cockpit-deb > "$stage/cockpit/COPYRIGHT"
  tar -czf "$src/virt-seclabel-$version-cockpit.tar.gz" -C "$stage" cockpit
  with+=(--with cockpit)
fi

cp "$root/virt-seclabel.spec" "$top/SPECS/"
# Debian's rpm has no Fedora build macros; --nodeps: the build needs nothing from an RPM database.
rpmbuild -bb --nodeps --define "_topdir $top" "${with[@]}" "$top/SPECS/virt-seclabel.spec" >"$out/rpmbuild.log" 2>&1 || {
  tail -40 "$out/rpmbuild.log" >&2
  exit 1
}

rpm=$(find "$top/RPMS" -name "virt-seclabel-$version-*.rpm" | head -1)
cockpit=$(find "$top/RPMS" -name "cockpit-virt-seclabel-$version-*.rpm" | head -1)
if [ -n "$cockpit" ]; then log "built $cockpit"; fi
log "built $rpm"
echo "$rpm"
