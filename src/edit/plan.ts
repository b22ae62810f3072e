/**
 * Turns decisions into text edits: one inserted `<seclabel model=… relabel='no'/>` per annotated model,
 * and, with --prune-stale, the removal of stale ones. The XML layer places them; this only chooses them.
 */
import type { DomainDecision } from '../decide/domain.js';
import { staleSeclabels } from '../decide/domain.js';
import { MODELS, type Model } from '../decide/types.js';
import { planElementRemoval, planSeclabelInsert, type Edit } from '../xml/splice.js';
import { detectStyle } from '../xml/style.js';
import type { XmlDocument } from '../xml/tree.js';

export interface PlannedChange {
  readonly kind: 'insert' | 'remove';
  readonly target: string | undefined;
  readonly model: Model;
  readonly line: number;
  readonly column: number;
}

export interface EditPlan {
  readonly edits: readonly Edit[];
  readonly changes: readonly PlannedChange[];
}

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
  if (opts.pruneStale)
    for (const s of staleSeclabels(decision)) {
      edits.push(...planElementRemoval(doc, s.element));
      changes.push({ kind: 'remove', target: s.disk.target, model: s.model, line: s.element.line, column: s.element.column });
    }
  return { edits, changes };
}
