/**
 * Runs the CLI commands in-process against an in-memory host, with captured streams, so the tests
 * check exit codes, stdout and stderr exactly as a user sees them.
 */
import { readFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { createHostContext } from '../../src/app/host-context.js';
import type { HostOptions } from '../../src/app/host-options.js';
import { runAnnotate, type AnnotateOptions } from '../../src/commands/annotate.js';
import { runExplain } from '../../src/commands/explain.js';
import type { CliIo } from '../../src/app/command-io.js';
import { ok, type HostView } from '../../src/host/view.js';

export const DEBIAN_POLICY = '/etc/selinux/default/policy/policy.33';

export const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nlibvirt-qemu:x:64055:107:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/bash\n';
export const GROUP = 'root:x:0:\nkvm:x:107:\nlibvirt-qemu:x:64055:libvirt-qemu\nalice:x:1000:\n';

/** A view whose policy file comes from the real disk (the tree stays in memory). */
export function withRealPolicy(view: HostView, path = DEBIAN_POLICY): HostView {
  return { ...view, readBinary: (p) => (p === path ? ok(new Uint8Array(readFileSync(p))) : view.readBinary(p)) };
}

/** Streams for a command run in-process; read them after `settle()` (PassThrough delivers on the next tick). */
export function captureIo(stdin: string | Uint8Array = '') {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const io: CliIo = { stdin: Readable.from([Buffer.from(stdin)]), stdout, stderr };
  return {
    io,
    settle: () => new Promise((r) => setImmediate(r)),
    stdoutBytes: () => new Uint8Array(Buffer.concat(out)),
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
  };
}

export const hostOptions = (over: Partial<HostOptions> = {}): HostOptions => ({
  connect: 'system',
  qemuConf: '/etc/libvirt/qemu.conf',
  booleans: {},
  ...over,
});

export async function annotate(view: HostView, files: string[], opts: Partial<AnnotateOptions> = {}, host: Partial<HostOptions> = {}, stdin = '') {
  const c = captureIo(stdin);
  const ctx = createHostContext(view, hostOptions(host));
  if (!ctx.ok) throw new Error(ctx.error);
  const code = await runAnnotate(files, { inPlace: false, check: false, diff: false, pruneStale: false, ...opts }, ctx.value, c.io);
  await c.settle();
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

export async function explain(view: HostView, files: string[], host: Partial<HostOptions> = {}, stdin = '') {
  const c = captureIo(stdin);
  const ctx = createHostContext(view, hostOptions(host));
  if (!ctx.ok) throw new Error(ctx.error);
  const code = await runExplain(files, { json: true }, ctx.value, c.io);
  await c.settle();
  return { code, report: c.stdout() ? JSON.parse(c.stdout()) : undefined, stderr: c.stderr() };
}
