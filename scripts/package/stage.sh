#!/usr/bin/env bash
# Lays out the installed program from an npm pack tarball: LIBDIR gets package.json, the bundle
# (dist/cli/main.js + dist/cli/program.cjs), schemas/, and node_modules/ with the production dependencies only
# (the native @napi-rs/xattr and its linux-x64-gnu addon; everything JavaScript is in the bundle).
# Shared by the Debian and RPM builds so both ship the same tree.
set -euo pipefail
tarball=${1:?usage: stage.sh TARBALL LIBDIR}
libdir=${2:?usage: stage.sh TARBALL LIBDIR}
mkdir -p "$libdir"
tar -xzf "$tarball" -C "$libdir" --strip-components=1
# No network beyond the registry, and normally none: npm ci filled the cache with these exact packages.
(cd "$libdir" && npm install --omit=dev --ignore-scripts --no-audit --no-fund --no-package-lock --prefer-offline --loglevel=error >/dev/null)
# Docs live under /usr/share/doc in a system package, not next to the program.
rm -f "$libdir/README.md" "$libdir/CHANGELOG.md"
# The man page goes to /usr/share/man (scripts/package/extras.sh), not next to the program.
rm -rf "$libdir/man"
# npm leaves its lock of what it installed; the program does not read it.
rm -f "$libdir/node_modules/.package-lock.json"
# npm pack stores files 0644 and marks `bin` executable only when it installs; do the same here.
chmod 0755 "$libdir/dist/cli/main.js"
# Their READMEs and licence files are docs (the licences are in the package's copyright file).
find "$libdir/node_modules" -type f \( -name 'README*' -o -name 'LICENSE*' -o -name '*.d.ts' \) -delete
