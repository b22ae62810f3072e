/**
 * `virt-seclabel --domain NAME… | --all-domains [--check | --diff | --apply] [--prune-stale]`: annotate
 * the definitions libvirt holds. The same decisions and renderings as for files, naming
 * `domain NAME` where a file name would be; --apply shows each domain's plan, then what it did.
 */
import { applyDefinedDomain, decideDefinedDomains, definitionDigest, domainLabel } from '../app/domains.js';
import { domainsPlanJson, type PlanEntry } from '../report/domains.js';
import type { HostContext } from '../app/host-context.js';
import { EXIT, type CliIo, type ExitCode } from '../app/command-io.js';
import type { LibvirtClient } from '../libvirt/client.js';
import { formatDiagnostic } from '../report/diagnostic.js';
import { unifiedDiff } from '../report/unified-diff.js';
import { checkDiagnostics } from '../report/check.js';

export type DomainsMode = 'check' | 'diff' | 'apply';

export interface DomainsOptions {
  /** undefined: every domain libvirt lists. */
  readonly names: readonly string[] | undefined;
  readonly mode: DomainsMode;
  readonly pruneStale: boolean;
  /** schemas/domains.schema.json's "plan" document on stdout instead of text (stderr says the same errors). */
  readonly json?: boolean;
  /** --apply: refuse unless the definition read has this digest (app/domains.ts definitionDigest). */
  readonly expectDigest?: string;
  /** The connection, named in the JSON document. */
  readonly uri?: string;
}

const decoder = new TextDecoder();

function describeChange(c: { kind: 'insert' | 'remove'; target: string | undefined; subject?: string; model: string }): string {
  const el = `<seclabel model='${c.model}' relabel='no'/>`;
  const what = c.subject ?? `disk ${c.target ?? '?'}`;
  return c.kind === 'insert' ? `add ${el} to ${what}` : `remove the stale ${el} from ${what}`;
}

export async function runDomains(opts: DomainsOptions, client: LibvirtClient, ctx: HostContext, io: CliIo): Promise<ExitCode> {
  const outcomes = decideDefinedDomains(opts.names, client, ctx, { pruneStale: opts.pruneStale });
  if (!outcomes.ok) {
    io.stderr.write(`virt-seclabel: ${outcomes.error}\n`);
    return EXIT.error;
  }
  let failed = false;
  let found = false;
  const json = opts.json === true;
  const entries: PlanEntry[] = [];
  const say = (name: string, text: string) => io.stderr.write(`${domainLabel(name)}: ${text}\n`);
  const stdout = (text: string) => {
    if (!json) io.stdout.write(text);
  };
  for (const o of outcomes.value) {
    const name = o.name;
    if (o.kind === 'skipped') {
      say(name, `note: ${o.why}; skipped`);
      entries.push(o);
      continue;
    }
    if (o.kind === 'failed') {
      say(name, `error: ${o.why}`);
      entries.push(o);
      failed = true;
      continue;
    }
    const digest = definitionDigest(o.before);
    const first = o.outcome.documents[0];
    const entry: { -readonly [K in keyof Extract<PlanEntry, { kind: 'decided' }>]: Extract<PlanEntry, { kind: 'decided' }>[K] } = {
      name,
      kind: 'decided',
      running: o.running,
      digest,
      changes: first?.ok ? first.plan.changes : [],
      diff: o.outcome.output ? unifiedDiff(`a/domain/${name}`, `b/domain/${name}`, decoder.decode(o.before), decoder.decode(o.outcome.output)) : '',
      errors: o.outcome.documents.flatMap((d) => (d.ok ? [] : [formatDiagnostic(d.error)])),
    };
    entries.push(entry);
    for (const doc of o.outcome.documents) {
      if (!doc.ok) {
        io.stderr.write(formatDiagnostic(doc.error) + '\n');
        failed = true;
        continue;
      }
      for (const d of doc.diagnostics) io.stderr.write(formatDiagnostic(d) + '\n');
      if (opts.mode === 'check') for (const d of checkDiagnostics(doc)) io.stderr.write(formatDiagnostic(d) + '\n');
    }
    if (o.found) found = true;
    if (!o.outcome.output) continue;
    if (opts.mode === 'diff') {
      stdout(entry.diff);
      continue;
    }
    if (opts.mode !== 'apply') continue;
    if (opts.expectDigest !== undefined && digest !== opts.expectDigest) {
      const why = `its definition changed since the plan was shown (digest ${opts.expectDigest.slice(0, 12)}…, now ${digest.slice(0, 12)}…); nothing defined`;
      say(name, `error: ${why}`);
      entry.result = { outcome: 'refused', why };
      failed = true;
      continue;
    }
    if (!o.outcome.changed) {
      entry.result = { outcome: 'unchanged' };
      continue;
    }
    for (const c of entry.changes) stdout(`${domainLabel(name)}: plan: ${describeChange(c)}\n`);
    const r = applyDefinedDomain(o, client);
    if (r.kind === 'refused' || r.kind === 'failed') {
      say(name, `error: ${r.why}`);
      entry.result = { outcome: r.kind, why: r.why };
      failed = true;
      continue;
    }
    if (r.kind === 'unchanged') {
      entry.result = { outcome: 'unchanged' };
      continue;
    }
    const when = o.running ? ' (it is running: the new definition takes effect at its next start)' : '';
    if (r.lost.length > 0) {
      const why = `defined, but libvirt did not keep: ${r.lost.map(describeChange).join('; ')}`;
      say(name, `error: ${why}`);
      entry.result = { outcome: 'failed', why, lost: r.lost };
      failed = true;
      continue;
    }
    const said = `defined with ${r.changes.length} change(s), read back and all kept${when}`;
    entry.result = { outcome: 'defined', why: said };
    stdout(`${domainLabel(name)}: ${said}\n`);
  }
  if (json) io.stdout.write(JSON.stringify(domainsPlanJson(opts.uri ?? '', opts.mode, entries, describeChange), null, 2) + '\n');
  if (failed) return EXIT.error;
  return opts.mode === 'check' && found ? EXIT.found : EXIT.ok;
}
