/**
 * What `--help` shows besides the options: real examples and the exit-code contract of each command
 * (the README's table, per command). Kept as data so the man page test can hold them to the same words.
 */

export interface CommandHelp {
  readonly examples: readonly (readonly [command: string, what: string])[];
  readonly exitCodes: readonly (readonly [code: number, meaning: string])[];
}

const SVIRT = 'system_u:system_r:svirt_t:s0:c1,c2';
const ISO = 'system_u:object_r:public_content_t:s0';

export const HELP: Readonly<Record<'annotate' | 'explain' | 'facts' | 'query' | 'labels' | 'completion', CommandHelp>> = {
  annotate: {
    examples: [
      ['$0 vm.xml | virsh define /dev/stdin', "define vm.xml with relabel='no' where QEMU can already access the file"],
      ['$0 --check vms/*.xml', 'exit 1 if a file would change or carries a stale seclabel (pre-commit, CI)'],
      ['$0 -i --prune-stale vms/web01.xml', 'rewrite in place, also dropping annotations that no longer hold'],
    ],
    exitCodes: [
      [0, 'done (with --check: nothing to change)'],
      [1, '--check found a file that would change, or a stale seclabel'],
      [2, 'usage, XML or domain error, I/O error, unusable host settings; nothing written'],
    ],
  },
  explain: {
    examples: [
      ['$0 explain vm.xml', 'every disk and model: action, whether access is proven, and why'],
      ['$0 explain --facts host.json vms/web01.xml', 'the same decisions, from a snapshot of the hypervisor'],
      ['$0 explain --json vm.xml', 'the report as JSON (schemas/report.schema.json)'],
    ],
    exitCodes: [
      [0, 'every file was read and decided'],
      [2, 'usage error, or a file that cannot be read or parsed (the others are still reported)'],
    ],
  },
  facts: {
    examples: [
      ['$0 facts vms/*.xml -o host.json', 'on the hypervisor: record what the decisions for these domains read'],
      ['$0 facts --path /srv/iso -o host.json', 'cover every image under /srv/iso, for domains not written yet'],
    ],
    exitCodes: [
      [0, 'snapshot written'],
      [2, 'usage error, unreadable or invalid domain XML, or the snapshot could not be written'],
    ],
  },
  query: {
    examples: [
      [`$0 query -s ${SVIRT} -t ${ISO} -c file -p read,open`, 'one question: allowed, or denied and why'],
      [`$0 query --boolean virt_use_nfs=on < questions.jsonl`, 'JSON Lines in, one answer per line out'],
    ],
    exitCodes: [
      [0, 'allowed (a stream: every line answered)'],
      [1, 'denied (one question)'],
      [2, 'usage error, unreadable policy, or an invalid question'],
    ],
  },
  labels: {
    examples: [
      ['$0 labels', 'the file types VMs on this host may use for read-only media and shareable disks, with the MCS condition'],
      ['$0 labels --check system_u:object_r:public_content_t:s0', 'may a VM use a file with this label, and why (not)'],
      ['$0 labels --json --boolean virt_use_nfs=on', 'the list under a boolean setting, as JSON (schemas/labels.schema.json)'],
    ],
    exitCodes: [
      [0, 'listed (with --check: usable for read-only media as a regular file)'],
      [1, '--check: not usable for read-only media'],
      [2, 'usage error, unreadable policy, or an invalid context or label'],
    ],
  },
  completion: {
    examples: [
      ['$0 completion bash > /etc/bash_completion.d/virt-seclabel', 'bash completion for every user'],
      ['$0 completion zsh > "${fpath[1]}/_virt-seclabel"', 'zsh completion'],
    ],
    exitCodes: [[0, 'script printed']],
  },
};

/** The exit-code table as the epilogue of a command's --help. */
export function exitCodeEpilogue(help: CommandHelp): string {
  return ['Exit codes:', ...help.exitCodes.map(([code, meaning]) => `  ${code}  ${meaning}`)].join('\n');
}
