/**
 * Differential suite: chains of real images built with qemu-img, resolved through the live host view, compared
 * with `qemu-img info --backing-chain` (QEMU's own chain walk) — paths, formats, data files and extents.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveChain, type ChainResult } from '../../src/images/chain.js';
import { missingRequirements } from '../support/requirements.js';
import { createLiveView } from '../../src/adapters/live/live-view.js';
import { dropBackingFormat, qemuImg, qemuInfoChain, referenceFiles } from './qemu-img.js';

const skip = missingRequirements({ commands: ['qemu-img'] });

describe.skipIf(skip !== undefined)('backing chains agree with qemu-img info --backing-chain', () => {
  let dir = '';
  const view = createLiveView();
  const at = (name: string): string => join(dir, name);
  /** qemu-img run from inside the test directory, so relative backing names are stored as written. */
  const img = (...args: string[]): string =>
    execFileSync('qemu-img', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const files = (r: ChainResult) => {
    if (r.kind !== 'chain') throw new Error(`expected a chain, got ${r.code}: ${r.reason}`);
    return r.files.map(({ path, format, role }) => ({ path, format, role }));
  };
  const agreement = { cases: 0, agree: 0 };
  const compare = (top: string, format: string) => {
    agreement.cases++;
    const ours = files(resolveChain(view, { path: top, format, access: 'readwrite' }));
    expect(ours).toEqual(referenceFiles(top, format));
    agreement.agree++;
    return ours;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vsl-images-'));
    img('create', '-q', '-f', 'raw', 'base.raw', '1M');
  });
  afterAll(() => {
    console.log(`images: chain agreement with qemu-img ${agreement.agree}/${agreement.cases}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('qcow2 v3 over raw with a relative backing name', () => {
    img('create', '-q', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', 'v3.qcow2');
    const ours = compare(at('v3.qcow2'), 'qcow2');
    expect(ours.map((f) => f.path)).toEqual([at('v3.qcow2'), at('base.raw')]);
  });

  it('qcow2 v2 (compat=0.10) over qcow2 v3 over raw, absolute names', () => {
    img('create', '-q', '-f', 'qcow2', '-o', 'compat=1.1', '-b', at('base.raw'), '-F', 'raw', 'mid.qcow2');
    img('create', '-q', '-f', 'qcow2', '-o', 'compat=0.10', '-b', at('mid.qcow2'), '-F', 'qcow2', 'v2.qcow2');
    expect(compare(at('v2.qcow2'), 'qcow2')).toHaveLength(3);
  });

  it('access: the writable top needs readwrite, every backing file read; a read-only top needs read', () => {
    const rw = resolveChain(view, { path: at('v2.qcow2'), format: 'qcow2', access: 'readwrite' });
    const ro = resolveChain(view, { path: at('v2.qcow2'), format: 'qcow2', access: 'read' });
    expect(rw.kind === 'chain' && rw.files.map((f) => f.access)).toEqual(['readwrite', 'read', 'read']);
    expect(ro.kind === 'chain' && ro.files.map((f) => f.access)).toEqual(['read', 'read', 'read']);
  });

  it('qcow2 with an absolute external data file and a backing file', () => {
    img('create', '-q', '-f', 'qcow2', '-o', `data_file=${at('ext.data')}`, '-b', 'base.raw', '-F', 'raw', 'ext.qcow2');
    const ours = compare(at('ext.qcow2'), 'qcow2');
    expect(ours.map((f) => f.role)).toEqual(['image', 'data-file', 'image']);
    const r = resolveChain(view, { path: at('ext.qcow2'), format: 'qcow2', access: 'readwrite' });
    expect(r.kind === 'chain' && r.files.map((f) => f.access)).toEqual(['readwrite', 'readwrite', 'read']);
  });

  it('a relative external data file is unprovable (QEMU resolves it against its working directory)', () => {
    img('create', '-q', '-f', 'qcow2', '-o', 'data_file=rel.data', 'reldata.qcow2', '1M');
    expect(qemuInfoChain(at('reldata.qcow2'), 'qcow2')[0]?.['format-specific']?.data?.['data-file']).toBe('rel.data');
    // The reference for "relative to the working directory": QEMU cannot open it from another directory.
    expect(() =>
      execFileSync('qemu-io', ['-r', '-f', 'qcow2', '-c', 'read 0 512', at('reldata.qcow2')], { cwd: '/', stdio: 'pipe' }),
    ).toThrow(/rel\.data/);
    const r = resolveChain(view, { path: at('reldata.qcow2'), format: 'qcow2' });
    expect(r.kind === 'unprovable' && r.code).toBe('relative-data-file');
  });

  it('QED over raw (no-probe flag) and QED over qcow2 (format probed)', () => {
    img('create', '-q', '-f', 'qed', '-b', 'base.raw', '-F', 'raw', 'a.qed');
    compare(at('a.qed'), 'qed');
    img('create', '-q', '-f', 'qcow2', 'plain.qcow2', '1M');
    img('create', '-q', '-f', 'qed', '-b', 'plain.qcow2', '-F', 'qcow2', 'b.qed');
    expect(compare(at('b.qed'), 'qed').map((f) => f.format)).toEqual(['qed', 'qcow2']);
  });

  it('VMDK monolithicSparse over monolithicSparse (parentFileNameHint)', () => {
    img('create', '-q', '-f', 'vmdk', 'base.vmdk', '1M');
    img('create', '-q', '-f', 'vmdk', '-b', 'base.vmdk', '-F', 'vmdk', 'child.vmdk');
    expect(compare(at('child.vmdk'), 'vmdk')).toHaveLength(2);
  });

  it('VMDK monolithicFlat and twoGbMaxExtentFlat/Sparse descriptors list their extents', () => {
    img('create', '-q', '-f', 'vmdk', '-o', 'subformat=monolithicFlat', 'flat.vmdk', '1M');
    expect(compare(at('flat.vmdk'), 'vmdk').map((f) => f.path)).toEqual([at('flat.vmdk'), at('flat-flat.vmdk')]);
    img('create', '-q', '-f', 'vmdk', '-o', 'subformat=twoGbMaxExtentFlat', 'two.vmdk', '3G');
    expect(compare(at('two.vmdk'), 'vmdk')).toHaveLength(3);
    img('create', '-q', '-f', 'vmdk', '-o', 'subformat=twoGbMaxExtentSparse', 'twos.vmdk', '3G');
    expect(compare(at('twos.vmdk'), 'vmdk')).toHaveLength(3);
  });

  it('a symlinked top: the relative backing name is looked up beside the symlink, not its target', () => {
    mkdirSync(at('other'));
    img('create', '-q', '-f', 'raw', 'other/base.raw', '2M');
    symlinkSync(at('v3.qcow2'), at('other/link.qcow2'));
    const ours = compare(at('other/link.qcow2'), 'qcow2');
    expect(ours[1]?.path).toBe(at('other/base.raw'));
  });

  it('json: and nbd: backing references are not provable', () => {
    const json = `json:{"file":{"driver":"file","filename":"${at('base.raw')}"}}`;
    img('create', '-q', '-f', 'qcow2', '-u', '-b', json, '-F', 'raw', 'json.qcow2', '1M');
    // QEMU does open it (here a local file in disguise); we do not interpret json: and stay unproven.
    const reference = qemuInfoChain(at('json.qcow2'), 'qcow2');
    expect(reference[0]?.['backing-filename']).toBe(json);
    expect(reference).toHaveLength(2);
    const j = resolveChain(view, { path: at('json.qcow2'), format: 'qcow2' });
    expect(j.kind === 'unprovable' && j.code).toBe('remote-backing');
    img('create', '-q', '-f', 'qcow2', '-u', '-b', 'nbd://localhost:10809/x', '-F', 'raw', 'nbd.qcow2', '1M');
    const n = resolveChain(view, { path: at('nbd.qcow2'), format: 'qcow2' });
    expect(n.kind === 'unprovable' && n.code).toBe('remote-backing');
  });

  it('loops, directly and through a symlink, are unprovable (qemu-img refuses them too)', () => {
    img('create', '-q', '-f', 'qcow2', 'la.qcow2', '1M');
    img('create', '-q', '-f', 'qcow2', '-b', 'la.qcow2', '-F', 'qcow2', 'lb.qcow2');
    img('rebase', '-u', '-f', 'qcow2', '-b', 'lb.qcow2', '-F', 'qcow2', 'la.qcow2');
    expect(() => qemuInfoChain(at('lb.qcow2'), 'qcow2')).toThrow(/infinite loop/);
    const r = resolveChain(view, { path: at('lb.qcow2'), format: 'qcow2' });
    expect(r.kind === 'unprovable' && r.code).toBe('loop');

    symlinkSync(at('sa.qcow2'), at('sa-link.qcow2'));
    img('create', '-q', '-f', 'qcow2', '-u', '-b', 'sa-link.qcow2', '-F', 'qcow2', 'sa.qcow2', '1M');
    expect(() => qemuInfoChain(at('sa.qcow2'), 'qcow2')).toThrow();
    const s = resolveChain(view, { path: at('sa.qcow2'), format: 'qcow2' });
    expect(s.kind === 'unprovable' && s.code).toBe('loop');
  });

  it('no recorded backing format: a probed raw base is followed, a probed base with its own backing is not', () => {
    img('create', '-q', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', 'probe-raw.qcow2');
    dropBackingFormat(at('probe-raw.qcow2'));
    expect(qemuInfoChain(at('probe-raw.qcow2'), 'qcow2')[0]).not.toHaveProperty('backing-filename-format');
    compare(at('probe-raw.qcow2'), 'qcow2');

    img('create', '-q', '-f', 'qcow2', '-b', 'v3.qcow2', '-F', 'qcow2', 'probe-deep.qcow2');
    dropBackingFormat(at('probe-deep.qcow2'));
    expect(referenceFiles(at('probe-deep.qcow2'), 'qcow2')).toHaveLength(3); // QEMU itself would follow it
    const r = resolveChain(view, { path: at('probe-deep.qcow2'), format: 'qcow2' });
    expect(r.kind === 'unprovable' && r.code).toBe('backing-format-unspecified');
  });

  it('the chain is read only for the format in <driver type>; absent means raw', () => {
    const r = resolveChain(view, { path: at('v3.qcow2'), format: undefined });
    expect(r.kind === 'chain' && r.files.map((f) => [f.path, f.format])).toEqual([[at('v3.qcow2'), 'raw']]);
    // qemu-img with -f raw sees no backing file either.
    expect(referenceFiles(at('v3.qcow2'), 'raw')).toHaveLength(1);
  });

  it('a chain of 200 images is followed, one of 201 is not (libvirt max depth)', () => {
    mkdirSync(at('deep'));
    writeFileSync(at('deep/l0.qcow2'), '');
    qemuImg('create', '-q', '-f', 'qcow2', at('deep/l0.qcow2'), '1M');
    for (let i = 1; i <= 200; i++) {
      qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', `l${i - 1}.qcow2`, '-F', 'qcow2', at(`deep/l${i}.qcow2`), '1M');
    }
    expect(compare(at('deep/l199.qcow2'), 'qcow2')).toHaveLength(200);
    const r = resolveChain(view, { path: at('deep/l200.qcow2'), format: 'qcow2' });
    expect(r.kind === 'unprovable' && r.code).toBe('too-deep');
  });

  it('a FIFO or /dev/zero whose header would have to be read is unprovable, and nothing hangs', () => {
    execFileSync('mkfifo', [at('fifo')]);
    img('create', '-q', '-f', 'qcow2', '-u', '-b', 'fifo', '-F', 'qcow2', 'fifo-top.qcow2', '1M');
    img('create', '-q', '-f', 'qcow2', '-u', '-b', '/dev/zero', '-F', 'qcow2', 'zero-top.qcow2', '1M');
    img('create', '-q', '-f', 'qcow2', '-u', '-b', '/dev/zero', '-F', 'raw', 'zero-probe.qcow2', '1M');
    dropBackingFormat(at('zero-probe.qcow2'));
    for (const top of ['fifo-top.qcow2', 'zero-top.qcow2', 'zero-probe.qcow2']) {
      const r = resolveChain(view, { path: at(top), format: 'qcow2' });
      expect(r.kind === 'unprovable' && r.code).toBe('unreadable-header');
    }
    // A raw backing file is never read, so even a FIFO is just a file for the access engines to judge.
    img('create', '-q', '-f', 'qcow2', '-u', '-b', 'fifo', '-F', 'raw', 'fifo-raw.qcow2', '1M');
    expect(files(resolveChain(view, { path: at('fifo-raw.qcow2'), format: 'qcow2' })).map((f) => f.path)).toEqual([
      at('fifo-raw.qcow2'),
      at('fifo'),
    ]);
  });

  it('a missing backing file makes the chain unprovable', () => {
    img('create', '-q', '-f', 'qcow2', '-u', '-b', 'nowhere.qcow2', '-F', 'qcow2', 'dangling.qcow2', '1M');
    const r = resolveChain(view, { path: at('dangling.qcow2'), format: 'qcow2' });
    expect(r.kind === 'unprovable' && r.code).toBe('unreadable-header');
  });
});
