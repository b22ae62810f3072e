/**
 * The safety invariants, over every corpus (sample domains, the demo, the hand-written constructs, a
 * backing-chain domain, and fuzz mutants that parse), on hosts where every file is accessible to both
 * engines, so that what stays unannotated is held back by the rules, not by the files:
 *   1. no SELinux relabel='no' on an exclusive writable disk (neither <readonly/> nor <shareable/>);
 *   2. no seclabel for a model that is not active (models flag, session mode, unreadable policy), none
 *      where the domain switched that model's labelling off, none on a disk type libvirt does not label;
 *   3. no annotation when any layer of the chain (each file of the proof and its directory) is unknown,
 *      or its ACL / SELinux label cannot be read, or DAC denies it;
 *   4. a second run is a no-op.
 * The checks read the output XML (which seclabels are new, on which disk, with which flags); the
 * decisions are used only to find the files of a chain to break.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostOptions } from '../../src/app/host-options.js';
import { processFile, type FileOutcome } from '../../src/app/process-file.js';
import { parseXml } from '../../src/xml/parse.js';
import type { XmlElement } from '../../src/xml/tree.js';
import { DEBIAN_POLICY } from '../cli/harness.js';
import { qcow2 } from '../images/builders.js';
import type { MemoryNode } from '../support/memory-view.js';
import { missingRequirements } from '../support/requirements.js';
import { checkMinimalDiff } from './support/minimal-diff.js';
import { openTree, pathsIn, swappableHost, type SwappableHost } from './support/open-host.js';
import { createRng, fuzzCount, fuzzSeed } from './support/prng.js';
import { WELL_FORMED_NASTIES, domainWith, mutate, seedDocuments } from './support/xml-mutants.js';

const enc = new TextEncoder();
const REPO = join(import.meta.dirname, '../..');

interface Doc {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly extra?: Readonly<Record<string, MemoryNode>>;
}

const CHAIN_DOMAIN = `<domain type='kvm'>
  <name>chain</name>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/srv/chain/top.qcow2'/>
      <target dev='vda' bus='virtio'/>
      <readonly/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/srv/chain/overlay.qcow2'/>
      <target dev='vdb' bus='virtio'/>
      <shareable/>
    </disk>
  </devices>
</domain>
`;
const L = (t: string) => `system_u:object_r:${t}:s0`;
/** top → base (from the qcow2 header, relative name); overlay → top → base. */
const CHAIN_FILES: Record<string, MemoryNode> = {
  '/srv/chain/top.qcow2': { type: 'file', mode: 0o666, label: L('svirt_image_t'), content: qcow2({ backingName: 'base.qcow2' }) },
  '/srv/chain/overlay.qcow2': { type: 'file', mode: 0o666, label: L('svirt_image_t'), content: qcow2({ backingName: '/srv/chain/top.qcow2' }) },
  '/srv/chain/base.qcow2': { type: 'file', mode: 0o666, label: L('svirt_image_t'), content: qcow2() },
};

function corpus(): Doc[] {
  const demo = join(REPO, 'samples/demo');
  const demos = readdirSync(demo)
    .filter((f) => f.endsWith('.xml'))
    .map((f) => ({ name: `demo/${f}`, bytes: new Uint8Array(readFileSync(join(demo, f))) }));
  return [
    ...seedDocuments({ nasties: false }),
    ...demos,
    ...WELL_FORMED_NASTIES.map(([name, src]) => ({ name, bytes: enc.encode(domainWith(src)) })),
    { name: 'backing chain', bytes: enc.encode(CHAIN_DOMAIN), extra: CHAIN_FILES },
  ];
}

function generated(seed: number, n: number): Doc[] {
  const rng = createRng(seed);
  const seeds = seedDocuments();
  const out: Doc[] = [];
  for (let tries = 0; out.length < n && tries < n * 10; tries++) {
    const base = rng.pick(seeds);
    const m = mutate(base.bytes, rng);
    if (parseXml(m.bytes).ok) out.push({ name: `mutant ${tries} of ${base.name} by ${m.ops.join('+')}`, bytes: m.bytes });
  }
  return out;
}

