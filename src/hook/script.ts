/**
 * The qemu.d script libvirt runs. libvirt gives hooks LC_ALL=C, HOME and the daemon's own PATH (the
 * daemon's environment, or /bin:/usr/bin when it has none), so the script sets a PATH of its own to find
 * virt-seclabel and node. It calls virt-seclabel only for `prepare begin` and `start begin`, and turns
 * every outcome but the refusal code into "let the start go on" (a missing binary, a crash, a hang past
 * the timeout), so a broken virt-seclabel can never be why a VM does not start.
 *
 * libvirt runs it for every operation of every domain, so a start with nothing to check must cost no Node
 * start: the XML is kept in a private temp file (a shell variable would lose NUL bytes, and Node must get
 * the bytes libvirt sent), and when no `relabel` attribute in it is other than libvirt's own
 * `relabel='yes'`, or when the name of the phase's one model (`dac` at prepare begin, `selinux` at start
 * begin: the only seclabels that phase judges) is nowhere in it, the start goes on at once, silently. Those
 * tests are on the text and err towards starting Node: any other `relabel` (another value, another quoting,
 * a character reference, an attribute split over lines, or the word anywhere else), the model's name
 * anywhere, any character reference (`&#`), or a sed or grep that fails or is missing runs the check.
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

/** The command the script runs for a check, with the domain XML on stdin; `hook install` runs it first. */
const CHECK_COMMAND = `timeout -k 5 ${HOOK_TIMEOUT_SECONDS} "$VIRT_SECLABEL" hook -- "$@"`;

/**
 * One sed over the kept XML: prints `skip` after the last line when no line still has `relabel` once
 * every relabel='yes' / relabel="yes" is taken out, else `check` (and stops). Empty output (sed missing,
 * failed, empty input) is not `skip`.
 */
const NOTHING_TO_CHECK = `sed -n -e "s/relabel[[:space:]]*=[[:space:]]*'yes'//g" -e 's/relabel[[:space:]]*=[[:space:]]*"yes"//g' -e '/relabel/{' -e 's/.*/check/p' -e q -e '}' -e '$s/.*/skip/p' "$xml" 2>/dev/null`;

export function renderHookScript(binary = DEFAULT_BINARY): string {
  return `#!/bin/sh
${HOOK_MARKER}
# libvirt runs every script in /etc/libvirt/hooks/qemu.d for each QEMU domain operation, as
# NAME OPERATION SUB-OP EXTRA with the domain XML on stdin; any non-zero exit fails the operation.
# This one re-proves the relabel='no' seclabels virt-seclabel wrote: DAC at "prepare begin", SELinux at
# "start begin" (with the label libvirt generated). Only a proven-stale one refuses the start (exit ${HOOK_REFUSE_EXIT});
# a missing virt-seclabel, a crash or a timeout lets the start go on and is logged.
${preamble(binary)}
case "$2 $3" in
  "prepare begin" | "start begin") ;;
  *) exec cat >/dev/null ;;
esac

say() {
  echo "virt-seclabel: $*" >&2
  [ -S /dev/log ] && logger -t ${SYSLOG_TAG} -p daemon.warning -- "$*" 2>/dev/null
  return 0
}

# The XML in a private temp file (NUL bytes and all), for the test below and then for the check. Without
# a temp file the check reads libvirt's stdin itself.
xml=$(mktemp "\${TMPDIR:-/tmp}/virt-seclabel-hook.XXXXXXXXXX" 2>/dev/null) || xml=
if [ -n "$xml" ]; then
  trap 'rm -f "$xml"' EXIT
  if ! cat >"$xml"; then
    say "$1: $2 $3: cannot keep the domain XML in $xml; start allowed unchecked"
    exit 0
  fi
  # Nothing to check: no relabel attribute but relabel='yes'. Anything else starts the check.
  [ "$(${NOTHING_TO_CHECK})" = skip ] && exit 0
  # Nor when this phase's model is not in the text at all: DAC at prepare begin, SELinux at start begin.
  # A model='…' can only say it literally or through a character reference (&#…;). grep's 1 is "no line
  # matched"; 2 (an error) or 127 (no grep) starts the check.
  case "$2" in prepare) model=dac ;; *) model=selinux ;; esac
  grep -q -e "$model" -e '&#' "$xml" 2>/dev/null
  [ $? -eq 1 ] && exit 0
  exec <"$xml"
fi

if ! command -v "$VIRT_SECLABEL" >/dev/null 2>&1; then
  say "$1: $2 $3: $VIRT_SECLABEL not found in $PATH; start allowed unchecked"
  cat >/dev/null
  exit 0
fi

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
