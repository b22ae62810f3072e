/**
 * The qemu.d script libvirt runs. libvirt gives hooks LC_ALL=C, HOME and the daemon's own PATH (the
 * daemon's environment, or /bin:/usr/bin when it has none), so the script sets a PATH of its own to find
 * virt-seclabel and node. It calls virt-seclabel only for `prepare begin` and `start begin`, and turns
 * every outcome but the refusal code into "let the start go on" (a missing binary, a crash, a hang past
 * the timeout), so a broken virt-seclabel can never be why a VM does not start.
 *
 * contrib/libvirt-hook/virt-seclabel is renderHookScript() with the default binary, checked in for
 * packaging (a test keeps the two equal).
 */

/** virt-seclabel hook's exit code for "refuse the start": a value Node never exits with by itself. */
export const HOOK_REFUSE_EXIT = 10;

/** The line that marks a file as ours: install overwrites and uninstall removes only such a file. */
export const HOOK_MARKER = '# virt-seclabel-hook: written by `virt-seclabel hook install`; `virt-seclabel hook uninstall` removes it';

export const HOOK_FILE_NAME = 'virt-seclabel';
export const DEFAULT_HOOKS_DIR = '/etc/libvirt/hooks';
export const HOOK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Seconds before a hung check is killed and the start goes on (libvirtd waits for hooks without limit). */
export const HOOK_TIMEOUT_SECONDS = 30;

/** A word for sh inside single quotes. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function renderHookScript(binary = 'virt-seclabel'): string {
  return `#!/bin/sh
${HOOK_MARKER}
# libvirt runs every script in /etc/libvirt/hooks/qemu.d for each QEMU domain operation, as
# NAME OPERATION SUB-OP EXTRA with the domain XML on stdin; any non-zero exit fails the operation.
# This one re-proves the relabel='no' seclabels virt-seclabel wrote: DAC at "prepare begin", SELinux at
# "start begin" (with the label libvirt generated). Only a proven-stale one refuses the start (exit ${HOOK_REFUSE_EXIT});
# a missing virt-seclabel, a crash or a timeout lets the start go on and is logged.
PATH=${HOOK_PATH}
export PATH
VIRT_SECLABEL=${shellQuote(binary)}

case "$2 $3" in
  "prepare begin" | "start begin") ;;
  *) exec cat >/dev/null ;;
esac

say() {
  echo "virt-seclabel: $*" >&2
  [ -S /dev/log ] && logger -t virt-seclabel -p daemon.warning -- "$*" 2>/dev/null
  return 0
}

if ! command -v "$VIRT_SECLABEL" >/dev/null 2>&1; then
  say "$1: $2 $3: $VIRT_SECLABEL not found in $PATH; start allowed unchecked"
  exec cat >/dev/null
fi

timeout -k 5 ${HOOK_TIMEOUT_SECONDS} "$VIRT_SECLABEL" hook -- "$@"
status=$?
[ "$status" -eq ${HOOK_REFUSE_EXIT} ] && exit ${HOOK_REFUSE_EXIT}
[ "$status" -ne 0 ] && say "$1: $2 $3: the check failed (exit $status); start allowed unchecked"
exit 0
`;
}
