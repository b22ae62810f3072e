/** The --check lines: each planned insertion or removal as a warning at its place in the file. */
import { inDocument, type DocumentOutcome } from '../app/process-input.js';
import type { Diagnostic } from '../decide/types.js';

export function checkDiagnostics(o: DocumentOutcome): Diagnostic[] {
  if (!o.ok) return [];
  return o.plan.changes.map((c) => {
    const d = c.subject === undefined ? o.decision.disks.find((x) => x.disk.target === c.target) : undefined;
    const name = c.subject ?? `disk ${c.target ?? '?'}${d?.disk.path ? ` (${d.disk.path})` : ''}`;
    const what = c.kind === 'insert' ? `add <seclabel model='${c.model}' relabel='no'/>` : `remove the stale <seclabel model='${c.model}' relabel='no'/>`;
    return { file: o.file, line: c.line, column: c.column, severity: 'warning' as const, message: inDocument(`${name}: ${what}`, o.document) };
  });
}

