/**
 * Turns decisions into text edits: one inserted `<seclabel model=… relabel='no'/>` per annotated model,
 * and, with --prune-stale, the removal of stale ones. The XML layer places them; this only chooses them.
 */
import type { DomainDecision } from '../decide/domain.js';
import { staleFileSeclabels, staleSeclabels } from '../decide/domain.js';
import { MODELS, type Model } from '../decide/types.js';
import { planElementRemoval, planSeclabelInsert, type Edit } from '../xml/splice.js';
import { detectStyle } from '../xml/style.js';
import type { XmlDocument } from '../xml/tree.js';
import type { OtherFile } from '../domain/files.js';

export interface PlannedChange {
  readonly kind: 'insert' | 'remove';
  readonly target: string | undefined;
  /** For a file beyond disks: its element and path (`os/nvram /var/lib/…`); undefined for a disk. */
  readonly subject?: string;
  /** For a file beyond disks: the element's place, as OtherFile.where says it. */
  readonly where?: string;
  readonly model: Model;
  readonly line: number;
  readonly column: number;
}

export interface EditPlan {
  readonly edits: readonly Edit[];
  readonly changes: readonly PlannedChange[];
}

/** How --check and the diff summary name a file beyond disks. */
export const fileSubject = (f: OtherFile): string => `${f.where}${f.path !== undefined ? ` (${f.path})` : ''}`;

export function planEdits(doc: XmlDocument, decision: DomainDecision, opts: { pruneStale: boolean; insert?: boolean }): EditPlan {
  const edits: Edit[] = [];
  const changes: PlannedChange[] = [];
  const style = detectStyle(doc);
  for (const d of opts.insert === false ? [] : decision.disks) {
    const models = MODELS.filter((m) => d.models[m].action === 'annotate');
    if (models.length === 0 || !d.disk.source) continue;
    edits.push(...planSeclabelInsert(doc, d.disk.source, models, style, d.disk.element));
    for (const model of models)
      changes.push({ kind: 'insert', target: d.disk.target, model, line: d.disk.source.line, column: d.disk.source.column });
  }
  // nvram and chardev sources: only where libvirt honours the seclabel, so only ModelDecisions annotate.
  for (const d of opts.insert === false ? [] : (decision.files ?? [])) {
    const models = MODELS.filter((m) => d.models[m].action === 'annotate');
    if (models.length === 0 || !d.file.source) continue;
    edits.push(...planSeclabelInsert(doc, d.file.source, models, style, d.file.element));
    for (const model of models)
      changes.push({ kind: 'insert', target: undefined, subject: fileSubject(d.file), where: d.file.where, model, line: d.file.source.line, column: d.file.source.column });
  }
  if (opts.pruneStale) {
    for (const s of staleSeclabels(decision)) {
      edits.push(...planElementRemoval(doc, s.element));
      changes.push({ kind: 'remove', target: s.disk.target, model: s.model, line: s.element.line, column: s.element.column });
    }
    for (const s of staleFileSeclabels(decision)) {
      edits.push(...planElementRemoval(doc, s.element));
      changes.push({ kind: 'remove', target: undefined, subject: fileSubject(s.file), where: s.file.where, model: s.model, line: s.element.line, column: s.element.column });
    }
  }
  return { edits, changes };
}
