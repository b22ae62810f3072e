/**
 * The qemu.d script libvirt runs. libvirt gives hooks LC_ALL=C, HOME and the daemon's own PATH (the
 * daemon's environment, or /bin:/usr/bin when it has none), so the script sets a PATH of its own to find
 * virt-seclabel and node. It calls virt-seclabel only for `prepare begin` and `start begin` (checks), and
 * `migrate begin` and `restore begin` (a filter whose output, printed only whole after success, libvirt
 * takes as the new XML; Node always runs for those two, which are rare), and turns
 * every outcome but the refusal code into "let the start go on" (a missing binary, a crash, a hang past
 * the timeout), so a broken virt-seclabel can never be why a VM does not start.
 *
 * libvirt runs it for every operation of every domain, so a start with nothing to check must cost no Node
 * start and as few processes as can be: the XML is read into a shell variable (one `cat`), and when no
 * `relabel` attribute in it is other than libvirt's own `relabel='yes'`, or when the name of the phase's
 * one model (`dac` at prepare begin, `selinux` at start begin: the only seclabels that phase judges) is
 * nowhere in it, the start goes on at once, silently, with no other program run. Those tests are on the
 * text and err towards starting Node: any other `relabel` (another value, another quoting, spaces around
 * `=`, a character reference, or the word anywhere else), the model's name anywhere, or any character
 * reference (`&#`) runs the check. A variable keeps every byte but NUL, and libvirt's XML has none (it is
 * written from a C string); a trailing `.` keeps the final newlines command substitution would strip, so
 * the check gets exactly the bytes libvirt sent.
 *
 * contrib/libvirt-hook/virt-seclabel is renderHookScript() with the default binary, checked in for
 * packaging (a test keeps the two equal).
 */
import { shellQuote } from '../shell-quote.js';

/** virt-seclabel hook's exit code for "refuse the start": a value Node never exits with by itself. */
export const HOOK_REFUSE_EXIT = 10;

/** The line that marks a file as ours: install overwrites and uninstall removes only such a file. */
export const HOOK_MARKER = '# virt-seclabel-hook: written by `virt-seclabel hook install`; `virt-seclabel hook uninstall` removes it';

export const HOOK_FILE_NAME = 'virt-seclabel';
export const DEFAULT_HOOKS_DIR = '/etc/libvirt/hooks';
export const DEFAULT_BINARY = 'virt-seclabel';
export const HOOK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Seconds before a hung check is killed and the start goes on (libvirtd waits for hooks without limit). */
export const HOOK_TIMEOUT_SECONDS = 30;
/** The tag of the hook's syslog lines (logger -t in the script, the same in the Node side). */
export const SYSLOG_TAG = 'virt-seclabel';

/** The environment every run of the check gets, whoever started it: the script's PATH and the C locale. */
function preamble(binary: string): string {
  return `PATH=${HOOK_PATH}
export PATH
LC_ALL=C
export LC_ALL
VIRT_SECLABEL=${shellQuote(binary)}
`;
}

/**
 * `timeout` as the script runs it. `--foreground`: timeout then neither moves itself into a process group
 * of its own (setpgid) nor signals its group when the time is up, only the check. Without it, where the
 * setpgid is refused (Debian's SELinux policy denies virtd_t `process { setpgid }`; coreutils ignores the
 * failure) the group is libvirtd's own, which runs hooks in its process group: a check that hung would
 * have had SIGTERM, then SIGKILL, sent to libvirtd itself.
 */
export const TIMEOUT_PREFIX = `timeout --foreground -k 5 ${HOOK_TIMEOUT_SECONDS}`;

/** The command the script runs for a check, with the domain XML on stdin; `hook install` runs it first. */
const CHECK_COMMAND = `${TIMEOUT_PREFIX} "$VIRT_SECLABEL" hook -- "$@"`;

/**
 * A `case` pattern for "some relabel here is not libvirt's own relabel='yes' / relabel="yes"": the word
 * followed by anything but `=`, `=` by anything but a quote, or a quote by anything but `yes` and the same
 * quote. Matched against the XML with a `.` after it, so a `relabel` cut off at the very end matches too.
 * Each alternative is a literal between two `*`, which the shell matches in one pass (removing the
 * relabel='yes' occurrences with ${var#*…} instead took 2 s of CPU on a 37 KB domain whose seclabel comes last).
 */
