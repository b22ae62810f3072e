/**
 * The grant planner on in-memory trees: the smallest edit per inode, the mask only as wide as needed
 * (and the entries it widens named), refusals where ACLs cannot help, and the applier's refusals
 * through a recording fake.
 */
import { describe, expect, it } from 'vitest';
import { entryText } from '../../src/dac/acl.js';
import { planAclEdit } from '../../src/dac/acl-grant.js';
import { applyGrants, type GrantEffects, type HeldInode } from '../../src/dac/grant-apply.js';
import { GrantPlanner, type AclSupportProbe } from '../../src/dac/grant-plan.js';
import type { QemuIdentity } from '../../src/dac/identity.js';
import { MAY_EXEC, MAY_READ, MAY_WRITE } from '../../src/dac/permission.js';
import type { Acl } from '../../src/dac/acl.js';
import { memoryView, parseAclText, type MemoryNode } from '../support/memory-view.js';

const QEMU: QemuIdentity = { uid: 64055, gid: 107, groups: [107, 64055], userName: 'libvirt-qemu' };
const yes: AclSupportProbe = () => ({ kind: 'yes' });
const text = (acl: Acl) => acl.map(entryText).join(',');

function plan(tree: Record<string, MemoryNode>, path: string, want: 'read' | 'readwrite' = 'read', probe = yes, mountinfo?: string) {
  const view = memoryView(tree, mountinfo ? { text: { '/proc/self/mountinfo': mountinfo } } : {});
  const p = new GrantPlanner(view, QEMU, probe);
  return { file: p.planFile(path, want), changes: p.changes() };
}

describe('planAclEdit: one inode', () => {
  const inode = (mode: number, uid = 1000) => ({ type: 'dir' as const, mode, uid, gid: 1000 });

  it('no ACL: a named entry and a mask covering the owning group exactly as before', () => {
    const r = planAclEdit(inode(0o750), { kind: 'none' }, QEMU, MAY_EXEC);
    expect(r.ok && text(r.edit.after)).toBe('user::rwx,user:64055:--x,group::r-x,mask::r-x,other::---');
    expect(r.ok && r.edit.widens).toEqual([]);
    expect(r.ok && r.edit.mode).toBe(0o750);
  });

  it('0700: the mask becomes --x, the owning group keeps ---', () => {
    const r = planAclEdit(inode(0o700), { kind: 'none' }, QEMU, MAY_EXEC);
    expect(r.ok && text(r.edit.after)).toBe('user::rwx,user:64055:--x,group::---,mask::--x,other::---');
    expect(r.ok && r.edit.mode).toBe(0o710);
  });

  it('an existing ACL: the mask widens by the needed bit only, and says whom that widens', () => {
    const acl = parseAclText('u::rwx,u:2000:rwx,g::rwx,g:3000:r-x,m::r--,o::---');
    const r = planAclEdit(inode(0o740), { kind: 'acl', acl }, QEMU, MAY_EXEC);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(text(r.edit.after)).toBe('user::rwx,user:2000:rwx,user:64055:--x,group::rwx,group:3000:r-x,mask::r-x,other::---');
    expect(r.edit.widens.map((w) => entryText(w.entry))).toEqual(['user:2000:rwx', 'group::rwx', 'group:3000:r-x']);
  });

  it('a masked entry for the identity: only the mask widens', () => {
    const acl = parseAclText('u::rw-,u:64055:r--,g::---,m::---,o::---');
    // mask::--- with named entries is refused (the kernel ignores that ACL) ...
    expect(planAclEdit({ type: 'file', mode: 0o600, uid: 1000, gid: 1000 }, { kind: 'acl', acl }, QEMU, MAY_READ).ok).toBe(false);
    // ... but a mask that is merely narrower is widened alone.
    const acl2 = parseAclText('u::rw-,u:64055:r--,g::-w-,m::-w-,o::---');
    const r = planAclEdit({ type: 'file', mode: 0o620, uid: 1000, gid: 1000 }, { kind: 'acl', acl: acl2 }, QEMU, MAY_READ);
    expect(r.ok && r.edit.entry).toBeUndefined();
    expect(r.ok && r.edit.mask).toEqual({ from: 2, to: 6 });
  });

  it('a group the identity is in carries the bits: the mask alone (no user entry needed)', () => {
    const acl = parseAclText('u::rw-,g::---,g:107:r--,m::---,o::---');
    // (mask --- with a named group: refused; same with a narrower mask that lets the group through)
    expect(planAclEdit({ type: 'file', mode: 0o600, uid: 1000, gid: 1000 }, { kind: 'acl', acl }, QEMU, MAY_READ).ok).toBe(false);
    const acl2 = parseAclText('u::rw-,g::---,g:107:rw-,m::-w-,o::---');
    const r = planAclEdit({ type: 'file', mode: 0o620, uid: 1000, gid: 1000 }, { kind: 'acl', acl: acl2 }, QEMU, MAY_READ);
    expect(r.ok && text(r.edit.after)).toBe('user::rw-,group::---,group:107:rw-,mask::rw-,other::---');
  });

  it('read-write: rw- on the entry, the mask widened by what it lacks', () => {
    const r = planAclEdit({ type: 'file', mode: 0o640, uid: 1000, gid: 1000 }, { kind: 'none' }, QEMU, MAY_READ | MAY_WRITE);
    expect(r.ok && text(r.edit.after)).toBe('user::rw-,user:64055:rw-,group::r--,mask::rw-,other::---');
  });

  it('refuses when the identity owns the inode (ACLs never apply to the owner)', () => {
    const r = planAclEdit({ type: 'file', mode: 0o200, uid: 64055, gid: 0 }, { kind: 'none' }, QEMU, MAY_READ);
    expect(r.ok ? '' : r.why).toMatch(/owns it.*chmod u\+r/);
  });
});

