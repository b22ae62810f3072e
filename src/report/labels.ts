/**
 * Renderings of a `labels` answer: text for a person (types grouped by use, class and MCS condition,
 * one per line so grep works) and JSON (schemas/labels.schema.json). Pure: data in, text out.
 */
import type { LabelVerdict } from '../selinux/label-check.js';
import type { SvirtProcess } from '../selinux/svirt-process.js';
import { FILE_ROLE, FILE_USER, MEDIA_CLASSES, MEDIA_USES, type FlipAddition, type MediaClass, type MediaUse, type UsableType, type UsableTypesAnswer } from '../selinux/usable-types.js';

const USE_WORDS: Record<MediaUse, string> = { 'read-only': 'read-only media', 'read-write': 'shareable writable disks' };
const CLASS_WORDS: Record<MediaClass, string> = { file: 'regular files (file)', blk_file: 'block devices (blk_file)' };

export function processWords(proc: SvirtProcess): string {
  if (proc.kind === 'static') return `${proc.context} (--context)`;
  const base = `${proc.user}:${proc.role}:${proc.type}`;
  if (!proc.mls) return `${base} (libvirt's dynamic label)`;
  return `${base}:s0:cX,cY (libvirt's dynamic label: X and Y picked at start in c${proc.categories.min}..c${proc.categories.max})`;
}

function processJson(proc: SvirtProcess) {
  return proc.kind === 'static'
    ? { kind: 'static' as const, context: proc.context }
    : { kind: 'dynamic' as const, context: `${proc.user}:${proc.role}:${proc.type}`, categories: proc.categories };
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const i of items) out.set(key(i), [...(out.get(key(i)) ?? []), i]);
  return out;
}

export function labelsText(answer: UsableTypesAnswer, proc: SvirtProcess, source: string): string {
  const lines: string[] = [
    `svirt process: ${processWords(proc)}`,
    `policy: ${source}; files checked as ${FILE_USER}:${FILE_ROLE}:TYPE:LEVEL`,
  ];
  for (const { use, perms } of MEDIA_USES) {
    lines.push('', `${USE_WORDS[use]} (${perms.join(' ')}):`);
    for (const tclass of MEDIA_CLASSES) {
      const items = answer.usable.filter((u) => u.use === use && u.tclass === tclass);
      if (items.length === 0) {
        lines.push(`  ${CLASS_WORDS[tclass]}: none`);
        continue;
      }
      for (const [condition, group] of groupBy(items, (u) => u.condition)) {
        lines.push(`  ${CLASS_WORDS[tclass]}, ${condition}:`, ...group.map((u) => `    ${u.type}`));
      }
    }
  }
  lines.push('', 'one boolean flip adds:');
  if (answer.flips.length === 0) lines.push('  nothing');
  for (const [flip, group] of groupBy(answer.flips, (f) => `${f.boolean}=${f.value ? 'on' : 'off'}`)) {
    lines.push(`  ${flip}:`, ...group.map((f) => `    ${f.use} ${f.tclass} ${f.type} (${f.condition})`));
  }
  return lines.join('\n') + '\n';
}

const entryJson = (u: UsableType) => ({ type: u.type, use: u.use, class: u.tclass, condition: u.condition, levels: u.levels });
const flipJson = (f: FlipAddition) => ({ boolean: f.boolean, value: f.value, ...entryJson(f) });

export function labelsJson(answer: UsableTypesAnswer, proc: SvirtProcess, source: string): string {
  return JSON.stringify({
    command: 'labels',
    process: processJson(proc),
    policy: source,
    fileContext: `${FILE_USER}:${FILE_ROLE}:TYPE:LEVEL`,
    permissions: Object.fromEntries(MEDIA_USES.map((u) => [u.use, [...u.perms]])),
    booleans: Object.fromEntries(answer.booleans),
    usable: answer.usable.map(entryJson),
    booleanFlips: answer.flips.map(flipJson),
  }, null, 2) + '\n';
}

export function labelCheckText(label: string, verdicts: readonly LabelVerdict[], proc: SvirtProcess): string {
  const lines = [`${label} for ${processWords(proc)}:`];
  for (const v of verdicts) {
    const head = `  ${USE_WORDS[v.use]}, ${CLASS_WORDS[v.tclass]}: `;
    if (v.allowed) lines.push(`${head}allowed${v.processContexts.length > 1 ? ` for every VM (${v.processContexts.length} representative category sets checked)` : ''}`);
    else lines.push(`${head}denied: ${v.denied.join(', ')}${v.deniedFor && v.processContexts.length > 1 ? ` for a VM libvirt may start as ${v.deniedFor}` : ''}`, `    ${v.reason}`);
  }
  return lines.join('\n') + '\n';
}

export function labelCheckJson(label: string, verdicts: readonly LabelVerdict[], proc: SvirtProcess, source: string): string {
  return JSON.stringify({
    command: 'labels --check',
    label,
    process: processJson(proc),
    policy: source,
    answers: verdicts.map((v) => ({
      use: v.use, class: v.tclass, allowed: v.allowed, denied: [...v.denied], reason: v.reason,
      processContexts: [...v.processContexts], ...(v.deniedFor ? { deniedFor: v.deniedFor } : {}),
    })),
  }, null, 2) + '\n';
}
