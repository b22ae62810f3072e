/** runAnnotate in-process with byte-exact captured streams (the harness's capture decodes stdout). */
import { PassThrough, Readable } from 'node:stream';
import type { HostContext } from '../../../src/app/host-context.js';
import { runAnnotate, type AnnotateOptions } from '../../../src/cli/annotate.js';
import { runExplain } from '../../../src/cli/explain.js';
import type { RunResult } from './contract.js';

export async function annotateBytes(
  ctx: HostContext,
  stdin: Uint8Array,
  files: string[] = [],
  opts: Partial<AnnotateOptions> = {},
): Promise<RunResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await runAnnotate(
    files,
    { inPlace: false, check: false, diff: false, pruneStale: false, ...opts },
    ctx,
    { stdin: Readable.from([Buffer.from(stdin)]), stdout, stderr },
  );
  // PassThrough delivers synchronously written chunks on the next tick.
  await new Promise((r) => setImmediate(r));
  return { code, stdout: new Uint8Array(Buffer.concat(out)), stderr: Buffer.concat(err).toString('utf8') };
}

/** explain --json in-process, same capture. */
export async function explainBytes(ctx: HostContext, stdin: Uint8Array): Promise<RunResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await runExplain([], { json: true }, ctx, { stdin: Readable.from([Buffer.from(stdin)]), stdout, stderr });
  await new Promise((r) => setImmediate(r));
  return { code, stdout: new Uint8Array(Buffer.concat(out)), stderr: Buffer.concat(err).toString('utf8') };
}