const SOMETHING_TO_CHECK = String.raw`*relabel[!=]* | *relabel=[!\'\"]* | \
  *relabel=\'[!y]* | *relabel=\'y[!e]* | *relabel=\'ye[!s]* | *relabel=\'yes[!\']* | \
  *relabel=\"[!y]* | *relabel=\"y[!e]* | *relabel=\"ye[!s]* | *relabel=\"yes[!\"]*`;

export function renderHookScript(binary = DEFAULT_BINARY): string {
  return `#!/bin/sh
${HOOK_MARKER}
# libvirt runs every script in /etc/libvirt/hooks/qemu.d for each QEMU domain operation, as
# NAME OPERATION SUB-OP EXTRA with the domain XML on stdin; any non-zero exit fails the operation.
# This one re-proves the relabel='no' seclabels virt-seclabel wrote: DAC at "prepare begin", SELinux at
# "start begin" (with the label libvirt generated). Only a proven-stale one refuses the start (exit ${HOOK_REFUSE_EXIT});
# a missing virt-seclabel, a crash or a timeout lets the start go on and is logged.
${preamble(binary)}
say() {
  echo "virt-seclabel: $*" >&2
  [ -S /dev/log ] && logger -t ${SYSLOG_TAG} -p daemon.warning -- "$*" 2>/dev/null
  return 0
}

case "$2 $3" in
  "prepare begin" | "start begin") ;;
  "migrate begin" | "restore begin")
    # libvirt takes this script's output as the new domain XML (empty: its own XML unchanged): the XML
    # re-decided for this host, printed only whole and only when the check succeeded, so an error, a
    # crash or a timeout prints nothing and never cancels the migration or the restore.
    if ! command -v "$VIRT_SECLABEL" >/dev/null 2>&1; then
      cat >/dev/null
      say "$1: $2 $3: $VIRT_SECLABEL not found in $PATH; XML left as libvirt has it"
      exit 0
    fi
    if out=$(${CHECK_COMMAND} && echo .); then
      printf '%s' "\${out%.}"
    else
      say "$1: $2 $3: the check failed; XML left as libvirt has it"
    fi
    exit 0 ;;
  *) exec cat >/dev/null ;;
esac

# The XML, whole: the trailing . keeps the final newlines that command substitution strips.
if ! xml=$(cat && echo .); then
  say "$1: $2 $3: cannot read the domain XML from stdin; start allowed unchecked"
  exit 0
fi
# Nothing to check: no relabel attribute but libvirt's relabel='yes'. Anything else starts the check.
case $xml in
  ${SOMETHING_TO_CHECK}) ;;
  *) exit 0 ;;
esac
xml=\${xml%.}
# Nor when this phase's model is not in the text at all: DAC at prepare begin, SELinux at start begin.
# A model='…' can only say it literally or through a character reference (&#…;).
case "$2" in prepare) model=dac ;; *) model=selinux ;; esac
case $xml in *"$model"* | *'&#'*) ;; *) exit 0 ;; esac

if ! command -v "$VIRT_SECLABEL" >/dev/null 2>&1; then
  say "$1: $2 $3: $VIRT_SECLABEL not found in $PATH; start allowed unchecked"
  exit 0
fi

# The check reads the XML from the pipe (its own line, the very command hook install tried).
printf '%s' "$xml" |
  ${CHECK_COMMAND}
status=$?
[ "$status" -eq ${HOOK_REFUSE_EXIT} ] && exit ${HOOK_REFUSE_EXIT}
[ "$status" -ne 0 ] && say "$1: $2 $3: the check failed (exit $status); start allowed unchecked"
exit 0
`;
}

/**
 * What `hook install` runs before it writes anything: the script's own environment lines and its check
 * command, nothing else (no fast path, no "allowed unchecked"), so that what fails here is what would
 * have failed at every start.
 */
export function renderProbeScript(binary = DEFAULT_BINARY): string {
  return `${preamble(binary)}${CHECK_COMMAND}\n`;
}

/** The probe's arguments and stdin: a `prepare begin` of a domain with nothing to check, which must say nothing. */
export const PROBE_ARGS = ['virt-seclabel-install-check', 'prepare', 'begin', '-'] as const;
export const PROBE_XML = `<domain type='kvm'>
  <name>virt-seclabel-install-check</name>
  <devices>
  </devices>
</domain>
`;
/** What libvirt gives a hook besides what the script sets (libvirt's virCommandAddEnvPassCommon, no HOME). */
export const PROBE_ENV: Readonly<Record<string, string>> = { LC_ALL: 'C', PATH: '/bin:/usr/bin' };
