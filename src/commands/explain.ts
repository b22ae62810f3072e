/** `virt-seclabel explain [FILE...] [--json]`: every disk and model with its decision and reason. */
import type { HostContext } from '../app/host-context.js';
import type { HostOptions } from '../app/host-options.js';
import { runPerHost } from '../app/run-per-host.js';
import { formatDiagnostic } from '../report/diagnostic.js';
import { reportJson } from '../report/json.js';
import { renderText } from '../report/text.js';
import { decideDocuments } from '../app/decide-inputs.js';
import { EXIT, type CliIo, type ExitCode } from '../app/command-io.js';
import { readInputs } from '../adapters/inputs.js';
import { decideDefinedDomains, definitionDigest, domainLabel } from '../app/domains.js';
import type { LibvirtClient } from '../libvirt/client.js';
import { domainsExplainJson, type DomainEntry } from '../report/domains.js';

export type ColorChoice = 'auto' | 'always' | 'never';

export interface ExplainOptions {
  readonly json: boolean;
  readonly color?: ColorChoice;
  /** The environment NO_COLOR is read from (injected so tests need not touch process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A terminal: wrap to its width and colour by default. A pipe or file: one record per line, no colour. */
export function terminalStyle(stdout: CliIo['stdout'], color: ColorChoice, env: Readonly<Record<string, string | undefined>>) {
  const tty = stdout as { isTTY?: boolean; columns?: number };
  const isTty = tty.isTTY === true;
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return {
    width: isTty && typeof tty.columns === 'number' && tty.columns > 0 ? tty.columns : undefined,
    color: color === 'always' || (color === 'auto' && isTty && !noColor),
  };
}

/** explain over the host(s) the files belong to (live, --facts, or .virt-seclabel.json's snapshots). */
export function runExplainRequest(files: readonly string[], opts: ExplainOptions & { readonly useConfig: boolean }, host: HostOptions, io: CliIo): Promise<ExitCode> {
  return runPerHost(files, host, (names, ctx) => runExplain(names, opts, ctx, io), io, { useConfig: opts.useConfig, cwd: process.cwd() });
}

export async function runExplain(files: readonly string[], opts: ExplainOptions, ctx: HostContext, io: CliIo): Promise<ExitCode> {
  const inputs = await readInputs(files, io.stdin);
  // A stream of documents in one input is one table (and one JSON entry) per document.
  const outcomes = decideDocuments(inputs, ctx);
  for (const o of outcomes) if (!o.ok) io.stderr.write(formatDiagnostic(o.error) + '\n');
  io.stdout.write(opts.json ? JSON.stringify(reportJson(ctx.conn, outcomes), null, 2) + '\n' : renderText(outcomes, { apparmor: ctx.conn.apparmor.active, ...terminalStyle(io.stdout, opts.color ?? 'auto', opts.env ?? process.env) }));
  return outcomes.every((o) => o.ok) ? EXIT.ok : EXIT.error;
}

/**
 * `explain --domain NAME… | --all-domains [--json]`: the definitions libvirt holds on `uri`, decided as
 * files are; JSON is schemas/domains.schema.json's "explain" document (statuses in words, digests).
 */
export async function runExplainDomainsRequest(names: readonly string[] | undefined, opts: ExplainOptions, host: HostOptions, uri: string, io: CliIo): Promise<ExitCode> {
  const { virshClient } = await import('../adapters/libvirt/virsh-client.js');
  return runPerHost([], host, (_files, ctx) => runExplainDomains(names, opts, virshClient(uri), ctx, uri, io), io, { useConfig: false, cwd: process.cwd() });
}

export async function runExplainDomains(names: readonly string[] | undefined, opts: ExplainOptions, client: LibvirtClient, ctx: HostContext, uri: string, io: CliIo): Promise<ExitCode> {
  const decided = decideDefinedDomains(names, client, ctx, { pruneStale: false });
  if (!decided.ok) {
    io.stderr.write(`virt-seclabel: ${decided.error}\n`);
    return EXIT.error;
  }
  const entries: DomainEntry[] = [];
  for (const o of decided.value) {
    if (o.kind !== 'decided') entries.push(o);
    else entries.push({ name: o.name, kind: 'decided', running: o.running, digest: definitionDigest(o.before), documents: o.outcome.documents, changes: o.outcome.documents.reduce((n, d) => n + (d.ok ? d.plan.changes.length : 0), 0) });
  }
  let failed = false;
  for (const e of entries) {
    if (e.kind === 'decided') {
      for (const d of e.documents) {
        if (d.ok) continue;
        failed = true;
        io.stderr.write(formatDiagnostic(d.error) + '\n');
      }
    } else {
      if (e.kind === 'failed') failed = true;
      io.stderr.write(`${domainLabel(e.name)}: ${e.kind === 'failed' ? 'error' : 'note'}: ${e.why}${e.kind === 'skipped' ? '; skipped' : ''}\n`);
    }
  }
  if (opts.json) io.stdout.write(JSON.stringify(domainsExplainJson(uri, ctx.conn, entries), null, 2) + '\n');
  else {
    const docs = entries.flatMap((e) => (e.kind === 'decided' ? e.documents : []));
    io.stdout.write(renderText(docs, { apparmor: ctx.conn.apparmor.active, ...terminalStyle(io.stdout, opts.color ?? 'auto', opts.env ?? process.env) }));
  }
  return failed ? EXIT.error : EXIT.ok;
}
