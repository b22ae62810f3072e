#!/usr/bin/env bash
# Packs the built tree (dist/ from `npm run build`) into virt-seclabel-X.Y.Z.tgz in DESTDIR and prints its
# path. --ignore-scripts: packing must not rebuild dist/ underneath tests that are running it; the
# `prepare` build is what `npm install` of a git checkout (pre-commit) runs instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=${1:?usage: npm-pack.sh DESTDIR}
if [ ! -f "$root/dist/cli/main.js" ] || [ ! -f "$root/dist/cli/program.cjs" ]; then
  echo "npm-pack.sh: dist/ is not the bundled build: run \`npm run build\` first" >&2
  exit 2
fi
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
name=$(cd "$root" && npm pack --ignore-scripts --loglevel=silent --pack-destination "$dest" | tail -1)
echo "$dest/$name"