const child = (el: XmlElement, name: string) => el.children.find((c) => c.name === name);
const attr = (el: XmlElement, name: string) => el.attributes.find((a) => a.name === name)?.value;
function disksOf(bytes: Uint8Array): XmlElement[] {
  const r = parseXml(bytes);
  if (!r.ok) return [];
  const out: XmlElement[] = [];
  const walk = (el: XmlElement) => {
    for (const c of el.children) {
      if (c.name === 'disk') out.push(c);
      walk(c);
    }
  };
  walk(r.value.root);
  return out;
}
/**
 * Models whose labelling the domain switches off (libvirt-labeling.md): <seclabel type='none'>, or
 * type='static' without relabel='yes' (static defaults to relabel='no'). A seclabel without type= is
 * libvirt's "default" kind, which `virsh define` drops from the definition, relabel='no' included, so it
 * switches nothing off (checked with virsh -c test:///default).
 */
function labellingOff(bytes: Uint8Array): Set<string> {
  const r = parseXml(bytes);
  const off = new Set<string>();
  if (!r.ok) return off;
  for (const s of r.value.root.children.filter((c) => c.name === 'seclabel')) {
    const model = attr(s, 'model');
    const type = attr(s, 'type');
    if (model !== undefined && (type === 'none' || (type === 'static' && attr(s, 'relabel') !== 'yes'))) off.add(model);
  }
  return off;
}

interface Run {
  readonly outcome: FileOutcome;
  /** New seclabels by disk index → models. */
  readonly added: Map<number, Set<string>>;
}

function run(host: SwappableHost, doc: Doc, tree?: Record<string, MemoryNode>, unknownLabels?: ReadonlySet<string>): Run | undefined {
  host.setTree(tree ?? { ...openTree(pathsIn(doc.bytes)), ...doc.extra }, unknownLabels);
  const outcome = processFile(doc.name, doc.bytes, host.ctx.conn, host.ctx.ports, { pruneStale: false });
  if (!outcome.ok) return undefined;
  const diff = checkMinimalDiff(doc.bytes, outcome.output, ['dac', 'selinux']);
  if (!diff.ok) throw new Error(`${doc.name}: ${diff.why}`);
  const added = new Map<number, Set<string>>();
  for (const a of diff.added) added.set(a.disk, (added.get(a.disk) ?? new Set()).add(a.model));
  return { outcome, added };
}

const CONFIGS: { name: string; opts: Partial<HostOptions>; active: string[]; policy?: 'unreadable' }[] = [
  { name: 'system, dac+selinux', opts: { models: ['dac', 'selinux'], policy: DEBIAN_POLICY }, active: ['dac', 'selinux'] },
  { name: 'system, dac only', opts: { models: ['dac'] }, active: ['dac'] },
  { name: 'system, selinux only', opts: { models: ['selinux'], policy: DEBIAN_POLICY }, active: ['selinux'] },
  { name: 'session, selinux', opts: { connect: 'session', models: ['selinux'], policy: DEBIAN_POLICY }, active: ['selinux'] },
  { name: 'system, no models', opts: { models: [] }, active: [] },
  { name: 'system, dac+selinux, policy unreadable', opts: { models: ['dac', 'selinux'], policy: DEBIAN_POLICY }, active: ['dac'], policy: 'unreadable' },
];

const skip = missingRequirements({ files: [DEBIAN_POLICY] });

