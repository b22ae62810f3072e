#!/usr/bin/env bash
# The optional parts both system packages ship when the tree being packaged has them, collected into
# DESTDIR under fixed names, each announced on stderr (included or why not):
#   virt-seclabel.1     man/virt-seclabel.1
#   virt-seclabel.bash  `virt-seclabel completion bash` of the staged program (CLI)
#   _virt-seclabel      `virt-seclabel completion zsh`
#   libvirt-hook        contrib/libvirt-hook/virt-seclabel (an example; packages never enable it)
# Usage: extras.sh DESTDIR CLI   (CLI: the staged dist/cli/main.js)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=${1:?usage: extras.sh DESTDIR CLI}
cli=${2:?usage: extras.sh DESTDIR CLI}
log() { echo "package extras: $*" >&2; }
mkdir -p "$dest"
if [ -f "$root/man/virt-seclabel.1" ]; then
  cp "$root/man/virt-seclabel.1" "$dest/virt-seclabel.1"
  log "included man page man/virt-seclabel.1"
else
  log "no man/virt-seclabel.1 in the tree: no man page"
fi
for shell in bash zsh; do
  name=$([ "$shell" = bash ] && echo virt-seclabel.bash || echo _virt-seclabel)
  if script=$(node "$cli" completion "$shell" 2>/dev/null) && [ -n "$script" ]; then
    printf '%s\n' "$script" > "$dest/$name"
    log "included $shell completion from \`virt-seclabel completion $shell\`"
  else
    log "no \`virt-seclabel completion $shell\` in this build: no $shell completion"
  fi
done
if [ -f "$root/contrib/libvirt-hook/virt-seclabel" ]; then
  cp "$root/contrib/libvirt-hook/virt-seclabel" "$dest/libvirt-hook"
  log "included libvirt hook contrib/libvirt-hook/virt-seclabel (not enabled)"
else
  log "no contrib/libvirt-hook/virt-seclabel in the tree: no libvirt hook"
fi