describe('GrantPlanner: the whole walk', () => {
  const tree: Record<string, MemoryNode> = {
    '/home/alice': { type: 'dir', mode: 0o700, uid: 1000, gid: 1000 },
    '/home/alice/Downloads': { type: 'dir', mode: 0o755, uid: 1000, gid: 1000 },
    '/home/alice/Downloads/x.iso': { type: 'file', mode: 0o600, uid: 1000, gid: 1000 },
    '/srv/link.iso': { type: 'symlink', target: '/home/alice/Downloads/x.iso' },
    '/srv/ok.iso': { type: 'file', mode: 0o644 },
  };

  it('edits exactly the blocking directory and the file, nothing already searchable', () => {
    const r = plan(tree, '/home/alice/Downloads/x.iso');
    expect(r.file.outcome).toBe('grant');
    expect(r.changes.map((c) => `${c.path} ${text(c.after)}`)).toEqual([
      '/home/alice user::rwx,user:64055:--x,group::---,mask::--x,other::---',
      '/home/alice/Downloads/x.iso user::rw-,user:64055:r--,group::---,mask::r--,other::---',
    ]);
  });

  it('through a symlink: the physical path is what gets edited', () => {
    const r = plan(tree, '/srv/link.iso');
    expect(r.changes.map((c) => c.path)).toEqual(['/home/alice', '/home/alice/Downloads/x.iso']);
  });

  it('an accessible file gets nothing', () => {
    const r = plan(tree, '/srv/ok.iso');
    expect(r.file.outcome).toBe('accessible');
    expect(r.changes).toEqual([]);
  });

  it('refuses on NFS, on a read-only mount, without ACL support, and for a missing file, and keeps no edit', () => {
    const nfs = '1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 0:5 / /home rw - nfs4 srv:/home rw\n';
    expect(plan(tree, '/home/alice/Downloads/x.iso', 'read', yes, nfs)).toMatchObject({ file: { outcome: 'refused', reason: expect.stringMatching(/nfs4/) }, changes: [] });
    const ro = '1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 8:2 / /home ro - ext4 /dev/sda2 rw\n';
    expect(plan(tree, '/home/alice/Downloads/x.iso', 'read', yes, ro)).toMatchObject({ file: { outcome: 'refused', reason: expect.stringMatching(/read-only mount \/home/) }, changes: [] });
    const no: AclSupportProbe = () => ({ kind: 'no', why: 'EOPNOTSUPP' });
    expect(plan(tree, '/home/alice/Downloads/x.iso', 'read', no)).toMatchObject({ file: { outcome: 'refused', reason: expect.stringMatching(/does not support POSIX ACLs/) }, changes: [] });
    expect(plan(tree, '/home/alice/nope.iso')).toMatchObject({ file: { outcome: 'refused' }, changes: [] });
  });

  it('two needs on one inode are merged into one edit', () => {
    const view = memoryView(tree);
    const p = new GrantPlanner(view, QEMU, yes);
    p.planFile('/home/alice/Downloads/x.iso', 'read');
    p.planFile('/home/alice/Downloads/x.iso', 'readwrite');
    expect(p.changes().map((c) => `${c.path} ${text(c.after)}`)).toEqual([
      '/home/alice user::rwx,user:64055:--x,group::---,mask::--x,other::---',
      '/home/alice/Downloads/x.iso user::rw-,user:64055:rw-,group::---,mask::rw-,other::---',
    ]);
  });
});

