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
