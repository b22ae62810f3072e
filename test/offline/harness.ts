/**
 * Live versus offline, in-process: run explain and annotate --check against a host view, record the
 * same run into a facts snapshot (recordHost, as `facts` does), serialize and parse it back, then run
 * the same commands against the snapshot alone. The tests compare the two outputs byte for byte.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHostContext, processInvoker, type HostContext } from '../../src/app/host-context.js';
import type { HostOptions } from '../../src/app/host-options.js';
import { openSnapshot, recordHost } from '../../src/app/open-view.js';
import { runAnnotate } from '../../src/commands/annotate.js';
import { runExplain } from '../../src/commands/explain.js';
import { parseFacts } from '../../src/adapters/snapshot/parse.js';
import { serializeFacts } from '../../src/adapters/snapshot/serialize.js';
import type { FactsFile } from '../../src/adapters/snapshot/format.js';
import type { HostView } from '../../src/host/view.js';
import { captureIo } from '../cli/harness.js';

export interface RunOutput {
  readonly explain: string;
  readonly check: string;
  readonly checkCode: number;
  readonly stderr: string;
}

let scratch: string | undefined;
let batches = 0;

/** Domain files, in one scratch directory per test file: call `afterAll(removeScratch)` there. */
export function writeDomains(domains: Record<string, string>): string[] {
  scratch ??= mkdtempSync(join(tmpdir(), 'offline-domains-'));
  const dir = join(scratch, String(batches++));
  mkdirSync(dir);
  return Object.entries(domains).map(([name, xml]) => {
    const f = join(dir, name);
    writeFileSync(f, xml);
    return f;
  });
}

export function removeScratch(): void {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

export async function runCommands(ctx: HostContext, files: readonly string[]): Promise<RunOutput> {
  const e = captureIo();
  await runExplain(files, { json: true }, ctx, e.io);
  const c = captureIo();
  const checkCode = await runAnnotate(files, { inPlace: false, check: true, diff: false, pruneStale: false }, ctx, c.io);
  return { explain: e.stdout(), check: c.stderr(), checkCode, stderr: e.stderr() };
}

export async function live(view: HostView, opts: HostOptions, files: readonly string[]): Promise<RunOutput> {
  const ctx = createHostContext(view, opts, { invoker: processInvoker() });
  if (!ctx.ok) throw new Error(ctx.error);
  return runCommands(ctx.value, files);
}

/** Records the commands' run over `view` and returns the facts file as it would be written and read. */
export async function record(view: HostView, opts: HostOptions, files: readonly string[]): Promise<{ facts: FactsFile; text: string }> {
  const rec = recordHost(opts, view);
  const ctx = createHostContext(rec.host.view, opts, rec.host.env);
  if (!ctx.ok) throw new Error(ctx.error);
  await runCommands(ctx.value, files);
  const text = serializeFacts(rec.facts({ domains: [...files], paths: [] }, 'test'));
  const parsed = parseFacts(text);
  if (!parsed.ok) throw new Error(`the recorded snapshot does not parse back: ${parsed.error}`);
  return { facts: parsed.value, text };
}

export async function offline(facts: FactsFile, files: readonly string[], cli: Partial<HostOptions> = {}): Promise<RunOutput & { warnings: string[] }> {
  const host = openSnapshot(facts, { connect: 'system', qemuConf: '/etc/libvirt/qemu.conf', booleans: {}, facts: 'host.json', ...cli });
  if (!host.ok) throw new Error(host.error);
  const ctx = createHostContext(host.value.view, host.value.opts, host.value.env);
  if (!ctx.ok) throw new Error(ctx.error);
  const out = await runCommands(ctx.value, files);
  return { ...out, warnings: host.value.takeWarnings() };
}
