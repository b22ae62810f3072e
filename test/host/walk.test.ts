/** The identity-independent walk: the trace of searches and follows, and how walks end. */
import { describe, expect, it } from 'vitest';
import { walkPath, type Walk } from '../../src/host/walk.js';
import { memoryView, type MemoryNode } from '../support/memory-view.js';

const trace = (w: Walk) =>
  w.steps.map((s) => (s.kind === 'search' ? `search ${s.dir.path}` : `follow ${s.link.path} -> ${s.target}${s.trailing ? ' (trailing)' : ''}`));

const tree: Record<string, MemoryNode> = {
  '/srv/images': { type: 'dir', mode: 0o755 },
  '/srv/images/a.iso': { type: 'file', mode: 0o644 },
  '/srv/link-rel': { type: 'symlink', target: 'images/a.iso' },
  '/srv/link-abs': { type: 'symlink', target: '/srv/images' },
  '/data': { type: 'symlink', target: '/srv/images/' },
  '/root-jump': { type: 'symlink', target: '///' },
};
const view = memoryView(tree);

describe('walkPath', () => {
  it('searches every directory before looking up the next component', () => {
    const w = walkPath(view, '/srv/images/a.iso');
    expect(trace(w)).toEqual(['search /', 'search /srv', 'search /srv/images']);
    expect(w.end).toMatchObject({ kind: 'found', file: { path: '/srv/images/a.iso', inode: { type: 'file', mode: 0o644 } } });
  });

  it('follows a relative trailing link from the directory that holds it (searched again)', () => {
    expect(trace(walkPath(view, '/srv/link-rel'))).toEqual([
      'search /',
      'search /srv',
      'follow /srv/link-rel -> images/a.iso (trailing)',
      'search /srv',
      'search /srv/images',
    ]);
  });

  it('restarts an absolute link at "/" and marks links in the middle as non-trailing', () => {
    const w = walkPath(view, '/srv/link-abs/a.iso');
    expect(trace(w)).toEqual(['search /', 'search /srv', 'follow /srv/link-abs -> /srv/images', 'search /', 'search /srv', 'search /srv/images']);
    expect(w.end).toMatchObject({ kind: 'found', file: { path: '/srv/images/a.iso' } });
  });

  it('resolves ".." physically, from where a symlink led, not textually', () => {
    expect(walkPath(view, '/data/../link-rel').end).toMatchObject({ kind: 'found', file: { path: '/srv/images/a.iso' } });
    expect(walkPath(view, '/../..').end).toMatchObject({ kind: 'found', file: { path: '/' } });
  });

  it('ends on "/" without searching anything, and a link of only slashes jumps there', () => {
    expect(walkPath(view, '/')).toEqual({ steps: [], end: { kind: 'found', file: { path: '/', inode: expect.objectContaining({ type: 'dir' }) } } });
    expect(walkPath(view, '/root-jump/srv').end).toMatchObject({ kind: 'found', file: { path: '/srv' } });
  });

  it('reports ENOENT, ENOTDIR (also for a trailing slash on a file), at the failing path', () => {
    expect(walkPath(view, '/srv/nope/x').end).toEqual({ kind: 'error', errno: 'ENOENT', at: '/srv/nope' });
    expect(walkPath(view, '/srv/images/a.iso/x').end).toEqual({ kind: 'error', errno: 'ENOTDIR', at: '/srv/images/a.iso' });
    expect(walkPath(view, '/srv/images/a.iso/').end).toEqual({ kind: 'error', errno: 'ENOTDIR', at: '/srv/images/a.iso' });
    expect(walkPath(view, '/srv/link-rel/').end).toEqual({ kind: 'error', errno: 'ENOTDIR', at: '/srv/images/a.iso' });
    expect(walkPath(view, '').end).toMatchObject({ kind: 'error', errno: 'ENOENT' });
  });

  it('follows exactly 40 links and fails the 41st with ELOOP', () => {
    const chain = (n: number) => {
      const t: Record<string, MemoryNode> = { '/f': { type: 'file', mode: 0o644 } };
      for (let i = 0; i < n; i++) t[`/l${i}`] = { type: 'symlink', target: i + 1 < n ? `l${i + 1}` : '/f' };
      return memoryView(t);
    };
    expect(walkPath(chain(40), '/l0').end).toMatchObject({ kind: 'found', file: { path: '/f' } });
    expect(walkPath(chain(41), '/l0').end).toEqual({ kind: 'error', errno: 'ELOOP', at: '/l40' });
    expect(walkPath(memoryView({ '/me': { type: 'symlink', target: 'me' } }), '/me').end).toMatchObject({ errno: 'ELOOP' });
  });

  it('limits names to 255 bytes and paths to 4095 bytes, counted in UTF-8', () => {
    expect(walkPath(view, `/srv/${'x'.repeat(255)}`).end).toMatchObject({ errno: 'ENOENT' });
    expect(walkPath(view, `/srv/${'x'.repeat(256)}`).end).toMatchObject({ errno: 'ENAMETOOLONG' });
    expect(walkPath(view, `/srv/${'é'.repeat(128)}`).end).toMatchObject({ errno: 'ENAMETOOLONG' });
    expect(walkPath(view, `/${'./'.repeat(2047)}`).end).toMatchObject({ kind: 'found', file: { path: '/' } });
    expect(walkPath(view, `/${'./'.repeat(2047)}.`).end).toMatchObject({ errno: 'ENAMETOOLONG' });
  });

  it('answers unknown for what it cannot resolve', () => {
    expect(walkPath(view, 'relative/path').end).toMatchObject({ kind: 'unknown' });
    expect(walkPath(view, '/srv/\0x').end).toMatchObject({ kind: 'unknown' });
    const v = memoryView({ '/nfs': { type: 'unknown', why: 'EACCES' }, '/empty': { type: 'symlink', target: '' } });
    expect(walkPath(v, '/nfs/x').end).toEqual({ kind: 'unknown', at: '/nfs', why: 'EACCES' });
    expect(walkPath(v, '/empty').end).toMatchObject({ kind: 'unknown' });
  });

  it('stays bounded on hostile input: huge link bodies, many components', () => {
    const body = 'a/'.repeat(2000);
    const v = memoryView({ '/l': { type: 'symlink', target: body }, '/a': { type: 'symlink', target: '.' } });
    const w = walkPath(v, '/l');
    expect(w.end).toMatchObject({ kind: 'error', errno: 'ELOOP' });
    expect(w.steps.length).toBeLessThan(200);
    expect(walkPath(view, `/${'./'.repeat(2000)}srv`).end).toMatchObject({ kind: 'found', file: { path: '/srv' } });
  });
});
