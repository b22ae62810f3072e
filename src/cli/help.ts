/**
 * What `--help` shows under each command's options: real examples and that command's exit codes. Kept
 * as data beside the yargs definitions so a new command cannot be added without them (the help test
 * fails for a command whose help lacks either), and so the man page and the README can be checked
 * against the same words.
 */
import type { Argv } from 'yargs';
import { wrap } from '../report/layout.js';

export interface CommandHelp {
  /** [command line as typed, what it does]; `$0` is the program's name. */
  readonly examples: readonly (readonly [string, string])[];
  /** [exit code, meaning] for this command. */
  readonly exitCodes: readonly (readonly [number, string])[];
}

const USAGE_ERROR = 'usage, XML or domain error (FILE:LINE:COL: error: on stderr), I/O error, unusable host settings';

export const HELP = {
  annotate: {
    examples: [
      ['$0 vm.xml | virsh define /dev/stdin', 'annotate on the way to libvirt (standard output)'],
      ['$0 --check --facts host.json vms/*.xml', 'offline, from a snapshot: exit 1 if a file would change'],
      ['$0 --all-domains --apply', "annotate the definitions libvirt holds, redefining only the ones that change"],
    ],
    exitCodes: [
      [0, 'done (for --check: nothing to change)'],
      [1, '--check found a file that would change, or a stale seclabel'],
      [2, `${USAGE_ERROR}; --apply: a domain not (safely) redefined`],
    ],
  },
  explain: {
    examples: [
      ['$0 explain --facts samples/demo/host.json samples/demo/web01.xml', 'every disk and model of the demo, and why'],
      ['$0 explain --json vm.xml', 'the same as JSON (schemas/report.schema.json)'],
      ['$0 explain vms/*.xml | grep STALE', 'one record per line into a pipe, so grep finds whole records'],
    ],
    exitCodes: [
      [0, 'every file was read and decided'],
      [2, 'usage error, or a file that cannot be read or parsed (the others are still reported)'],
    ],
  },
  facts: {
    examples: [
      ['$0 facts vms/*.xml -o host.json', 'on the hypervisor: snapshot what these domains\' decisions read'],
      ['$0 facts --path /srv/iso -o host.json', 'also cover every file under a directory tree'],
    ],
    exitCodes: [
      [0, 'snapshot written'],
      [2, 'usage error, unreadable or invalid domain XML, or the snapshot could not be written'],
    ],
  },
  grant: {
    examples: [
      ['$0 grant vm.xml', 'the setfacl commands that let QEMU open its disks without a chown, to review'],
      ['$0 grant --apply vm.xml && $0 -i vm.xml', "apply them, then annotate: relabel='no' where access is now proven"],
    ],
    exitCodes: [
      [0, 'every disk accessible or planned (with --apply: every change applied and proven)'],
      [1, 'a disk cannot be granted (refused, with the reason) or is still not proven after --apply'],
      [2, 'usage or input error, or an --apply change that was refused or failed (the report lists what changed)'],
    ],
  },
  doctor: {
    examples: [
      ['$0 doctor --all-domains', "the records libvirt left on every defined domain's disks, and files it left chowned"],
      ['$0 doctor --apply /var/lib/libvirt/images/vm1.qcow2', 'give back the remembered owner and label of a stale record, as libvirt\'s last stop would have'],
      ['$0 doctor --json --path /srv/iso', 'every file under a tree, as JSON (schemas/doctor.schema.json)'],
    ],
    exitCodes: [
      [0, 'nothing found (with --apply: everything found was undone)'],
      [1, 'a stale record, a file that cannot be recorded or one left chowned (with --apply: something remains that it does not change, such as an owner it did not give back)'],
      [2, 'usage error, a record or file that cannot be read, not root, or an --apply change that failed (the others are still made)'],
    ],
  },
  hook: {
    examples: [
      ['$0 hook install', "write /etc/libvirt/hooks/qemu.d/virt-seclabel; then reload libvirtd (SIGHUP)"],
      ['$0 hook uninstall', 'remove that script, only if virt-seclabel wrote it'],
      ['$0 hook -- vm1 prepare begin - < vm1.xml', 'what libvirt runs at each start (the script calls this)'],
    ],
    exitCodes: [
      [0, 'start allowed (anything but a proven-stale annotation, each reason logged); install/uninstall done'],
      [2, "install/uninstall refused (a file virt-seclabel did not write; install: the script's command fails, see --binary) or failed"],
      [10, "refuse the start: a relabel='no' seclabel is proven stale (one line per disk on stderr)"],
    ],
  },
  query: {
    examples: [
      [
        '$0 query -s system_u:system_r:svirt_t:s0:c1,c2 -t system_u:object_r:public_content_t:s0 -c file -p read,open',
        'one question: allowed or denied, and the rule that decided',
      ],
      ['$0 query --policy /etc/selinux/default/policy/policy.33 < questions.jsonl', 'JSON Lines in, each answered'],
    ],
    exitCodes: [
      [0, 'allowed; for JSON Lines on stdin: the stream was read (each line carries its answer or its error)'],
      [1, 'denied (one question)'],
      [2, 'usage error, unreadable or unusable policy, unanswerable question'],
    ],
  },
  labels: {
    examples: [
      ['$0 labels', 'the file types VMs on this host may use for read-only media and shareable disks, with the MCS condition'],
      ['$0 labels --check system_u:object_r:public_content_t:s0', 'may a VM use a file with this label, and why (not)'],
      ['$0 labels --json --boolean virt_use_nfs=on', 'the list under a boolean setting, as JSON (schemas/labels.schema.json)'],
    ],
    exitCodes: [
      [0, 'listed; for --check: usable for read-only media as a regular file'],
      [1, '--check: not usable for read-only media'],
      [2, 'usage error, unreadable or unusable policy, invalid context or label'],
    ],
  },
  completion: {
    examples: [
      ['$0 completion bash > /etc/bash_completion.d/virt-seclabel', 'bash: complete commands, options, their values and files'],
      ['$0 completion zsh > "${fpath[1]}/_virt-seclabel"', 'zsh: the same, with descriptions'],
    ],
    exitCodes: [
      [0, 'script printed'],
      [2, 'usage error'],
    ],
  },
} as const satisfies Record<string, CommandHelp>;

export type CommandName = keyof typeof HELP;

/** yargs wraps help text at 80 columns; lines already this short are left as they are. */
const WIDTH = 78;

/**
 * The epilogue of a command's --help: each example as a comment saying what it does over the command
 * line (long lines continued with a backslash, so it can be pasted), then the exit codes, each meaning
 * wrapped under itself.
 */
export function helpEpilogue(help: CommandHelp, name = 'virt-seclabel'): string {
  const examples = help.examples.flatMap(([line, what]) => [
    ...wrap(`# ${what}`, WIDTH - 2).map((l, i) => `  ${i === 0 ? '' : '# '}${l}`),
    '  ' + wrap(line.replace(/\$0/g, name), WIDTH - 6).join(' \\\n      '),
  ]);
  const codes = help.exitCodes.flatMap(([code, meaning]) => wrap(meaning, WIDTH - 5).map((l, i) => (i === 0 ? `  ${code}  ${l}` : `     ${l}`)));
  return ['Examples:', ...examples, '', 'Exit codes:', ...codes].join('\n');
}

/** Adds the command's examples and exit-code table to its --help. */
export function documented<T>(y: Argv<T>, command: CommandName): Argv<T> {
  return y.epilogue(helpEpilogue(HELP[command]));
}
