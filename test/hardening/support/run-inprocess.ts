/** runAnnotate and explain in-process with byte-exact captured streams. */
import type { HostContext } from '../../../src/app/host-context.js';
import { runAnnotate, type AnnotateOptions } from '../../../src/commands/annotate.js';
import { runExplain } from '../../../src/commands/explain.js';
import { captureIo } from '../../cli/harness.js';
import type { RunResult } from './contract.js';

export async function annotateBytes(
  ctx: HostContext,
  stdin: Uint8Array,
  files: string[] = [],
  opts: Partial<AnnotateOptions> = {},
): Promise<RunResult> {
  const c = captureIo(stdin);
  const code = await runAnnotate(files, { inPlace: false, check: false, diff: false, pruneStale: false, ...opts }, ctx, c.io);
  await c.settle();
  return { code, stdout: c.stdoutBytes(), stderr: c.stderr() };
}

/** explain --json in-process, same capture. */
export async function explainBytes(ctx: HostContext, stdin: Uint8Array): Promise<RunResult> {
  const c = captureIo(stdin);
  const code = await runExplain([], { json: true }, ctx, c.io);
  await c.settle();
  return { code, stdout: c.stdoutBytes(), stderr: c.stderr() };
}
