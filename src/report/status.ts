/**
 * One status per file and model, in the words a person reads in the Cockpit page (and in the
 * `explain --domain/--all-domains --json` report it reads): what libvirt will do with the file at the
 * next start and whether QEMU could use it without that. A rendering of the decision, never a new one:
 *   left-alone   libvirt will leave it alone (no label of this model applies, or a relabel='no' that holds,
 *                or a file libvirt never labels and QEMU can open);
 *   needless     libvirt will chown or relabel it although QEMU could already use it (proven);
 *   required     libvirt will relabel it, and must (svirt's isolation of an exclusive writable disk);
 *   cannot-open  QEMU cannot open it as it is (libvirt's relabel may still give it access; a stale
 *                relabel='no', a file libvirt never labels, or one whose owner bits give nothing even after
 *                libvirt's chown makes the start fail);
 *   unknown      cannot tell (some file could not be judged).
 */
import type { AppArmorDecision } from '../decide/apparmor.js';
import type { FileModelDecision, ModelDecision } from '../decide/types.js';

export type FileStatus = 'left-alone' | 'needless' | 'required' | 'cannot-open' | 'unknown';

export const STATUS_WORDS: Readonly<Record<FileStatus, string>> = {
  'left-alone': 'libvirt will leave it alone',
  needless: 'libvirt will chown or relabel it although QEMU could already use it',
  required: 'libvirt will relabel it, and must',
  'cannot-open': 'QEMU cannot open it',
  unknown: 'cannot tell',
};

/** The status in words, with what happens at start where the status alone leaves it open. */
export function statusWords(md: ModelDecision | FileModelDecision): string {
  const status = fileStatus(md);
  if (status !== 'cannot-open') return STATUS_WORDS[status];
  if ((md.action === 'keep' || md.action === 'relabel') && md.afterChown === false) return `${STATUS_WORDS[status]}, not even after libvirt's chown at start; the start will fail`;
  if (md.action === 'keep' || md.action === 'relabel') return `${STATUS_WORDS[status]} as it is; libvirt will chown or relabel it at start`;
  return `${STATUS_WORDS[status]}; the start will fail`;
}

/**
 * The apparmor row's status: libvirt's AppArmor driver changes no file (it writes a per-VM path profile),
 * so the only questions are whether that profile lets QEMU open the file (left alone, and usable) or not
 * (nothing libvirt does at start changes that: the start fails), or cannot tell.
 */
export function apparmorStatus(d: AppArmorDecision): { status: FileStatus; words: string } {
  if (d.accessible === true) return { status: 'left-alone', words: STATUS_WORDS['left-alone'] };
  if (d.accessible === false) return { status: 'cannot-open', words: `${STATUS_WORDS['cannot-open']}: the VM's AppArmor profile refuses it; the start will fail` };
  return { status: 'unknown', words: STATUS_WORDS.unknown };
}

export function fileStatus(md: ModelDecision | FileModelDecision): FileStatus {
  switch (md.action) {
    case 'n/a':
      return 'left-alone';
    case 'annotate':
      return 'needless';
    case 'existing':
      if (md.stale || md.accessible === false) return 'cannot-open';
      return md.accessible === true ? 'left-alone' : 'unknown';
    case 'keep':
      if (md.accessible === false || md.afterChown === false) return 'cannot-open';
      return md.byRule ? 'required' : 'unknown';
    case 'relabel':
      if (md.afterChown === false) return 'cannot-open';
      return md.accessible === true ? 'needless' : md.accessible === false ? 'cannot-open' : 'unknown';
    case 'as-is':
      return md.accessible === true ? 'left-alone' : md.accessible === false ? 'cannot-open' : 'unknown';
  }
}
