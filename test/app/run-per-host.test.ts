/**
 * Which host decides each file: --facts, else the snapshot .virt-seclabel.json maps it to (unmapped files
 * skipped with a note), else the live host; host options that contradict a snapshot are refused.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostOptions } from '../../src/app/host-options.js';
import { runPerHost } from '../../src/app/run-per-host.js';
import { serializeFacts } from '../../src/adapters/snapshot/serialize.js';
import { FACTS_FORMAT_VERSION, type FactsFile } from '../../src/adapters/snapshot/format.js';
import { captureIo } from '../cli/harness.js';

const opts = (over: Partial<HostOptions> = {}): HostOptions => ({ connect: 'system', qemuConf: '/etc/libvirt/qemu.conf', booleans: {}, ...over });

const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

function repo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vs-perhost-'));
  made.push(dir);
  mkdirSync(join(dir, 'vms/prod'), { recursive: true });
  mkdirSync(join(dir, 'facts'));
  const facts: FactsFile = {
    formatVersion: FACTS_FORMAT_VERSION,
    host: 'hv1',
    collectedAt: new Date(0).toISOString(),
    generator: 'test',
    hostOptions: { connect: 'session' as const, qemuConf: '/etc/libvirt/qemu.conf', booleans: {} },
    invoker: { uid: 1000, gid: 1000 },
    covers: { domains: [], paths: [] },
    view: ['/etc/libvirt/qemu.conf', '/sys/fs/selinux/enforce'].map((path) => ({ op: 'readText' as const, path, answer: { kind: 'missing' as const, errno: 'ENOENT' as const } })),
    selinux: null,
  };
  writeFileSync(join(dir, 'facts/prod.json'), serializeFacts(facts));
  writeFileSync(join(dir, '.virt-seclabel.json'), JSON.stringify({ facts: [{ files: 'vms/prod/*.xml', snapshot: 'facts/prod.json' }, { files: 'vms/gone/*.xml', snapshot: 'facts/gone.json' }] }));
  return dir;
}

describe('runPerHost', () => {
  it('groups files by their mapped snapshot, decides under its options, skips unmapped files with a note', async () => {
    const dir = repo();
    const seen: { files: readonly string[]; mode: string; user: string }[] = [];
    const c = captureIo();
    const code = await runPerHost(['vms/prod/a.xml', 'vms/lab/b.xml', 'vms/prod/c.xml'], opts(), async (files, ctx) => {
      seen.push({ files, mode: ctx.conn.mode, user: ctx.conn.user });
      return 0;
    }, c.io, { useConfig: true, cwd: dir });
    expect(code).toBe(0);
    // The snapshot was taken for qemu:///session by uid 1000: its options and invoker decide, not this process's.
    expect(seen).toEqual([{ files: ['vms/prod/a.xml', 'vms/prod/c.xml'], mode: 'session', user: '+1000' }]);
    expect(c.stderr()).toBe(`vms/lab/b.xml: note: no entry of ${join(dir, '.virt-seclabel.json')} maps this file to a facts snapshot; not checked (use --facts FILE, or --no-config for this host)\n`);
  });

  it('the filter still writes an unmapped document, unchanged, so a pipe into virsh define gets it', async () => {
    const dir = repo();
    const xml = "<domain type='kvm'>\n  <name>lab</name>\n  <devices>\n    <disk type='file' device='cdrom'>\n      <source file='/srv/a.iso'/>\n      <readonly/>\n    </disk>\n  </devices>\n</domain>\n";
    mkdirSync(join(dir, 'vms/lab'), { recursive: true });
    writeFileSync(join(dir, 'vms/lab/b.xml'), xml);
    writeFileSync(join(dir, 'vms/lab/bad.xml'), '<domain>');
    const { passThrough } = await import('../../src/commands/annotate.js');
    const ok = captureIo(xml);
    expect(await runPerHost([], opts(), async () => 0, ok.io, { useConfig: true, cwd: dir, unmapped: (f) => passThrough(f, ok.io) })).toBe(0);
    await ok.settle();
    expect(ok.stdout()).toBe(xml);
    const bad = captureIo();
    expect(await runPerHost([join(dir, 'vms/lab/bad.xml')], opts(), async () => 0, bad.io, { useConfig: true, cwd: dir, unmapped: (f) => passThrough(f, bad.io) })).toBe(2);
    await bad.settle();
    expect(bad.stdout()).toBe('');
    expect(bad.stderr()).toMatch(/bad\.xml:1:1: error: /);
  });

  it('refuses host options the snapshots cannot honour; --no-config decides live', async () => {
    const dir = repo();
    const c = captureIo();
    expect(await runPerHost(['vms/prod/a.xml'], opts({ user: 'qemu' }), async () => 0, c.io, { useConfig: true, cwd: dir })).toBe(2);
    expect(c.stderr()).toMatch(/--user cannot be used with the snapshots of .*--no-config/);
    let live = false;
    await runPerHost(['vms/prod/a.xml'], opts({ connect: 'session' }), async (_f, ctx) => ((live = ctx.conn.mode === 'session'), 0), captureIo().io, { useConfig: false, cwd: dir });
    expect(live).toBe(true);
  });

  it('names the config when a mapped snapshot is missing', async () => {
    const dir = repo();
    const c = captureIo();
    expect(await runPerHost(['vms/gone/x.xml'], opts(), async () => 0, c.io, { useConfig: true, cwd: dir })).toBe(2);
    expect(c.stderr()).toContain(`${join(dir, '.virt-seclabel.json')} maps vms/gone/x.xml to this snapshot: --facts ${join(dir, 'facts/gone.json')}: cannot read: no such file`);
  });
});
