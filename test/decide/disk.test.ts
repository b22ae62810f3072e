/**
 * The decision rules with engines replaced by scripted answers: what must never be annotated, and what
 * an annotation requires. The engines themselves are tested against the kernel and libsepol elsewhere.
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/decide/connection.js';
import { decideDisk } from '../../src/decide/disk.js';
import type { Chain, DecisionPorts } from '../../src/decide/ports.js';
import type { ChainFile, FileVerdict } from '../../src/access/engine.js';
import type { Model } from '../../src/decide/types.js';
import type { Disk, DiskSeclabel, Domain, DomainSeclabel } from '../../src/domain/model.js';
import type { XmlElement } from '../../src/xml/tree.js';

const el = (name: string, line = 1): XmlElement => ({
  name, attributes: [], children: [], text: '', start: 0, startTagEnd: 0, endTagStart: 0, end: 0, selfClosing: true, line, column: 1,
});

const conn = (over: Partial<Connection> = {}): Connection => ({
  mode: 'system',
  models: { dac: { active: true, why: 'test' }, selinux: { active: true, why: 'test' } },
  apparmor: { active: false, why: 'test' },
  dynamicOwnership: true,
  defaultConfined: true,
  user: 'libvirt-qemu',
  group: 'libvirt-qemu',
  identitySource: 'test',
  ...over,
});

function disk(over: Partial<Disk> = {}): Disk {
  return {
    element: el('disk'), index: 0, type: 'file', rawType: 'file', device: 'cdrom', target: 'sda', source: el('source', 5),
    path: '/srv/iso/a.iso', format: 'raw', readonly: true, shareable: false, backing: undefined, seclabels: [], ...over,
  };
}

const domain = (d: Disk, seclabels: DomainSeclabel[] = []): Domain => ({ name: 'vm', type: 'kvm', seclabels, disks: [d] });

/** Ports whose engines answer from a table keyed by model and path; every call is recorded. */
function ports(answers: Record<string, FileVerdict>, chain?: Chain) {
  const calls: string[] = [];
  const p: DecisionPorts = {
    resolveChain: (d) => chain ?? { kind: 'ok', files: [{ path: d.path!, access: d.readonly ? 'read' : 'readwrite', role: 'top' }] },
    engineFor: (model: Model) => ({
      ok: true,
      engine: {
        check: (f: ChainFile) => {
          calls.push(`${model}:${f.path}:${f.access}`);
          return answers[`${model}:${f.path}`] ?? { accessible: null, reason: 'no scripted answer' };
        },
      },
    }),
  };
  return { p, calls };
}

const yes = (because = 'world-readable'): FileVerdict => ({ accessible: true, because });
const no = (reason = 'denied'): FileVerdict => ({ accessible: false, reason });

