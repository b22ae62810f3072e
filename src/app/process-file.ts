/**
 * One input file through the whole flow: bytes → strict XML → domain → decisions → edits → bytes.
 * Pure given its ports: no file is read or written here, so a failure can never leave a half-written file.
 */
import { decideDomain, type DomainDecision } from '../decide/domain.js';
import type { Connection } from '../decide/connection.js';
import type { DecisionPorts } from '../decide/ports.js';
import { parseDomain } from '../domain/parse.js';
import { planEdits, type EditPlan } from '../edit/plan.js';
import type { Diagnostic } from '../report/diagnostic.js';
import { parseXml } from '../xml/parse.js';
import { applyEdits, serialize } from '../xml/splice.js';
import type { XmlDocument } from '../xml/tree.js';

export interface ProcessedFile {
  readonly ok: true;
  readonly file: string;
  readonly doc: XmlDocument;
  readonly decision: DomainDecision;
  readonly plan: EditPlan;
  readonly output: Uint8Array;
  readonly changed: boolean;
  /** Warnings tied to positions in this file (inactive-model seclabels, stale annotations, …). */
  readonly diagnostics: readonly Diagnostic[];
}

export interface FailedFile {
  readonly ok: false;
  readonly file: string;
  readonly error: Diagnostic;
}

export type FileOutcome = ProcessedFile | FailedFile;

export function processFile(
  file: string,
  bytes: Uint8Array,
  conn: Connection,
  ports: DecisionPorts,
  opts: { pruneStale: boolean },
): FileOutcome {
  const parsed = parseXml(bytes);
  if (!parsed.ok)
    return { ok: false, file, error: { file, line: parsed.error.line, column: parsed.error.column, severity: 'error', message: parsed.error.message } };
  const doc = parsed.value;
  const domain = parseDomain(doc.root);
  if (!domain.ok)
    return { ok: false, file, error: { file, line: domain.error.line, column: domain.error.column, severity: 'error', message: domain.error.message } };
  const decision = decideDomain(domain.value, conn, ports);
  const plan = planEdits(doc, decision, opts);
  const changed = plan.edits.length > 0;
  const output = changed ? serialize(doc, applyEdits(doc.text, plan.edits)) : bytes;
  const diagnostics: Diagnostic[] = [];
  for (const d of decision.disks) {
    const at = d.disk.source ?? d.disk.element;
    const name = `disk ${d.disk.target ?? `#${d.disk.index + 1}`}${d.disk.path ? ` (${d.disk.path})` : ''}`;
    for (const f of d.findings)
      if (f.severity !== 'info') diagnostics.push({ file, line: at.line, column: at.column, severity: f.severity, message: `${name}: ${f.message}` });
    for (const m of ['dac', 'selinux'] as const) {
      const md = d.models[m];
      if (md.action === 'existing' && md.stale)
        diagnostics.push({ file, line: at.line, column: at.column, severity: 'warning', message: `${name}: ${m}: ${md.reason}` });
    }
  }
  return { ok: true, file, doc, decision, plan, output, changed, diagnostics };
}