describe.skipIf(skip)('safety invariants over every corpus', () => {
  const seed = fuzzSeed();
  const fixed = corpus();
  const mutants = generated(seed, fuzzCount(150));
  const docs = [...fixed, ...mutants];
  const hosts = new Map(CONFIGS.map((c) => [c.name, swappableHost(c.opts, c.policy ?? 'real')]));

  it.each(CONFIGS.map((c) => [c.name, c] as const))('%s: invariants 1, 2 and 4 on every document', (_n, config) => {
    const host = hosts.get(config.name)!;
    const tally = { documents: 0, refused: 0, annotatedDisks: 0, newSeclabels: 0, exclusiveWritableDisks: 0 };
    for (const doc of docs) {
      const r = run(host, doc);
      if (!r) {
        tally.refused++;
        continue;
      }
      tally.documents++;
      const disks = disksOf(doc.bytes);
      const off = labellingOff(doc.bytes);
      for (const d of disks) if (!child(d, 'readonly') && !child(d, 'shareable')) tally.exclusiveWritableDisks++;
      for (const [index, models] of r.added) {
        const disk = disks[index]!;
        const where = `${config.name}: ${doc.name}, disk #${index} (${attr(child(disk, 'target') ?? disk, 'dev') ?? '?'})`;
        tally.annotatedDisks++;
        tally.newSeclabels += models.size;
        // 1. SELinux categories are the isolation of an exclusive writable disk.
        if (models.has('selinux')) expect(child(disk, 'readonly') ?? child(disk, 'shareable'), `${where}: selinux relabel='no' on an exclusive writable disk`).toBeDefined();
        // 2. Only active models, only where the domain labels with them, only on labellable disk types.
        for (const m of models) {
          expect(config.active, `${where}: seclabel for inactive model ${m}`).toContain(m);
          expect(off.has(m), `${where}: ${m} labelling is off for this domain`).toBe(false);
        }
        // libvirt reads a disk without type= as a file disk (virDomainDiskDefParseXML).
        expect(['file', 'block'], `${where}: disk type`).toContain(attr(disk, 'type') ?? 'file');
      }
      // 4. A second run over the output changes nothing.
      const again = run(host, { ...doc, bytes: r.outcome.ok ? r.outcome.output : doc.bytes });
      expect(again?.added.size, `${config.name}: ${doc.name}: second run added seclabels`).toBe(0);
      expect(again?.outcome.ok && Buffer.from(again.outcome.output).equals(Buffer.from(r.outcome.ok ? r.outcome.output : []))).toBe(true);
    }
    console.log(`invariants [${config.name}]: seed ${seed}, ${JSON.stringify(tally)}`);
    // The open host must let something through where a model is active, or these checks bite on nothing.
    if (config.active.length > 0) expect(tally.annotatedDisks).toBeGreaterThan(10);
    else expect(tally.annotatedDisks).toBe(0);
  });

  it('3: breaking any layer of a proven chain (file or directory unknown, ACL or label unreadable, DAC denied) removes the annotation', () => {
    const host = hosts.get('system, dac+selinux')!;
    const tally = { disks: 0, chainFiles: 0, multiLayerChains: 0, faults: 0 };
    // Each fault is a full run; CI samples a third of them (FUZZ_ITERATIONS=3 or more runs all).
    const rng = createRng(seed);
    const keep = Math.min(1, fuzzCount(35) / 100);
    // Every fixed document, and a slice of the mutants (each fault is a full run: this is the costly part).
    for (const doc of [...fixed, ...mutants.slice(0, fuzzCount(15))]) {
      const base = run(host, doc);
      if (!base || !base.outcome.ok) continue;
      const tree = { ...openTree(pathsIn(doc.bytes)), ...doc.extra };
      for (const d of base.outcome.decision.disks) {
        const models = base.added.get(d.disk.index);
        if (!models) continue;
        tally.disks++;
        const files = new Set<string>();
        for (const m of models) {
          const md = d.models[m as 'dac' | 'selinux'];
          if (md.action === 'annotate') for (const f of md.proof.files) files.add(f.path);
        }
        if (files.size > 1) tally.multiLayerChains++;
        for (const f of files) {
          tally.chainFiles++;
          const node = tree[f];
          const parent = f.slice(0, f.lastIndexOf('/')) || '/';
          const faults: { name: string; tree: Record<string, MemoryNode>; labels?: Set<string>; blocks: string[] }[] = [
            { name: 'file unknown', tree: { ...tree, [f]: { type: 'unknown', why: 'test fault: stat failed' } }, blocks: ['dac', 'selinux'] },
            { name: 'directory unknown', tree: { ...tree, [parent]: { type: 'unknown', why: 'test fault: stat failed' } }, blocks: ['dac', 'selinux'] },
            { name: 'label unreadable', tree, labels: new Set([f]), blocks: ['selinux'] },
          ];
          if (node && node.type === 'file') {
            faults.push({ name: 'ACL unreadable', tree: { ...tree, [f]: { ...node, aclUnknown: 'test fault: getxattr failed' } }, blocks: ['dac'] });
            faults.push({ name: 'DAC denies (0600 root)', tree: { ...tree, [f]: { ...node, mode: 0o600 } }, blocks: ['dac'] });
          }
          for (const fault of faults) {
            if (rng.next() >= keep) continue;
            tally.faults++;
            const broken = run(host, doc, fault.tree, fault.labels);
            const still = broken?.added.get(d.disk.index) ?? new Set();
            for (const m of fault.blocks)
              expect(still.has(m), `${doc.name}, disk #${d.disk.index}: ${fault.name} on ${f}, yet a new ${m} seclabel`).toBe(false);
          }
        }
      }
    }
    console.log(`invariant 3: seed ${seed}, ${JSON.stringify(tally)}`);
    expect(tally.multiLayerChains).toBeGreaterThan(0);
    expect(tally.faults).toBeGreaterThan(50);
  });
});
