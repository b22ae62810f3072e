#!/bin/sh
# Runs inside the SELinux guest (scripts/selinux-guest/init.sh), as kernel_t, policy loaded, permissive.
# $1: the repository. Everything the host test asserts on is printed as one JSON document.
exec /usr/bin/node "$1/test/selinux-kernel/guest/job.mjs" "$1"
