/**
 * The one-line summary of a domain in `explain`: each disk counted once, in the first class that fits,
 * in this order: stale (a relabel='no' whose file is no longer accessible), to annotate (at least one
 * seclabel would be added; the per-model counts are seclabels), unknown (some active model could not be
 * decided), kept (libvirt relabels as before: access proven denied, or svirt isolation of an exclusive
 * writable disk), already annotated (seclabels present and still valid), nothing to label.
 */
import type { DiskDecision } from '../decide/disk.js';
import { failsAtStart, isStale, MODELS, type Model } from '../decide/types.js';
import type { OtherFileDecision } from '../decide/files.js';

export type DiskClass = 'stale' | 'annotate' | 'unknown' | 'kept' | 'existing' | 'none';

export function classifyDisk(d: DiskDecision): DiskClass {
  const decisions = MODELS.map((m) => d.models[m]);
  if (decisions.some(isStale)) return 'stale';
  if (decisions.some((md) => md.action === 'annotate')) return 'annotate';
  if (decisions.some((md) => md.action === 'keep' && md.accessible === null && !md.byRule)) return 'unknown';
  if (decisions.some((md) => md.action === 'keep')) return 'kept';
  if (decisions.some((md) => md.action === 'existing')) return 'existing';
  return 'none';
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** `8 disks, 5 to annotate (dac 3, selinux 4), 2 kept, 1 unknown`: classes with no disk are left out. */
export function summarize(disks: readonly DiskDecision[]): string {
  const count = new Map<DiskClass, number>();
  for (const d of disks) count.set(classifyDisk(d), (count.get(classifyDisk(d)) ?? 0) + 1);
  const perModel = (m: Model) => disks.filter((d) => d.models[m].action === 'annotate').length;
  const parts = [plural(disks.length, 'disk')];
  const n = (c: DiskClass) => count.get(c) ?? 0;
  if (n('stale')) parts.push(`${n('stale')} stale`);
  if (n('annotate')) {
    const models = MODELS.map((m) => [m, perModel(m)] as const).filter(([, k]) => k > 0);
    parts.push(`${n('annotate')} to annotate (${models.map(([m, k]) => `${m} ${k}`).join(', ')})`);
  }
  if (n('unknown')) parts.push(`${n('unknown')} unknown`);
  if (n('kept')) parts.push(`${n('kept')} kept`);
  if (n('existing')) parts.push(`${n('existing')} already annotated`);
  if (n('none')) parts.push(`${n('none')} with nothing to label`);
  return parts.join(', ');
}

export type FileClass = 'stale' | 'fails' | 'annotate' | 'unknown' | 'kept' | 'relabelled' | 'as-is' | 'existing' | 'none';

/** Each file beyond disks counted once, in the first class that fits (the order below). */
export function classifyFile(d: OtherFileDecision): FileClass {
  const ds = MODELS.map((m) => d.models[m]);
  if (ds.some((md) => md.action === 'existing' && md.stale)) return 'stale';
  if (ds.some(failsAtStart)) return 'fails';
  if (ds.some((md) => md.action === 'annotate')) return 'annotate';
  if (ds.some((md) => (md.action === 'keep' && !md.byRule && md.accessible === null) || (md.action === 'as-is' && md.accessible === null))) return 'unknown';
  if (ds.some((md) => md.action === 'keep')) return 'kept';
  if (ds.some((md) => md.action === 'relabel')) return 'relabelled';
  if (ds.some((md) => md.action === 'as-is')) return 'as-is';
  if (ds.some((md) => md.action === 'existing')) return 'existing';
  return 'none';
}

const FILE_CLASS_WORDS: Record<Exclude<FileClass, 'annotate'>, string> = {
  stale: 'stale',
  fails: 'QEMU cannot open (start fails)',
  unknown: 'unknown',
  kept: 'kept',
  relabelled: 'relabelled by libvirt (no opt-out)',
  'as-is': 'used as they are',
  existing: 'already annotated',
  none: 'with nothing to label',
};

/** `4 other files, 1 to annotate (dac 1), 2 relabelled by libvirt (no opt-out), 1 QEMU cannot open (start fails)`. */
export function summarizeFiles(files: readonly OtherFileDecision[]): string {
  const count = new Map<FileClass, number>();
  for (const d of files) count.set(classifyFile(d), (count.get(classifyFile(d)) ?? 0) + 1);
  const parts = [plural(files.length, 'other file')];
  for (const c of ['stale', 'fails', 'annotate', 'unknown', 'kept', 'relabelled', 'as-is', 'existing', 'none'] as FileClass[]) {
    const k = count.get(c) ?? 0;
    if (!k) continue;
    if (c === 'annotate') {
      const models = MODELS.map((m) => [m, files.filter((d) => d.models[m].action === 'annotate').length] as const).filter(([, n]) => n > 0);
      parts.push(`${k} to annotate (${models.map(([m, n]) => `${m} ${n}`).join(', ')})`);
    } else parts.push(`${k} ${FILE_CLASS_WORDS[c]}`);
  }
  return parts.join(', ');
}
