/**
 * The human form of `explain`: per domain a one-line summary, then one row per disk and model with the
 * reason, then the disks' warnings, each once. How wide and how coloured is the caller's to say (the
 * terminal); the words are the same either way.
 */
import type { FileOutcome } from '../app/process-file.js';
import { APPARMOR_DISK_REASON, type AppArmorDecision } from '../decide/apparmor.js';
import { isStale, type Model } from '../decide/types.js';
import { layoutTable, wrap, type Layout } from './layout.js';
import { summarize, summarizeFiles } from './summary.js';
import { FIRMWARE_AUTO } from '../decide/files.js';

/** The apparmor row's reason with its deciding rule, when the reason does not already quote it. */
const apparmorReason = (d: AppArmorDecision) => (d.rule !== undefined && !d.reason.includes(d.rule) ? `${d.reason} [rule ${d.rule}]` : d.reason);

const ACCESS_WORD = (a: boolean | null) => (a === true ? 'yes' : a === false ? 'no' : '?');

export interface TextOptions {
  /** Add the n/a apparmor row per disk (the host's AppArmor driver is active). */
  readonly apparmor?: boolean;
  /** Terminal width to wrap to; undefined: one record per line. */
  readonly width?: number;
  readonly color?: boolean;
}

const SGR = { green: '32', yellow: '33', red: '31', cyan: '36', dim: '2', bold: '1' } as const;
const paintWith = (color: boolean) => (code: keyof typeof SGR, text: string) => (color ? `\u001b[${SGR[code]}m${text}\u001b[0m` : text);

/** ACTION (column 4) and OK? (column 5) carry the meaning; the rest stays plain. */
function cellPainter(color: boolean): Layout['paint'] {
  const paint = paintWith(color);
  const byWord: Record<string, keyof typeof SGR> = { annotate: 'green', keep: 'yellow', STALE: 'red', existing: 'cyan', 'n/a': 'dim', yes: 'green', no: 'red', '?': 'dim', relabel: 'yellow', 'as-is': 'cyan' };
  return (column, text) => (column >= 4 && byWord[text] ? paint(byWord[text], text) : text);
}

/** `document` is set for each document of a stream (virt-install --print-xml prints two). */
export function renderText(outcomes: readonly (FileOutcome & { readonly document?: number | undefined })[], opts: TextOptions = {}): string {
  const paint = paintWith(opts.color === true);
  const layout: Layout = { width: opts.width, paint: cellPainter(opts.color === true) };
  // Wrapped as plain text, then the one word painted, so escape codes never count towards the width.
  const fit = (text: string, indent: string, word?: string, code?: Parameters<typeof paint>[0]) => {
    const lines = opts.width === undefined ? [indent + text] : wrap(text, opts.width - indent.length).map((l) => indent + l);
    if (word !== undefined && code !== undefined) lines[0] = lines[0]!.replace(word, paint(code, word));
    return lines;
  };
  const out: string[] = [];
  for (const o of outcomes) {
    const name = `${o.file}${o.document === undefined ? '' : ` (document ${o.document})`}`;
    if (!o.ok) {
      out.push(...fit(`${name}: error at ${o.error.line}:${o.error.column}: ${o.error.message}`, '', 'error', 'red'), '');
      continue;
    }
    const files = o.decision.files ?? [];
    const summary = `${summarize(o.decision.disks)}${files.length > 0 ? `; ${summarizeFiles(files)}` : ''}`;
    out.push(...fit(`${name} (domain ${o.decision.domain.name ?? '(unnamed)'}): ${summary}`, '', name, 'bold'));
    const rows: string[][] = [['DISK', 'SOURCE', 'ACCESS', 'MODEL', 'ACTION', 'OK?', 'REASON']];
    for (const d of o.decision.disks) {
      const disk = [d.disk.target ?? `#${d.disk.index + 1}`, d.disk.path ?? '-', d.access];
      for (const m of ['dac', 'selinux'] as Model[]) {
        const md = d.models[m];
        const action = isStale(md) ? 'STALE' : md.action;
        rows.push([...disk, m, action, ACCESS_WORD(md.accessible), md.reason]);
      }
      if (opts.apparmor) rows.push([...disk, 'apparmor', 'n/a', ACCESS_WORD(d.apparmor?.accessible ?? null), d.apparmor ? apparmorReason(d.apparmor) : APPARMOR_DISK_REASON]);
    }
    // Narrow terminals: one block per disk (target, source, access), a line per model below it.
    out.push(...layoutTable(rows, '  ', layout, 3));
    for (const d of o.decision.disks)
      for (const f of d.findings)
        out.push(...fit(`${f.severity}: disk ${d.disk.target ?? `#${d.disk.index + 1}`}: ${f.message}`, '  ', f.severity, f.severity === 'error' ? 'red' : 'yellow'));
    if (o.decision.domain.other?.firmwareAuto)
      out.push(...fit(`note: ${FIRMWARE_AUTO}`, '  '));
    if (files.length > 0) {
      // Files beyond disks, grouped under their element (document order keeps an element's files together).
      const frows: string[][] = [['ELEMENT', 'FILE', 'ACCESS', 'MODEL', 'ACTION', 'OK?', 'REASON']];
      for (const d of files) {
        const head = [d.file.where, d.file.path ?? '-', d.file.access];
        for (const m of ['dac', 'selinux'] as Model[]) {
          const md = d.models[m];
          const action = md.action === 'existing' && md.stale ? 'STALE' : md.action;
          // DAC rows of files libvirt chowns: what the chown leaves, where it differs from now ("yes→no": the start fails).
          const after = (md.action === 'relabel' || md.action === 'keep') && md.afterChown !== undefined && md.afterChown !== md.accessible ? `→${ACCESS_WORD(md.afterChown)}` : '';
          frows.push([...head, m, action, `${ACCESS_WORD(md.accessible)}${after}`, md.reason]);
        }
        if (d.apparmor) frows.push([...head, 'apparmor', 'n/a', ACCESS_WORD(d.apparmor.accessible), apparmorReason(d.apparmor)]);
      }
      out.push('');
      out.push(...layoutTable(frows, '  ', layout, 3));
      const said = new Set<string>();
      for (const d of files) {
        const line = `${d.file.where}: ${d.libvirt}`;
        if (!said.has(line)) out.push(...fit(line, '  '));
        said.add(line);
      }
      for (const d of files)
        for (const f of d.findings)
          out.push(...fit(`${f.severity}: ${d.file.where}: ${f.message}`, '  ', f.severity, f.severity === 'error' ? 'red' : 'yellow'));
      for (const p of o.decision.domain.other?.argProblems ?? []) out.push(...fit(`warning: qemu:commandline: ${p.message}`, '  ', 'warning', 'yellow'));
    }
    out.push('');
  }
  return out.join('\n');
}
