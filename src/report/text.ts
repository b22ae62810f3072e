/** The human table of `explain`: one row per disk and model, then the reasons in full. */
import type { FileOutcome } from '../app/process-file.js';
import type { Model } from '../decide/types.js';
import { APPARMOR_DISK_REASON } from '../decide/apparmor.js';

const ACCESS_WORD = (a: boolean | null) => (a === true ? 'yes' : a === false ? 'no' : '?');

/** `document` is set for each document of a stream (virt-install --print-xml prints two). */
export function renderText(outcomes: readonly (FileOutcome & { readonly document?: number | undefined })[], apparmor = false): string {
  const out: string[] = [];
  for (const o of outcomes) {
    if (!o.ok) {
      out.push(`${o.file}: error at ${o.error.line}:${o.error.column}: ${o.error.message}`, '');
      continue;
    }
    out.push(`${o.file}${o.document === undefined ? '' : ` (document ${o.document})`}: domain ${o.decision.domain.name ?? '(unnamed)'}`);
    const rows: string[][] = [['DISK', 'SOURCE', 'ACCESS', 'MODEL', 'ACTION', 'OK?', 'REASON']];
    for (const d of o.decision.disks) {
      const disk = [d.disk.target ?? `#${d.disk.index + 1}`, d.disk.path ?? '-', d.access];
      for (const m of ['dac', 'selinux'] as Model[]) {
        const md = d.models[m];
        const action = md.action === 'existing' && md.stale ? 'STALE' : md.action;
        rows.push([...disk, m, action, ACCESS_WORD(md.accessible), md.reason]);
      }
      if (apparmor) rows.push([...disk, 'apparmor', 'n/a', '?', APPARMOR_DISK_REASON]);
    }
    const widths = rows[0]!.slice(0, -1).map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) out.push('  ' + r.map((c, i) => (i < widths.length ? c.padEnd(widths[i]!) : c)).join('  ').trimEnd());
    for (const d of o.decision.disks)
      for (const f of d.findings) out.push(`  ${f.severity}: disk ${d.disk.target ?? `#${d.disk.index + 1}`}: ${f.message}`);
    out.push('');
  }
  return out.join('\n');
}
