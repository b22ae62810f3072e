/**
 * The hook's words. Every line starts with "virt-seclabel:" so nothing it prints can be taken for
 * libvirt's own text when `virsh start` shows it after "Hook script execution failed".
 */
import type { HookJudgement, JudgedDisk, StaleDisk, UnjudgedDisk } from './judge.js';

export const PREFIX = 'virt-seclabel:';

/** `disk vda`, or for a file beyond disks its element (`os/nvram`, `devices/serial[1]`). */
const subject = (d: JudgedDisk): string => (d.element !== undefined ? d.element : `disk ${d.target}`);

export function refusalLine(vm: string, who: string, d: StaleDisk): string {
  return `${PREFIX} ${vm}: ${subject(d)} (${d.path}): ${who} can no longer access it: ${d.denied}; run virt-seclabel --prune-stale on its definition, or fix the file`;
}

export function unjudgedLine(vm: string, d: UnjudgedDisk): string {
  return `${PREFIX} ${vm}: ${subject(d)} (${d.path}): cannot re-check its ${d.model} relabel='no' (${d.why}); start allowed`;
}

/** What a run says: refusal lines (stderr, libvirt shows them) and notes (stderr plus syslog). */
export function judgementLines(vm: string, j: HookJudgement): { stale: string[]; notes: string[] } {
  return { stale: j.stale.map((d) => refusalLine(vm, j.who, d)), notes: j.unjudged.map((d) => unjudgedLine(vm, d)) };
}
