/**
 * The JSON documents of the domains mode, for programs (the Cockpit page) that decide nothing:
 * `explain --domain/--all-domains --json` (schemas/domains.schema.json, "explain"): every domain with
 * each file's status per model in words (status.ts), the summary line `explain` prints, the digest of
 * the definition it was decided on, and explain's own per-file report; and `--domain/--all-domains
 * --json` with --diff or --apply ("plan"): each domain's changes and diff, and what --apply did.
 */
import type { FileOutcome } from '../app/process-file.js';
import type { Connection } from '../decide/connection.js';
import { MODELS, type FileModelDecision, type ModelDecision } from '../decide/types.js';
import { apparmorJson, connectionJson, fileJson } from './json.js';
import { apparmorStatus, fileStatus, statusWords } from './status.js';
import type { AppArmorDecision } from '../decide/apparmor.js';
import { summarize, summarizeFiles } from './summary.js';
import type { PlannedChange } from '../edit/plan.js';

export const DOMAINS_JSON_VERSION = 1;

/** What the report needs of a domain the mode read (app/domains.ts DomainOutcome, with the digest). */
export type DomainEntry =
  | { readonly name: string; readonly kind: 'skipped' | 'failed'; readonly why: string }
  | { readonly name: string; readonly kind: 'decided'; readonly running: boolean; readonly digest: string; readonly documents: readonly FileOutcome[]; readonly changes: number };

function modelStatus(md: ModelDecision | FileModelDecision) {
  const status = fileStatus(md);
  return { status, words: statusWords(md), action: md.action, accessible: md.accessible, reason: md.reason };
}

/** The apparmor row, present only where the host's AppArmor driver is active (the decision then has one). */
function apparmorRow(d: AppArmorDecision | undefined) {
  return d && { apparmor: { ...apparmorStatus(d), ...apparmorJson(d) } };
}

const models = (m: Readonly<Record<string, ModelDecision | FileModelDecision>>, apparmor: AppArmorDecision | undefined) => ({
  ...Object.fromEntries(MODELS.map((k) => [k, modelStatus(m[k]!)])),
  ...apparmorRow(apparmor),
});

/** Every file of one decided document, disks first, each with its status per model. */
function filesOf(o: Extract<FileOutcome, { ok: true }>) {
  const disks = o.decision.disks.map((d) => ({
    kind: 'disk' as const,
    element: `disk ${d.disk.target ?? `#${d.disk.index + 1}`}`,
    path: d.disk.path ?? null,
    access: d.access,
    models: models(d.models, d.apparmor),
  }));
  const others = (o.decision.files ?? []).map((f) => ({ kind: f.file.kind, element: f.file.where, path: f.file.path ?? null, access: f.file.access, libvirt: f.libvirt, models: models(f.models, f.apparmor) }));
  return [...disks, ...others];
}

function summaryOf(o: Extract<FileOutcome, { ok: true }>): string {
  const files = o.decision.files ?? [];
  return `${summarize(o.decision.disks)}${files.length > 0 ? `; ${summarizeFiles(files)}` : ''}`;
}

export function domainExplainJson(e: DomainEntry, apparmor: boolean) {
  if (e.kind !== 'decided') return { name: e.name, state: e.kind, why: e.why };
  const doc = e.documents[0];
  const error = e.documents.find((d) => !d.ok);
  if (!doc || error || !doc.ok) return { name: e.name, state: 'failed' as const, why: error && !error.ok ? `${error.error.line}:${error.error.column}: ${error.error.message}` : 'no domain in its definition' };
  return {
    name: e.name,
    state: 'decided' as const,
    running: e.running,
    digest: e.digest,
    summary: summaryOf(doc),
    changes: e.changes,
    files: filesOf(doc),
    report: fileJson(doc, apparmor),
  };
}

export function domainsExplainJson(uri: string, conn: Connection, entries: readonly DomainEntry[]) {
  return { formatVersion: DOMAINS_JSON_VERSION, kind: 'explain' as const, uri, connection: connectionJson(conn), domains: entries.map((e) => domainExplainJson(e, conn.apparmor.active)) };
}

/** One domain of the plan document: decided with its changes and diff (and, after --apply, what was done). */
export type PlanEntry =
  | { readonly name: string; readonly kind: 'skipped' | 'failed'; readonly why: string }
  | {
      readonly name: string;
      readonly kind: 'decided';
      readonly running: boolean;
      readonly digest: string;
      readonly changes: readonly PlannedChange[];
      readonly diff: string;
      readonly errors: readonly string[];
      readonly result?: { readonly outcome: 'defined' | 'unchanged' | 'refused' | 'failed'; readonly why?: string; readonly lost?: readonly PlannedChange[] };
    };

export function domainsPlanJson(uri: string, mode: string, entries: readonly PlanEntry[], describe: (c: PlannedChange) => string) {
  const change = (c: PlannedChange) => ({ kind: c.kind, model: c.model, element: c.subject ?? `disk ${c.target ?? '?'}`, words: describe(c), line: c.line, column: c.column });
  return {
    formatVersion: DOMAINS_JSON_VERSION,
    kind: 'plan' as const,
    uri,
    mode,
    domains: entries.map((e) =>
      e.kind !== 'decided'
        ? { name: e.name, state: e.kind, why: e.why }
        : {
            name: e.name,
            state: e.errors.length > 0 ? ('failed' as const) : ('decided' as const),
            ...(e.errors.length > 0 && { why: e.errors.join('\n') }),
            running: e.running,
            digest: e.digest,
            changes: e.changes.map(change),
            diff: e.diff,
            ...(e.result && { result: { outcome: e.result.outcome, ...(e.result.why !== undefined && { why: e.result.why }), ...(e.result.lost && { lost: e.result.lost.map(change) }) } }),
          },
    ),
  };
}
