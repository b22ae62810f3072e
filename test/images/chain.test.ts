/** Chain rules that need no qemu-img: declared <backingStore>, name resolution, probing, limits. */
import { describe, expect, it } from 'vitest';
import { locateBacking } from '../../src/images/backing-name.js';
import { resolveChain, type ChainResult } from '../../src/images/chain.js';
import { EXT_BACKING_FORMAT, EXT_DATA_FILE, imagesView, qcow2 } from './builders.js';

const raw = new Uint8Array(4096);
const paths = (r: ChainResult) => (r.kind === 'chain' ? r.files.map((f) => `${f.role}:${f.path}:${f.format}:${f.access}`) : r.code);

describe('backing names', () => {
  it.each([
    ['base.raw', '/a/top.qcow2', { kind: 'file', path: '/a/base.raw' }],
    ['../b/base.raw', '/a/top.qcow2', { kind: 'file', path: '/a/../b/base.raw' }],
    ['/abs/base', '/a/top.qcow2', { kind: 'file', path: '/abs/base' }],
    ['base.raw', '/top.qcow2', { kind: 'file', path: '/base.raw' }],
    ['./nbd:x', '/a/t', { kind: 'file', path: '/a/./nbd:x' }],
    ['nbd:localhost:10809', '/a/t', { kind: 'remote', protocol: 'nbd' }],
    ['http://h/x.img', '/a/t', { kind: 'remote', protocol: 'http' }],
    ['json:{"file":{"filename":"/x"}}', '/a/t', { kind: 'remote', protocol: 'json' }],
    ['', '/a/t', { kind: 'none' }],
  ])('%s named by %s', (name, referrer, expected) => {
    expect(locateBacking(name, referrer)).toEqual(expected);
  });
});

describe('resolveChain', () => {
  const top = qcow2({ extensions: [[EXT_BACKING_FORMAT, 'raw']], backingName: 'base.raw' });

  it('follows the header when no <backingStore> is written', () => {
    const view = imagesView({ '/i/top.qcow2': top, '/i/base.raw': raw });
    expect(paths(resolveChain(view, { path: '/i/top.qcow2', format: 'qcow2', access: 'read' }))).toEqual([
      'image:/i/top.qcow2:qcow2:read',
      'image:/i/base.raw:raw:read',
    ]);
  });

  it('defaults the top access to readwrite when the caller does not say', () => {
    const view = imagesView({ '/i/top.qcow2': top, '/i/base.raw': raw });
    const r = resolveChain(view, { path: '/i/top.qcow2', format: 'qcow2' });
    expect(r.kind === 'chain' && r.files[0]?.access).toBe('readwrite');
  });

  it('an empty <backingStore/> ends the chain even though the header names a backing file', () => {
    const view = imagesView({ '/i/top.qcow2': top });
    expect(paths(resolveChain(view, { path: '/i/top.qcow2', format: 'qcow2', access: 'read', declared: { kind: 'none' } }))).toEqual([
      'image:/i/top.qcow2:qcow2:read',
    ]);
  });

  it('a written <backingStore> replaces the header, and its last layer is read from its own header', () => {
    const mid = qcow2({ extensions: [[EXT_BACKING_FORMAT, 'raw']], backingName: 'deep.raw' });
    const view = imagesView({ '/i/top.qcow2': top, '/x/mid.qcow2': mid, '/x/deep.raw': raw });
    const r = resolveChain(view, {
      path: '/i/top.qcow2',
      format: 'qcow2',
      access: 'read',
      declared: { kind: 'layer', type: 'file', format: 'qcow2', path: '/x/mid.qcow2', next: undefined },
    });
    expect(paths(r)).toEqual(['image:/i/top.qcow2:qcow2:read', 'image:/x/mid.qcow2:qcow2:read', 'image:/x/deep.raw:raw:read']);
  });

  it.each([
    [{ kind: 'layer', type: 'network', format: 'raw', path: undefined, next: undefined }],
    [{ kind: 'layer', type: 'file', format: undefined, path: '/x/b', next: undefined }],
    [{ kind: 'layer', type: 'file', format: 'raw', path: 'relative', next: undefined }],
  ] as const)('a written <backingStore> that is not a local file with a format is unprovable', (declared) => {
    const view = imagesView({ '/i/top.qcow2': top });
    expect(paths(resolveChain(view, { path: '/i/top.qcow2', format: 'qcow2', declared }))).toBe('declared-backing-unsupported');
  });

  it('a data file of a writable top needs readwrite; of a backing image, read', () => {
    const withData = (name: string) =>
      qcow2({ incompatible: 4n, extensions: [[EXT_BACKING_FORMAT, 'qcow2'], [EXT_DATA_FILE, name]], backingName: 'b.qcow2' });
    const base = qcow2({ incompatible: 4n, extensions: [[EXT_DATA_FILE, '/d/b.data']] });
    const view = imagesView({ '/i/t.qcow2': withData('/d/t.data'), '/i/b.qcow2': base });
    expect(paths(resolveChain(view, { path: '/i/t.qcow2', format: 'qcow2', access: 'readwrite' }))).toEqual([
      'image:/i/t.qcow2:qcow2:readwrite',
      'data-file:/d/t.data:raw:readwrite',
      'image:/i/b.qcow2:qcow2:read',
      'data-file:/d/b.data:raw:read',
    ]);
  });

  it('a loop through a symlinked directory is found', () => {
    const a = qcow2({ extensions: [[EXT_BACKING_FORMAT, 'qcow2']], backingName: '/alias/a.qcow2' });
    const view = imagesView({ '/i/a.qcow2': a, '/alias': { link: '/i' } });
    expect(paths(resolveChain(view, { path: '/i/a.qcow2', format: 'qcow2' }))).toBe('loop');
  });

  it('formats without a chain are one file; unknown formats are unprovable; an unreadable top is unprovable', () => {
    const view = imagesView({});
    expect(paths(resolveChain(view, { path: '/i/cd.iso', format: 'iso', access: 'read' }))).toEqual(['image:/i/cd.iso:iso:read']);
    expect(paths(resolveChain(view, { path: '/i/x', format: 'ploop' }))).toBe('unsupported-format');
    expect(paths(resolveChain(view, { path: '/i/missing.qcow2', format: 'qcow2' }))).toBe('unreadable-header');
  });

  it('a header the view cannot read (unknown) is unprovable', () => {
    const view = { ...imagesView({ '/i/t.qcow2': top }), readBytes: () => ({ kind: 'unknown', why: 'snapshot has no bytes' }) as const };
    const r = resolveChain(view, { path: '/i/t.qcow2', format: 'qcow2' });
    expect(r.kind === 'unprovable' && [r.code, r.reason]).toEqual(['unreadable-header', expect.stringMatching(/snapshot has no bytes/)]);
  });
});