describe('applyGrants through a recording fake', () => {
  function fake(state: Record<string, { inode: HeldInode; acl: Acl | null }>, fail?: string) {
    const calls: string[] = [];
    const fx: GrantEffects<string> = {
      open: (p) => (state[p] ? { ok: true, value: p } : { ok: false, why: `${p} is now a symbolic link` }),
      stat: (h) => ({ ok: true, value: state[h]!.inode }),
      readAcl: (h) => ({ ok: true, value: state[h]!.acl }),
      modifyAcl(h, spec) {
        calls.push(`${h} ${spec}`);
        if (h === fail) return { ok: false, why: 'Operation not permitted' };
        return { ok: true, value: undefined };
      },
      close: () => undefined,
    };
    return { fx, calls };
  }
  const tree: Record<string, MemoryNode> = {
    '/a': { type: 'dir', mode: 0o700, uid: 1000, gid: 1000 },
    '/a/b': { type: 'dir', mode: 0o700, uid: 1000, gid: 1000 },
    '/a/b/x.iso': { type: 'file', mode: 0o600, uid: 1000, gid: 1000 },
  };
  const changes = plan(tree, '/a/b/x.iso').changes;
  const held = (mode: number, type: 'dir' | 'file' = 'dir'): HeldInode => ({ type, mode, uid: 1000, gid: 1000, dev: 1, ino: 1 });

  it('refuses an inode that changed since the plan and attempts nothing after it', () => {
    const { fx, calls } = fake({ '/a': { inode: held(0o700), acl: null }, '/a/b': { inode: held(0o755), acl: null }, '/a/b/x.iso': { inode: held(0o600, 'file'), acl: null } });
    const out = applyGrants(changes, fx, 64055);
    expect(out.map((o) => o.status)).toEqual(['failed', 'not-attempted', 'not-attempted']);
    // The fake never changes its ACL: the read-back shows it, and the run stops.
    expect(calls).toEqual(['/a u:64055:--x,m::--x']);
  });

  it('a failure in the middle: what was applied is listed, the failing change and the rest are named', () => {
    // A fake that really keeps ACLs, so the read-back of a successful change matches the plan.
    const state = new Map<string, Acl | null>([['/a', null], ['/a/b', null], ['/a/b/x.iso', null]]);
    const modes = new Map<string, number>([['/a', 0o700], ['/a/b', 0o700], ['/a/b/x.iso', 0o600]]);
    const calls: string[] = [];
    const fx: GrantEffects<string> = {
      open: (p) => ({ ok: true, value: p }),
      stat: (h) => ({ ok: true, value: { type: h.endsWith('.iso') ? 'file' : 'dir', mode: modes.get(h)!, uid: 1000, gid: 1000, dev: 1, ino: 1 } }),
      readAcl: (h) => ({ ok: true, value: state.get(h)! }),
      modifyAcl(h, spec) {
        calls.push(`${h} ${spec}`);
        if (h === '/a/b') return { ok: false, why: 'Operation not permitted' };
        const g = changes.find((c) => c.path === h)!;
        state.set(h, g.after);
        modes.set(h, g.mode);
        return { ok: true, value: undefined };
      },
      close: () => undefined,
    };
    const out = applyGrants(changes, fx, 64055);
    expect(out).toEqual([
      { path: '/a', status: 'applied', spec: 'u:64055:--x,m::--x' },
      { path: '/a/b', status: 'failed', why: 'Operation not permitted', changed: false },
      { path: '/a/b/x.iso', status: 'not-attempted' },
    ]);
    expect(calls).toEqual(['/a u:64055:--x,m::--x', '/a/b u:64055:--x,m::--x']);
  });

  it('refuses a path that became a symlink, before changing anything', () => {
    const { fx, calls } = fake({});
    expect(applyGrants(changes, fx, 64055).map((o) => o.status)).toEqual(['refused', 'not-attempted', 'not-attempted']);
    expect(calls).toEqual([]);
  });

  it('refuses a changed mode or ACL', () => {
    const { fx, calls } = fake({ '/a': { inode: held(0o750), acl: null } });
    expect(applyGrants(changes, fx, 64055)[0]).toMatchObject({ status: 'refused', why: expect.stringMatching(/mode is now 750/) });
    const { fx: fx2 } = fake({ '/a': { inode: held(0o700), acl: parseAclText('u::rwx,u:5:r--,g::---,m::r--,o::---') } });
    expect(applyGrants(changes, fx2, 64055)[0]).toMatchObject({ status: 'refused', why: expect.stringMatching(/ACL/) });
    expect(calls).toEqual([]);
  });

  it('reports a setfacl failure and whether the ACL changed', () => {
    const { fx } = fake({ '/a': { inode: held(0o700), acl: null } }, '/a');
    expect(applyGrants(changes, fx, 64055)[0]).toMatchObject({ status: 'failed', why: 'Operation not permitted', changed: false });
  });
});

describe('links planted by another user', () => {
  it('refuses to edit an inode reached through a link its owner did not make', () => {
    const tree: Record<string, MemoryNode> = {
      '/etc/shadow': { type: 'file', mode: 0o640, uid: 0, gid: 42 },
      '/home/alice': { type: 'dir', mode: 0o755, uid: 1000, gid: 1000 },
      '/home/alice/x.iso': { type: 'symlink', target: '/etc/shadow', uid: 1000, gid: 1000 },
      '/home/alice/own.iso': { type: 'symlink', target: '/home/alice/real.iso', uid: 1000, gid: 1000 },
      '/home/alice/real.iso': { type: 'file', mode: 0o600, uid: 1000, gid: 1000 },
    };
    expect(plan(tree, '/home/alice/x.iso')).toMatchObject({ file: { outcome: 'refused', reason: expect.stringMatching(/symbolic link \/home\/alice\/x.iso, owned by uid 1000/) }, changes: [] });
    expect(plan(tree, '/home/alice/own.iso').changes.map((c) => c.path)).toEqual(['/home/alice/real.iso']);
  });
});
