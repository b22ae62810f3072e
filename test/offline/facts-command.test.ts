/**
 * The `facts` command itself, in-process over an in-memory host: what it writes parses, names host paths
 * absolutely, and a `--path` snapshot answers for domains written after it was taken.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostOptions } from '../../src/app/host-options.js';
import { runFacts } from '../../src/commands/facts.js';
import { parseFacts } from '../../src/adapters/snapshot/parse.js';
import { memoryView } from '../support/memory-view.js';
import { missingRequirements } from '../support/requirements.js';
import { captureIo, DEBIAN_POLICY, GROUP, PASSWD, withRealPolicy } from '../cli/harness.js';
import { live, offline, removeScratch, writeDomains } from './harness.js';

afterAll(removeScratch);

const L = (t: string) => `system_u:object_r:${t}:s0`;
const view = withRealPolicy(
  memoryView(
    {
      '/': { type: 'dir', mode: 0o755, label: L('root_t') },
      '/srv': { type: 'dir', mode: 0o755, label: L('var_t') },
      '/srv/iso': { type: 'dir', mode: 0o755, label: L('public_content_t') },
      '/srv/iso/a.iso': { type: 'file', mode: 0o644, label: L('public_content_t') },
      '/srv/iso/b.iso': { type: 'file', mode: 0o600, label: L('virt_content_t') },
      '/srv/iso/c.iso': { type: 'symlink', target: 'a.iso' },
      '/srv/iso/sub': { type: 'dir', mode: 0o700, label: L('public_content_t') },
      '/srv/iso/sub/d.iso': { type: 'file', mode: 0o644, label: L('public_content_t') },
    },
    { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP, [join(process.cwd(), 'qemu.conf')]: '# comment\nuser = "libvirt-qemu"\n' } },
  ),
);

const domain = (paths: string[]) =>
  `<domain type='kvm'>\n  <name>later</name>\n  <devices>\n${paths
    .map((p, i) => `    <disk type='file' device='cdrom'>\n      <driver name='qemu' type='raw'/>\n      <source file='${p}'/>\n      <target dev='sd${'abcdefgh'[i]}' bus='sata'/>\n      <readonly/>\n    </disk>\n`)
    .join('')}  </devices>\n</domain>\n`;

describe.skipIf(missingRequirements({ files: [DEBIAN_POLICY] }))('virt-seclabel facts', () => {
  const host: HostOptions = { connect: 'system', qemuConf: 'qemu.conf', models: ['dac', 'selinux'], policy: DEBIAN_POLICY, booleans: {} };

  it('--path DIR: later domains on those paths get the live decisions, absent files included', async () => {
    const c = captureIo();
    expect(await runFacts([], { host, paths: ['/srv/iso'] }, c.io, view)).toBe(0);
    const facts = parseFacts(c.stdout());
    if (!facts.ok) throw new Error(facts.error);
    expect(facts.value.hostOptions.qemuConf).toBe(join(process.cwd(), 'qemu.conf'));
    expect(facts.value.covers.paths).toEqual(['/srv/iso']);
    expect(c.stderr()).toMatch(/facts: \d+ host reads, \d+ SELinux questions for 0 domain file\(s\) and 4 path\(s\)/);

    const files = writeDomains({ 'later.xml': domain(['/srv/iso/a.iso', '/srv/iso/b.iso', '/srv/iso/c.iso', '/srv/iso/sub/d.iso', '/srv/iso/none.iso']) });
    const liveOut = await live(view, { ...host, qemuConf: join(process.cwd(), 'qemu.conf') }, files);
    const off = await offline(facts.value, files);
    expect(off.explain).toBe(liveOut.explain);
    expect(off.check).toBe(liveOut.check);
    expect(off.warnings).toEqual([]);
    expect(liveOut.explain).toContain('"action": "annotate"');
  });

  it('refuses a snapshot as its input', async () => {
    const c = captureIo();
    expect(await runFacts([], { host: { ...host, facts: 'x.json' }, paths: [] }, c.io, view)).toBe(2);
    expect(c.stderr()).toContain('facts records the live host');
  });
});
