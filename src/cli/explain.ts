/** `virt-seclabel explain [FILE...] [--json]`: every disk and model with its decision and reason. */
import type { HostContext } from '../app/host-context.js';
import { formatDiagnostic } from '../report/diagnostic.js';
import { reportJson } from '../report/json.js';
import { renderText } from '../report/text.js';
import { outcomeFor } from './annotate.js';
import { EXIT, type CliIo, type ExitCode } from '../app/command-io.js';
import { readInputs } from './inputs.js';

export async function runExplain(files: readonly string[], opts: { json: boolean }, ctx: HostContext, io: CliIo): Promise<ExitCode> {
  const inputs = await readInputs(files, io);
  // A stream of documents in one input is one table (and one JSON entry) per document.
  const outcomes = inputs.flatMap((i) => outcomeFor(i, ctx, false).documents);
  for (const o of outcomes) if (!o.ok) io.stderr.write(formatDiagnostic(o.error) + '\n');
  io.stdout.write(opts.json ? JSON.stringify(reportJson(ctx.conn, outcomes), null, 2) + '\n' : renderText(outcomes, ctx.conn.apparmor.active));
  return outcomes.every((o) => o.ok) ? EXIT.ok : EXIT.error;
}
