/**
 * `virt-seclabel --domain NAME… | --all-domains [--check | --diff | --apply] [--prune-stale]`: annotate
 * the definitions libvirt holds. The same decisions and renderings as for files, naming
 * `domain NAME` where a file name would be; --apply shows each domain's plan, then what it did.
 */
import { applyDefinedDomain, decideDefinedDomains, domainLabel } from '../app/domains.js';
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
}

const decoder = new TextDecoder();

function describeChange(c: { kind: 'insert' | 'remove'; target: string | undefined; model: string }): string {
  const el = `<seclabel model='${c.model}' relabel='no'/>`;
  return c.kind === 'insert' ? `add ${el} to disk ${c.target ?? '?'}` : `remove the stale ${el} from disk ${c.target ?? '?'}`;
}

export async function runDomains(opts: DomainsOptions, client: LibvirtClient, ctx: HostContext, io: CliIo): Promise<ExitCode> {
  const outcomes = decideDefinedDomains(opts.names, client, ctx, { pruneStale: opts.pruneStale });
  if (!outcomes.ok) {
    io.stderr.write(`virt-seclabel: ${outcomes.error}\n`);
    return EXIT.error;
  }
  let failed = false;
  let found = false;
  const say = (name: string, text: string) => io.stderr.write(`${domainLabel(name)}: ${text}\n`);
  for (const o of outcomes.value) {
    const name = o.name;
    if (o.kind === 'skipped') {
      say(name, `note: ${o.why}; skipped`);
      continue;
    }
    if (o.kind === 'failed') {
      say(name, `error: ${o.why}`);
      failed = true;
      continue;
    }
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
      io.stdout.write(unifiedDiff(`a/domain/${name}`, `b/domain/${name}`, decoder.decode(o.before), decoder.decode(o.outcome.output)));
      continue;
    }
    if (opts.mode !== 'apply' || !o.outcome.changed) continue;
    const doc = o.outcome.documents[0];
    const changes = doc?.ok ? doc.plan.changes : [];
    for (const c of changes) io.stdout.write(`${domainLabel(name)}: plan: ${describeChange(c)}\n`);
    const r = applyDefinedDomain(o, client);
    if (r.kind === 'refused' || r.kind === 'failed') {
      say(name, `error: ${r.why}`);
      failed = true;
      continue;
    }
    if (r.kind === 'unchanged') continue;
    const when = o.running ? ' (it is running: the new definition takes effect at its next start)' : '';
    if (r.lost.length > 0) {
      say(name, `error: defined, but libvirt did not keep: ${r.lost.map(describeChange).join('; ')}`);
      failed = true;
      continue;
    }
    io.stdout.write(`${domainLabel(name)}: defined with ${r.changes.length} change(s), read back and all kept${when}\n`);
  }
  if (failed) return EXIT.error;
  return opts.mode === 'check' && found ? EXIT.found : EXIT.ok;
}
