#!/bin/sh
# Builds the libsepol reference helper into .tmp/ when it is missing or older than its source, and prints
# its path. Static link: sepol_set_policydb, sepol_set_sidtab and evaluate_conds are not in libsepol.so.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
src="$here/sepol-av.c"
out="$root/.tmp/sepol-av"
lib=${LIBSEPOL_A:-/usr/lib/x86_64-linux-gnu/libsepol.a}
if [ ! -x "$out" ] || [ "$src" -nt "$out" ] || [ "$0" -nt "$out" ]; then
  mkdir -p "$root/.tmp"
  # Build to a temporary name first so a concurrent suite never runs a half-written binary.
  cc -O2 -Wall -Wextra -o "$out.$$" "$src" "$lib"
  mv -f "$out.$$" "$out"
fi
echo "$out"