describe('decideDisk', () => {
  it('annotates both models for a read-only disk both engines prove accessible, with the proof attached', () => {
    const d = disk();
    const { p } = ports({ 'dac:/srv/iso/a.iso': yes(), 'selinux:/srv/iso/a.iso': yes('allowed by allow') });
    const r = decideDisk(d, domain(d), conn(), p);
    expect(r.models.dac).toMatchObject({ action: 'annotate', accessible: true });
    expect(r.models.selinux).toMatchObject({ action: 'annotate', accessible: true, reason: 'allowed by allow' });
    if (r.models.dac.action === 'annotate') expect(r.models.dac.proof.files).toEqual([{ path: '/srv/iso/a.iso', access: 'read' }]);
  });

  it('never annotates SELinux on an exclusive writable disk, and does not even ask the engine', () => {
    const d = disk({ readonly: false, device: 'disk' });
    const { p, calls } = ports({ 'dac:/srv/iso/a.iso': yes(), 'selinux:/srv/iso/a.iso': yes() });
    const r = decideDisk(d, domain(d), conn(), p);
    expect(r.models.selinux).toMatchObject({ action: 'keep', accessible: null });
    expect(r.models.dac.action).toBe('annotate');
    expect(calls).toEqual(['dac:/srv/iso/a.iso:readwrite']);
  });

  it('a shareable writable disk may keep its label when read+write is proven', () => {
    const d = disk({ readonly: false, shareable: true, device: 'disk' });
    const { p, calls } = ports({ 'dac:/srv/iso/a.iso': yes(), 'selinux:/srv/iso/a.iso': yes() });
    expect(decideDisk(d, domain(d), conn(), p).models.selinux.action).toBe('annotate');
    expect(calls).toContain('selinux:/srv/iso/a.iso:readwrite');
  });

  it('keeps the default when an engine denies or cannot tell, passing false and null through', () => {
    const d = disk();
    const { p } = ports({ 'dac:/srv/iso/a.iso': no('/srv/iso (drwx------): cannot search') });
    const r = decideDisk(d, domain(d), conn(), p);
    expect(r.models.dac).toEqual({ action: 'keep', accessible: false, reason: '/srv/iso (drwx------): cannot search' });
    expect(r.models.selinux).toMatchObject({ action: 'keep', accessible: null });
  });

  it('needs every layer of the chain: one unproven backing file blocks the annotation', () => {
    const d = disk({ format: 'qcow2' });
    const chain: Chain = { kind: 'ok', files: [
      { path: '/srv/iso/a.iso', access: 'read', role: 'top' },
      { path: '/srv/base.img', access: 'read', role: 'backing' },
    ] };
    const { p } = ports({ 'dac:/srv/iso/a.iso': yes(), 'dac:/srv/base.img': no('mode 0600 root:root') }, chain);
    const r = decideDisk(d, domain(d), conn(), p);
    expect(r.models.dac).toMatchObject({ action: 'keep', accessible: false });
    expect(r.models.dac.reason).toContain('backing file /srv/base.img');
  });

  it('an unprovable chain (json: backing, unknown format) is never annotated', () => {
    const d = disk({ format: 'qcow2' });
    const { p } = ports({ 'dac:/srv/iso/a.iso': yes() }, { kind: 'unprovable', reason: 'backing file json:{…} is not a local file' });
    expect(decideDisk(d, domain(d), conn(), p).models.dac).toMatchObject({ action: 'keep', accessible: null });
  });

  it('inactive models are n/a: session mode has no DAC, a host without SELinux has no selinux', () => {
    const d = disk();
    const { p } = ports({ 'dac:/srv/iso/a.iso': yes(), 'selinux:/srv/iso/a.iso': yes() });
    const r = decideDisk(d, domain(d), conn({ models: { dac: { active: false, why: 'session' }, selinux: { active: false, why: 'no SELinux' } } }), p);
    expect(r.models.dac.action).toBe('n/a');
    expect(r.models.selinux.action).toBe('n/a');
  });

  it.each([
    ['dir', { type: 'dir' as const, rawType: 'dir' }],
    ['network', { type: 'network' as const, rawType: 'network', path: undefined }],
    ['nvme', { type: 'nvme' as const, rawType: 'nvme', path: undefined }],
    ['vhostuser', { type: 'vhostuser' as const, rawType: 'vhostuser', path: undefined }],
    ['cdrom without media', { source: undefined, path: undefined }],
    ['unknown type', { type: undefined, rawType: 'weird' }],
  ])('%s disks take no per-disk seclabel: n/a', (_n, over) => {
    const d = disk(over);
    const { p, calls } = ports({});
    const r = decideDisk(d, domain(d), conn(), p);
    expect([r.models.dac.action, r.models.selinux.action]).toEqual(['n/a', 'n/a']);
    expect(calls).toEqual([]);
  });

  it('a domain seclabel that turns a driver off makes that model n/a for every disk', () => {
    const d = disk();
    const { p } = ports({ 'dac:/srv/iso/a.iso': yes(), 'selinux:/srv/iso/a.iso': yes() });
    const none: DomainSeclabel = { element: el('seclabel'), type: 'none', model: 'selinux', relabel: undefined, label: undefined, baselabel: undefined };
    const staticDac: DomainSeclabel = { element: el('seclabel'), type: 'static', model: 'dac', relabel: undefined, label: '+0:+0', baselabel: undefined };
    const r = decideDisk(d, domain(d, [none, staticDac]), conn(), p);
    expect(r.models.selinux.action).toBe('n/a');
    expect(r.models.dac.action).toBe('n/a');
    expect(r.models.dac.reason).toContain("relabel='yes'");
  });

  it("a model-less domain seclabel belongs to SELinux when it is active, and never to DAC", () => {
    const d = disk();
    const { p } = ports({ 'dac:/srv/iso/a.iso': yes(), 'selinux:/srv/iso/a.iso': yes() });
    const modelless: DomainSeclabel = { element: el('seclabel'), type: 'none', model: undefined, relabel: undefined, label: undefined, baselabel: undefined };
    const r = decideDisk(d, domain(d, [modelless]), conn(), p);
    expect(r.models.selinux.action).toBe('n/a');
    expect(r.models.dac.action).toBe('annotate');
  });

  it('dynamic_ownership = 0 and security_default_confined = 0 switch labelling off', () => {
    const d = disk();
    const { p } = ports({ 'dac:/srv/iso/a.iso': yes(), 'selinux:/srv/iso/a.iso': yes() });
    expect(decideDisk(d, domain(d), conn({ dynamicOwnership: false }), p).models.dac.action).toBe('n/a');
    const r = decideDisk(d, domain(d), conn({ defaultConfined: false }), p);
    expect([r.models.dac.action, r.models.selinux.action]).toEqual(['n/a', 'n/a']);
  });

  it('an existing seclabel is left alone; a relabel=no one whose file is denied is stale', () => {
    const sl = (model: string, relabel: boolean): DiskSeclabel => ({ element: el('seclabel'), model, relabel, label: relabel ? 'x' : undefined });
    const d = disk({ seclabels: [sl('dac', false), sl('selinux', true)] });
    const { p } = ports({ 'dac:/srv/iso/a.iso': no('mode 0600') });
    const r = decideDisk(d, domain(d), conn(), p);
    expect(r.models.dac).toMatchObject({ action: 'existing', accessible: false, stale: true });
    expect(r.models.selinux).toMatchObject({ action: 'existing', stale: false });
    const { p: fine } = ports({ 'dac:/srv/iso/a.iso': yes() });
    expect(decideDisk(d, domain(d), conn(), fine).models.dac).toMatchObject({ action: 'existing', accessible: true, stale: false });
  });

  it('warns about per-disk seclabels without a model or for an inactive model', () => {
    const d = disk({ seclabels: [
      { element: el('seclabel'), model: undefined, relabel: false, label: undefined },
      { element: el('seclabel'), model: 'dac', relabel: false, label: undefined },
    ] });
    const { p } = ports({ 'dac:/srv/iso/a.iso': yes() });
    const r = decideDisk(d, domain(d), conn({ models: { dac: { active: false, why: 'session' }, selinux: { active: true, why: 't' } } }), p);
    expect(r.findings.map((f) => f.code).sort()).toEqual(['seclabel-model-inactive', 'seclabel-without-model']);
  });

  it('an engine that cannot be built (no policy, unknown user) means keep, not annotate', () => {
    const d = disk();
    const p: DecisionPorts = {
      resolveChain: () => ({ kind: 'ok', files: [{ path: '/srv/iso/a.iso', access: 'read', role: 'top' }] }),
      engineFor: () => ({ ok: false, reason: 'no SELinux policy could be read' }),
    };
    const r = decideDisk(d, domain(d), conn(), p);
    expect(r.models.selinux).toEqual({ action: 'keep', accessible: null, reason: 'no SELinux policy could be read' });
  });
});
