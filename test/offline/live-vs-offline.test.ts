/**
 * The offline promise: decisions from a facts snapshot are the live decisions on that host. Seeded
 * random hosts (in memory, with the real Debian policy answering the SELinux questions) are decided
 * live, recorded, serialized, parsed back and decided again from the snapshot alone; explain --json
 * and annotate --check must match byte for byte. Then what a snapshot does NOT cover: unknown, no
 * annotation, a warning naming the path.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { HostOptions } from '../../src/app/host-options.js';
import { memoryView } from '../support/memory-view.js';
import { missingRequirements } from '../support/requirements.js';
import { DEBIAN_POLICY, GROUP, PASSWD, withRealPolicy } from '../cli/harness.js';
import { rng } from '../dac/support/prng.js';
import { live, offline, record, removeScratch, writeDomains } from './harness.js';
import { randomHost } from './random-host.js';

afterAll(removeScratch);

const skip = missingRequirements({ files: [DEBIAN_POLICY] });
const SESSION_CONTEXT = 'unconfined_u:system_r:unconfined_t:s0-s0:c0.c1023';
const SEEDS = Number(process.env.OFFLINE_SEEDS ?? 12);
const opts = (over: Partial<HostOptions> = {}): HostOptions => ({
  connect: 'system',
  qemuConf: '/etc/libvirt/qemu.conf',
  models: ['dac', 'selinux'],
  policy: DEBIAN_POLICY,
  booleans: {},
  ...over,
});
const QEMU_CONF = 'user = "libvirt-qemu"\ngroup = "kvm"\n';

describe.skipIf(skip)('offline decisions equal live decisions', () => {
  const variants: [string, Partial<HostOptions>][] = [
    ['qemu:///system', {}],
    ['qemu:///session', { connect: 'session' }],
    ['virt_use_nfs=on', { booleans: { virt_use_nfs: true } }],
  ];
  for (const [name, over] of variants)
    it(`${SEEDS} random hosts, ${name}`, async () => {
      let annotations = 0;
      let selinuxProofs = 0;
      for (let seed = 1; seed <= SEEDS; seed++) {
        const host = randomHost(rng(seed * 7919));
        // The session daemon shares this process's SELinux user and role (a user Debian's policy authorises for svirt_t).
        const view = withRealPolicy(memoryView(host.tree, { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP, '/etc/libvirt/qemu.conf': QEMU_CONF, '/proc/self/attr/current': SESSION_CONTEXT } }));
        const files = writeDomains(host.domains);
        const o = opts(over);
        const liveOut = await live(view, o, files);
        const { facts } = await record(view, o, files);
        // The CLI passes --boolean through to the snapshot; the other host options come from it.
        const off = await offline(facts, files, { booleans: o.booleans });
        expect(off.explain, `seed ${seed}`).toBe(liveOut.explain);
        expect(off.check, `seed ${seed}`).toBe(liveOut.check);
        expect(off.checkCode).toBe(liveOut.checkCode);
        expect(off.warnings).toEqual([]);
        annotations += (liveOut.explain.match(/"action": "annotate"/g) ?? []).length;
        selinuxProofs += (liveOut.explain.match(/"selinux": \{\s*"action": "annotate"/g) ?? []).length;
      }
      // A comparison of nothing but "keep" would prove little: the hosts must produce real proofs.
      console.log(`offline ${name}: ${SEEDS} hosts, ${annotations} annotations (${selinuxProofs} SELinux) identical live and offline`);
      expect(annotations).toBeGreaterThan(SEEDS);
      if (over.connect !== 'session') expect(selinuxProofs).toBeGreaterThan(0);
    });
});

describe.skipIf(skip)('a host with a running SELinux kernel (selinuxfs)', () => {
  it('detects the models, reads the live booleans and the loaded policy, and replays all of it', async () => {
    const SELINUXFS = '/sys/fs/selinux';
    let annotations = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const host = randomHost(rng(seed * 31));
      const tree = {
        ...host.tree,
        [`${SELINUXFS}/enforce`]: { type: 'file', mode: 0o644, content: '1' },
        [`${SELINUXFS}/booleans/virt_use_nfs`]: { type: 'file', mode: 0o644, content: '1 1' },
        [`${SELINUXFS}/booleans/virt_use_samba`]: { type: 'file', mode: 0o644, content: '0 0' },
        [`${SELINUXFS}/policy`]: { type: 'file', mode: 0o400 },
      } as const;
      const files = writeDomains(host.domains);
      // The kernel's loaded policy is Debian's here: the view serves its bytes at selinuxfs' policy node.
      const view = withRealPolicy(memoryView(tree, { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } }), DEBIAN_POLICY);
      const kernel = { ...view, readBinary: (p: string) => (p === `${SELINUXFS}/policy` ? view.readBinary(DEBIAN_POLICY) : view.readBinary(p)) };
      const detected: HostOptions = { connect: 'system', qemuConf: '/etc/libvirt/qemu.conf', booleans: {} };
      const liveOut = await live(kernel, detected, files);
      expect(JSON.parse(liveOut.explain).connection.models.selinux.active).toBe(true);
      const { facts } = await record(kernel, detected, files);
      expect(facts.selinux?.policy).toEqual({ kind: 'loaded', source: `${SELINUXFS}/policy`, mls: true });
      // The kernel's current boolean values were read through the view, so they are in the transcript.
      expect(facts.view).toContainEqual({ op: 'readText', path: `${SELINUXFS}/booleans/virt_use_nfs`, answer: { kind: 'ok', value: '1 1' } });
      const off = await offline(facts, files);
      expect(off.explain, `seed ${seed}`).toBe(liveOut.explain);
      expect(off.check, `seed ${seed}`).toBe(liveOut.check);
      expect(off.warnings).toEqual([]);
      annotations += (liveOut.explain.match(/"action": "annotate"/g) ?? []).length;
    }
    expect(annotations).toBeGreaterThan(4);
  });
});

const TREE = {
  '/': { type: 'dir', mode: 0o755, label: 'system_u:object_r:root_t:s0' },
  '/srv': { type: 'dir', mode: 0o755, label: 'system_u:object_r:var_t:s0' },
  '/srv/iso': { type: 'dir', mode: 0o755, label: 'system_u:object_r:public_content_t:s0' },
  '/srv/iso/a.iso': { type: 'file', mode: 0o644, label: 'system_u:object_r:public_content_t:s0' },
  '/srv/iso/b.iso': { type: 'file', mode: 0o644, label: 'system_u:object_r:public_content_t:s0' },
} as const;

/** model → action of every disk in an explain --json report, in order. */
function actions(explain: string, model: 'dac' | 'selinux'): string[] {
  const report = JSON.parse(explain) as { files: { disks?: { models: Record<string, { action: string }> }[] }[] };
  return report.files.flatMap((f) => (f.disks ?? []).map((d) => d.models[model]!.action));
}

