/**
 * One input file through the whole flow: bytes → strict XML → domain → decisions → edits → bytes.
 * Pure given its ports: no file is read or written here, so a failure can never leave a half-written file.
 */
import { decideDomain, type DomainDecision } from '../decide/domain.js';
import type { Connection } from '../decide/connection.js';
import { failsAtStart, isStale, type Diagnostic } from '../decide/types.js';
import type { DecisionPorts } from '../decide/ports.js';
import { readDomainXml, type ReadDomain } from '../domain/read.js';
import { fileSubject, planEdits, type EditPlan } from '../edit/plan.js';
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

/** XML, then the domain in it; errors carry the position. */
function readDomain(file: string, bytes: Uint8Array): ReadDomain | FailedFile {
  const read = readDomainXml(bytes);
  return read.ok ? read.value : { ok: false, file, error: { file, ...read.error, severity: 'error' } };
}

export function processFile(
  file: string,
  bytes: Uint8Array,
  conn: Connection,
  ports: DecisionPorts,
  opts: { pruneStale: boolean },
): FileOutcome {
  const first = readDomain(file, bytes);
  if ('ok' in first) return first;
  let { doc } = first;
  let decision = decideDomain(first.domain, conn, ports);
  let plan = planEdits(doc, decision, { pruneStale: false });
  let output: Uint8Array = bytes;
  if (opts.pruneStale) {
    // Removals first, then the insertions planned on the pruned document: an insertion goes right
    // where a removed seclabel stood, so planning both on one text would make them overlap.
    const removals = planEdits(doc, decision, { pruneStale: true, insert: false });
    if (removals.edits.length > 0) {
      const pruned = serialize(doc, applyEdits(doc.text, removals.edits));
      const again = readDomain(file, pruned);
      if ('ok' in again) throw new Error(`pruning produced invalid XML: ${again.error.message}`);
      doc = again.doc;
      decision = decideDomain(again.domain, conn, ports);
      const inserts = planEdits(doc, decision, { pruneStale: false });
      plan = { edits: inserts.edits, changes: [...removals.changes, ...inserts.changes] };
      output = pruned;
    }
  }
  if (plan.edits.length > 0) output = serialize(doc, applyEdits(doc.text, plan.edits));
  const changed = plan.changes.length > 0;
  const diagnostics: Diagnostic[] = [];
  for (const d of decision.disks) {
    const at = d.disk.source ?? d.disk.element;
    const name = `disk ${d.disk.target ?? `#${d.disk.index + 1}`}${d.disk.path ? ` (${d.disk.path})` : ''}`;
    for (const f of d.findings)
      if (f.severity !== 'info') diagnostics.push({ file, line: at.line, column: at.column, severity: f.severity, message: `${name}: ${f.message}` });
    for (const m of ['dac', 'selinux'] as const) {
      const md = d.models[m];
      if (isStale(md))
        diagnostics.push({ file, line: at.line, column: at.column, severity: 'warning', message: `${name}: ${m}: ${md.reason}` });
    }
  }
  for (const d of decision.files ?? []) {
    const at = d.file.source ?? d.file.element;
    const name = fileSubject(d.file);
    for (const f of d.findings)
      if (f.severity !== 'info') diagnostics.push({ file, line: at.line, column: at.column, severity: f.severity, message: `${name}: ${f.message}` });
    for (const m of ['dac', 'selinux'] as const) {
      const md = d.models[m];
      if (failsAtStart(md)) diagnostics.push({ file, line: at.line, column: at.column, severity: 'error', message: `${name}: ${m}: ${md.reason}` });
      else if (md.action === 'existing' && md.stale) diagnostics.push({ file, line: at.line, column: at.column, severity: 'warning', message: `${name}: ${m}: ${md.reason}` });
    }
  }
  for (const p of decision.domain.other?.argProblems ?? [])
    diagnostics.push({ file, line: p.element.line, column: p.element.column, severity: 'warning', message: `qemu:commandline: ${p.message}` });
  return { ok: true, file, doc, decision, plan, output, changed, diagnostics };
}
