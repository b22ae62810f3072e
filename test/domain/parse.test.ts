import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDomain } from '../../src/domain/parse.js';
import { parseXml, parseXmlString } from '../../src/xml/parse.js';

function domainOf(text: string) {
  const doc = parseXmlString(text);
  if (!doc.ok) throw new Error(doc.error.message);
  return parseDomain(doc.value.root);
}

function sample(name: string) {
  const doc = parseXml(readFileSync(`samples/domains/${name}`));
  if (!doc.ok) throw new Error(`${name}: ${doc.error.message}`);
  const d = parseDomain(doc.value.root);
  if (!d.ok) throw new Error(`${name}: ${d.error.message}`);
  return d.value;
}

describe('parseDomain', () => {
  it('reads disks with type, device, target, path, format, readonly and shareable', () => {
    const d = domainOf(`<domain type='kvm'><name> vm1 </name><devices>
      <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/srv/a.iso'/><target dev='sda'/><readonly/></disk>
      <disk type='block' device='disk'><source dev='/dev/sdb'/><target dev='vdb'/><shareable/></disk>
      <disk type='dir' device='disk'><source dir='/srv/tree'/><target dev='hdc'/></disk>
      <disk device='floppy'><target dev='fda'/></disk>
    </devices></domain>`);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.value.name).toBe('vm1');
    expect(d.value.type).toBe('kvm');
    expect(d.value.disks.map((x) => [x.type, x.device, x.target, x.path, x.format, x.readonly, x.shareable])).toEqual([
      ['file', 'cdrom', 'sda', '/srv/a.iso', 'raw', true, false],
      ['block', 'disk', 'vdb', '/dev/sdb', undefined, false, true],
      ['dir', 'disk', 'hdc', '/srv/tree', undefined, false, false],
      ['file', 'floppy', 'fda', undefined, undefined, false, false],
    ]);
  });

  it('reads a nested <backingStore> chain as written, and an empty one as "none"', () => {
    const d = sample('09-backing-chains.xml');
    const [a, b, c] = d.disks;
    expect(a!.backing).toMatchObject({
      kind: 'layer', format: 'qcow2', path: '/var/lib/libvirt/images/chain.snap1.qcow2',
      next: { kind: 'layer', path: '/var/lib/libvirt/images/templates/debian12-base.qcow2', next: { kind: 'none' } },
    });
    expect(b!.backing).toEqual({ kind: 'none' });
    expect(c!.backing).toMatchObject({ kind: 'layer', type: 'file', format: 'raw', path: '/srv/templates/golden.raw', next: undefined });
  });

  it('reads per-disk seclabels with model, relabel and label', () => {
    const d = sample('06-existing-seclabels.xml');
    const all = d.disks.flatMap((x) => x.seclabels.map((s) => [x.target, s.model, s.relabel, s.label !== undefined]));
    expect(all).toContainEqual([d.disks[2]!.target, 'dac', false, false]);
    expect(all).toContainEqual([d.disks[0]!.target, 'selinux', true, true]);
  });

  it('reads domain-level seclabels, with static labels and relabel', () => {
    const d = sample('11-domain-seclabel-static.xml');
    expect(d.seclabels.map((s) => [s.type, s.model, s.relabel, s.label])).toEqual([
      ['static', 'selinux', true, 'system_u:system_r:svirt_t:s0:c100,c200'],
      ['static', 'dac', false, '+107:+107'],
    ]);
  });

  it.each([
    [`<domain><devices><disk type='file'><source file='/a'><seclabel model='dac' relabel='maybe'/></source></disk></devices></domain>`, "only 'yes' or 'no'"],
    [`<domain><devices><disk type='file'><source file='/a'><seclabel model='dac' relabel='optional'/></source></disk></devices></domain>`, "only 'yes' or 'no'"],
    [`<domain><devices><disk type='file'><source file='/a'><seclabel model='dac' relabel='no'><label>x</label></seclabel></source></disk></devices></domain>`, 'Cannot specify a label'],
    [`<domain><devices><disk type='file'><source file='/a'><seclabel model='dac'/><seclabel model='dac' relabel='no'/></source></disk></devices></domain>`, 'already provided'],
    [`<domain><seclabel type='weird'/></domain>`, 'none, static or dynamic'],
    [`<domain><seclabel type='dynamic' model='selinux' relabel='no'/></domain>`, 'dynamic label type must use resource relabeling'],
    [`<network><name>x</name></network>`, 'not a libvirt <domain>'],
  ])('refuses what libvirt refuses, with a position: %#', (xml, message) => {
    const d = domainOf(xml);
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.error.message).toContain(message);
    expect(d.error.line).toBeGreaterThanOrEqual(1);
    expect(d.error.column).toBeGreaterThanOrEqual(1);
  });

  it('parses every bundled sample', () => {
    for (const f of ['01-virsh-dumpxml-kvm.xml', '07-disk-types.xml', '13-special-characters.xml', '16-session-namespaced.xml']) {
      expect(sample(f).disks.length).toBeGreaterThan(0);
    }
  });
});