const cdrom = (path: string, dev = 'sda') => `<domain type='kvm'>
  <name>x</name>
  <devices>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='${path}'/>
      <target dev='${dev}' bus='sata'/>
      <readonly/>
    </disk>
  </devices>
</domain>
`;

describe.skipIf(skip)('what a snapshot does not cover', () => {
  const view = withRealPolicy(memoryView(TREE, { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } }));
  const [a, b] = writeDomains({ 'a.xml': cdrom('/srv/iso/a.iso'), 'b.xml': cdrom('/srv/iso/b.iso') });

  it('is unknown: no annotation, and a warning names the path', async () => {
    const liveB = await live(view, opts(), [b!]);
    expect(liveB.explain).toContain('"action": "annotate"');
    const { facts } = await record(view, opts(), [a!]);
    const off = await offline(facts, [b!]);
    expect(actions(off.explain, 'dac')).toEqual(['keep']);
    expect(actions(off.explain, 'selinux')).toEqual(['keep']);
    expect(off.explain).toContain('not in the snapshot');
    expect(off.checkCode).toBe(0);
    expect(off.warnings.some((w) => w.includes('/srv/iso/b.iso'))).toBe(true);
    // The covered domain still gets the live answer.
    const offA = await offline(facts, [a!]);
    expect(offA.explain).toBe((await live(view, opts(), [a!])).explain);
  });

  it('a --boolean the host run did not use is answered only where recorded', async () => {
    const { facts } = await record(view, opts(), [a!]);
    const off = await offline(facts, [a!], { booleans: { virt_use_nfs: true } });
    expect(actions((await live(view, opts(), [a!])).explain, 'selinux')).toEqual(['annotate']);
    expect(actions(off.explain, 'selinux')).toEqual(['keep']);
    expect(actions(off.explain, 'dac')).toEqual(['annotate']);
    expect(off.warnings.some((w) => w.includes('SELinux question'))).toBe(true);
  });

  it('refuses host options that contradict the snapshot', async () => {
    const { facts } = await record(view, opts(), [a!]);
    const { openSnapshot } = await import('../../src/app/open-view.js');
    for (const over of [{ connect: 'session' as const }, { user: 'qemu' }, { qemuConf: '/x.conf' }, { models: ['dac' as const] }, { policy: '/p' }]) {
      const r = openSnapshot(facts, { connect: 'system', qemuConf: '/etc/libvirt/qemu.conf', booleans: {}, ...over });
      expect(r.ok).toBe(false);
    }
  });
});
