/**
 * The classic situations, on in-memory trees. Expected outcomes are the kernel's (each shape also
 * occurs in the kernel differential, which is where the engine's rules are proven against Linux).
 */
import { describe, expect, it } from 'vitest';
import { checkDacAccess, type DacVerdict } from '../../src/dac/check.js';
import { accountNames, parseGroup, parsePasswd } from '../../src/host/accounts.js';
import type { QemuIdentity } from '../../src/dac/identity.js';
import { ok, unknown, type HostView, type KernelAnswer, type KernelAsk } from '../../src/host/view.js';
import { memoryView, type MemoryNode, type MemoryViewOptions } from '../support/memory-view.js';
import { CLASSIC_CASES } from './support/classic-cases.js';

const accounts = {
  passwd: parsePasswd('root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nlibvirt-qemu:x:64055:107::/var/lib/libvirt:/usr/sbin/nologin\n'),
  groups: parseGroup('root:x:0:\ndisk:x:6:\nkvm:x:107:\nalice:x:1000:\nlibvirt-qemu:x:64055:libvirt-qemu\n'),
};
const names = accountNames(accounts);
const qemu: QemuIdentity = { uid: 64055, gid: 64055, groups: [107, 64055], userName: 'libvirt-qemu', groupName: 'libvirt-qemu' };
const rootNoCaps: QemuIdentity = { uid: 0, gid: 0, groups: [0], userName: 'root' };

function check(tree: Record<string, MemoryNode>, path: string, want: 'read' | 'readwrite', id = qemu, opts: MemoryViewOptions = {}): DacVerdict {
  return checkDacAccess(memoryView(tree, opts), id, path, want, { names });
}

const home = {
  '/home': { type: 'dir', mode: 0o755 },
  '/home/alice': { type: 'dir', mode: 0o700, uid: 1000, gid: 1000 },
  '/home/alice/a.iso': { type: 'file', mode: 0o644, uid: 1000, gid: 1000 },
} as const satisfies Record<string, MemoryNode>;

const images = {
  '/var/lib/libvirt/images': { type: 'dir', mode: 0o711 },
} as const satisfies Record<string, MemoryNode>;

describe('checkDacAccess: classic situations', () => {
  it('a world-readable ISO under a 0700 home directory: the directory blocks, a chown would not help', () => {
    const v = check(home, '/home/alice/a.iso', 'read');
    expect(v).toMatchObject({
      accessible: false,
      errno: 'EACCES',
      blocking: { path: '/home/alice', needed: 'search' },
      reason: '/home/alice (drwx------ alice:alice): libvirt-qemu cannot search (other ---)',
      dirBlocked: { path: '/home/alice', suggestion: 'setfacl -m u:libvirt-qemu:x /home/alice', fileAccessible: true },
    });
  });

  it('the same ISO once the home directory has u:libvirt-qemu:x', () => {
    const v = check({ ...home, '/home/alice': { ...home['/home/alice'], mode: 0o710, acl: 'u::rwx,u:64055:--x,g::---,m::--x,o::---' } }, '/home/alice/a.iso', 'read');
    expect(v).toMatchObject({ accessible: true, file: { path: '/home/alice/a.iso' } });
  });

  it('a 0644 ISO in /var/lib/libvirt/images: readable, not writable', () => {
    const tree = { ...images, '/var/lib/libvirt/images/a.iso': { type: 'file', mode: 0o644 } } as const;
    const read = check(tree, '/var/lib/libvirt/images/a.iso', 'read');
    expect(read.accessible).toBe(true);
    if (read.accessible) expect(read.because).toContain('other r--');
    expect(check(tree, '/var/lib/libvirt/images/a.iso', 'readwrite')).toMatchObject({
      accessible: false,
      errno: 'EACCES',
      blocking: { path: '/var/lib/libvirt/images/a.iso', needed: 'read+write' },
      reason: '/var/lib/libvirt/images/a.iso (-rw-r--r-- root:root): libvirt-qemu cannot read and write (other r--)',
    });
    expect(check(tree, '/var/lib/libvirt/images/a.iso', 'readwrite')).not.toHaveProperty('dirBlocked');
  });

  it('a 0660 disk owned by the qemu group is read-write through the group class', () => {
    const v = check({ ...images, '/var/lib/libvirt/images/d.img': { type: 'file', mode: 0o660, gid: 64055 } }, '/var/lib/libvirt/images/d.img', 'readwrite');
    expect(v.accessible).toBe(true);
    if (v.accessible) expect(v.because).toContain('group rw-');
  });

  it('an ACL u:libvirt-qemu:r on a 0600 file grants read only', () => {
    const tree = { ...images, '/var/lib/libvirt/images/a.iso': { type: 'file', mode: 0o640, acl: 'u::rw-,u:64055:r--,g::---,m::r--,o::---' } } as const;
    expect(check(tree, '/var/lib/libvirt/images/a.iso', 'read')).toMatchObject({ accessible: true, because: expect.stringContaining('ACL user:64055:r-- masked by r--') });
    expect(check(tree, '/var/lib/libvirt/images/a.iso', 'readwrite')).toMatchObject({ accessible: false, errno: 'EACCES' });
  });

  it('a mask cuts a named-user entry', () => {
    const tree = { ...images, '/var/lib/libvirt/images/d.img': { type: 'file', mode: 0o640, acl: 'u::rw-,u:64055:rw-,g::r--,m::r--,o::---' } } as const;
    expect(check(tree, '/var/lib/libvirt/images/d.img', 'readwrite')).toMatchObject({
      accessible: false,
      reason: expect.stringContaining('ACL user:64055:rw- masked by r--'),
    });
  });

  it('an empty mask makes the kernel skip the ACL: the named user gets the "other" bits (not what POSIX.1e says)', () => {
    const tree = { ...images, '/var/lib/libvirt/images/d.img': { type: 'file', mode: 0o604, acl: 'u::rw-,u:64055:---,g::---,m::---,o::r--' } } as const;
    expect(check(tree, '/var/lib/libvirt/images/d.img', 'read')).toMatchObject({ accessible: true, because: expect.stringContaining('other r--') });
  });

  it('a matching group entry that lacks the access denies, even when "other" would grant it', () => {
    const tree = { ...images, '/var/lib/libvirt/images/d.img': { type: 'file', mode: 0o654, acl: 'u::rw-,g::r--,g:107:---,m::r-x,o::r--' } } as const;
    expect(check(tree, '/var/lib/libvirt/images/d.img', 'read')).toMatchObject({ accessible: false, reason: expect.stringContaining('group:107:---') });
    expect(check(tree, '/var/lib/libvirt/images/d.img', 'read', { ...qemu, groups: [64055] })).toMatchObject({ accessible: true, because: expect.stringContaining('ACL other:') });
    // Any matching group entry that grants it is enough.
    const twoGroups = { ...images, '/var/lib/libvirt/images/d.img': { type: 'file', mode: 0o650, acl: 'u::rw-,g::---,g:107:---,g:64055:r--,m::r-x,o::---' } } as const;
    expect(check(twoGroups, '/var/lib/libvirt/images/d.img', 'read').accessible).toBe(true);
  });

  it('mode 0604 shuts out the owning group even though "other" may read', () => {
    const tree = { ...images, '/var/lib/libvirt/images/a.iso': { type: 'file', mode: 0o604, gid: 107 } } as const;
    expect(check(tree, '/var/lib/libvirt/images/a.iso', 'read')).toMatchObject({ accessible: false, reason: expect.stringContaining('(group ---)') });
    expect(check({ ...tree, '/var/lib/libvirt/images/a.iso': { type: 'file', mode: 0o604, gid: 6 } }, '/var/lib/libvirt/images/a.iso', 'read').accessible).toBe(true);
  });

  it('mode 0060 grants only the owning group', () => {
    const tree = { ...images, '/var/lib/libvirt/images/d.img': { type: 'file', mode: 0o060, gid: 107 } } as const;
    expect(check(tree, '/var/lib/libvirt/images/d.img', 'readwrite').accessible).toBe(true);
    expect(check(tree, '/var/lib/libvirt/images/d.img', 'readwrite', { ...qemu, groups: [64055] }).accessible).toBe(false);
  });

  it('the owner gets only the owner bits: 0077 locks the qemu user out of its own file', () => {
    const tree = { ...images, '/var/lib/libvirt/images/d.img': { type: 'file', mode: 0o077, uid: 64055 } } as const;
    expect(check(tree, '/var/lib/libvirt/images/d.img', 'read')).toMatchObject({ accessible: false, reason: expect.stringContaining('(owner ---)') });
  });

  it('uid 0 has no capabilities in QEMU: a 0600 file of alice is denied to root', () => {
    const tree = { ...images, '/var/lib/libvirt/images/d.img': { type: 'file', mode: 0o600, uid: 1000, gid: 1000 } } as const;
    expect(check(tree, '/var/lib/libvirt/images/d.img', 'read', rootNoCaps)).toMatchObject({ accessible: false, errno: 'EACCES' });
  });

  it('a symlink into a private home: the home directory blocks, reached through the link', () => {
    const tree = { ...home, '/srv/iso': { type: 'symlink', target: '/home/alice/a.iso' } } as const;
    expect(check(tree, '/srv/iso', 'read')).toMatchObject({ accessible: false, blocking: { path: '/home/alice' } });
  });

  it('a missing file is not accessible, with an actionable reason', () => {
    expect(check(images, '/var/lib/libvirt/images/gone.iso', 'read')).toMatchObject({
      accessible: false,
      errno: 'ENOENT',
      blocking: { path: '/var/lib/libvirt/images/gone.iso', inode: null, needed: 'exist' },
      reason: '/var/lib/libvirt/images/gone.iso does not exist',
    });
  });

  it('a symlink loop ends in ELOOP', () => {
    const tree = { '/a': { type: 'symlink', target: 'b' }, '/b': { type: 'symlink', target: '/a' } } as const;
    expect(check(tree, '/a', 'read')).toMatchObject({ accessible: false, errno: 'ELOOP' });
  });

  it('a directory as the disk: readable, but EISDIR for read-write', () => {
    expect(check(images, '/var/lib/libvirt/images', 'readwrite')).toMatchObject({ accessible: false, errno: 'EISDIR' });
  });

  it('block devices: the group grants, a nodev mount refuses before any permission check', () => {
    const tree = { '/dev/sdb': { type: 'block', mode: 0o660, gid: 6 } } as const;
    expect(check(tree, '/dev/sdb', 'readwrite').accessible).toBe(false);
    expect(check(tree, '/dev/sdb', 'readwrite', { ...qemu, groups: [...qemu.groups, 6] }).accessible).toBe(true);
    const nodev = { text: { '/proc/self/mountinfo': '1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 0:5 / /dev rw,nosuid,nodev - devtmpfs udev rw\n' } };
    expect(check(tree, '/dev/sdb', 'readwrite', { ...qemu, groups: [6] }, nodev)).toMatchObject({ accessible: false, errno: 'EACCES', blocking: { needed: 'device-mount' } });
  });

  it('read-only mounts: EROFS for read-write, reading unaffected', () => {
    const tree = { '/mnt/ro/d.img': { type: 'file', mode: 0o666 } } as const;
    const ro = { text: { '/proc/self/mountinfo': '1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 8:2 / /mnt/ro ro,relatime - ext4 /dev/sda2 ro\n' } };
    expect(check(tree, '/mnt/ro/d.img', 'readwrite', qemu, ro)).toMatchObject({ accessible: false, errno: 'EROFS' });
    expect(check(tree, '/mnt/ro/d.img', 'read', qemu, ro).accessible).toBe(true);
  });

  it('a nosymfollow mount refuses every symlink with ELOOP', () => {
    const tree = { '/mnt/x/l': { type: 'symlink', target: '/f' }, '/f': { type: 'file', mode: 0o644 } } as const;
    const nosym = { text: { '/proc/self/mountinfo': '1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 8:2 / /mnt/x rw,nosymfollow - ext4 /dev/sda2 rw\n' } };
    expect(check(tree, '/mnt/x/l', 'read', qemu, nosym)).toMatchObject({ accessible: false, errno: 'ELOOP', blocking: { needed: 'follow' } });
  });

  it('fs.protected_symlinks: a trailing link of alice in sticky world-writable /tmp, followed by qemu', () => {
    const tree = {
      '/tmp': { type: 'dir', mode: 0o1777 },
      '/tmp/l': { type: 'symlink', target: '/srv/a.iso', uid: 1000 },
      '/srv/a.iso': { type: 'file', mode: 0o644 },
    } as const;
    const sysctl = (v: string | null) => ({ text: { '/proc/sys/fs/protected_symlinks': v } });
    expect(check(tree, '/tmp/l', 'read', qemu, sysctl('1'))).toMatchObject({ accessible: false, errno: 'EACCES', blocking: { path: '/tmp/l', needed: 'follow' } });
    expect(check(tree, '/tmp/l', 'read', qemu, sysctl('0')).accessible).toBe(true);
    expect(check(tree, '/tmp/l', 'read', qemu, sysctl(null)).accessible).toBeNull();
    // Only trailing links are subject to it; the link's owner may always follow it.
    expect(check({ ...tree, '/tmp/l': { type: 'symlink', target: '/srv', uid: 1000 } }, '/tmp/l/a.iso', 'read', qemu, sysctl('1')).accessible).toBe(true);
    expect(check({ ...tree, '/tmp/l': { type: 'symlink', target: '/srv/a.iso', uid: 64055 } }, '/tmp/l', 'read', qemu, sysctl('1')).accessible).toBe(true);
  });

  it('what the view cannot see is unknown, never a yes', () => {
    const unreadableAcl = { ...images, '/var/lib/libvirt/images/d.img': { type: 'file', mode: 0o640, aclUnknown: 'EIO' } } as const;
    expect(check(unreadableAcl, '/var/lib/libvirt/images/d.img', 'read').accessible).toBeNull();
    // ...unless the kernel would not read it: the owner's access never consults the ACL.
    expect(check({ ...unreadableAcl, '/var/lib/libvirt/images/d.img': { ...unreadableAcl['/var/lib/libvirt/images/d.img'], uid: 64055 } }, '/var/lib/libvirt/images/d.img', 'read').accessible).toBe(true);
    const malformed = { ...images, '/var/lib/libvirt/images/d.img': { type: 'file', mode: 0o640, acl: new Uint8Array([2, 0, 0, 0, 1, 0]) } } as const;
    expect(check(malformed, '/var/lib/libvirt/images/d.img', 'read')).toMatchObject({ accessible: null, reason: expect.stringContaining('malformed ACL') });
    const nfs = { '/nfs': { type: 'unknown', why: 'EACCES (root-squashed NFS)' } } as const;
    expect(check(nfs, '/nfs/d.img', 'read')).toMatchObject({ accessible: null, reason: expect.stringContaining('root-squashed') });
    // Without the mount table nothing is proven: the filesystem type and the ro/nodev options are unknown.
    expect(check({}, '/', 'read', qemu, { text: { '/proc/self/mountinfo': null } }).accessible).toBeNull();
  });

  it('network and FUSE filesystems decide on the server: unknown, however open the mode bits', () => {
    const tree = { '/nfs/iso/a.iso': { type: 'file', mode: 0o644 } } as const;
    const nfs = { text: { '/proc/self/mountinfo': '1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 0:50 / /nfs rw - nfs4 srv:/export rw\n' } };
    expect(check(tree, '/nfs/iso/a.iso', 'read', qemu, nfs)).toEqual({
      accessible: null,
      reason: "/nfs is on nfs4 (/nfs), whose permission checks are not the local kernel's (the NFS server decides) and this view cannot ask the kernel",
    });
    expect(check({ '/srv/a.iso': { type: 'file', mode: 0o644 } }, '/srv/a.iso', 'read', qemu, nfs).accessible).toBe(true);
  });

  describe('where the filesystem delegates, the kernel asked as QEMU decides', () => {
    const mounts = {
      text: {
        '/proc/self/mountinfo':
          '1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 0:50 / /nfs rw - nfs4 srv:/export rw,vers=4.2\n3 1 0:51 / /fz rw,nosuid,nodev - fuse.sshfs u@h:/ rw,user_id=0,group_id=0,allow_other\n',
      },
    };
    const tree = { '/nfs/iso/a.iso': { type: 'file', mode: 0o600 }, '/fz/d.img': { type: 'file', mode: 0o000 } } as const;
    function ask(answers: Record<string, KernelAnswer | string>) {
      const asked: KernelAsk[] = [];
      const view = memoryView(tree, mounts);
      const withKernel: HostView = {
        ...view,
        kernelAccess(q) {
          asked.push(q);
          const a = answers[`${q.op} ${q.path}`];
          return a === undefined ? unknown(`unscripted ${q.op} ${q.path}`) : typeof a === 'string' ? unknown(a) : ok(a);
        },
      };
      return { view: withKernel, asked };
    }
    const allowed = (how: string, write?: 'access'): KernelAnswer => ({ kind: 'allowed', how, ...(write ? { write } : {}) });

    it('proves read where the kernel let QEMU look up every component and open the file, whatever the mode bits', () => {
      const { view, asked } = ask({ 'lookup /nfs/iso': allowed('lookup'), 'lookup /nfs/iso/a.iso': allowed('lookup'), 'read /nfs/iso/a.iso': allowed('open O_RDONLY') });
      const v = checkDacAccess(view, qemu, '/nfs/iso/a.iso', 'read', { names });
      expect(v).toMatchObject({ accessible: true, because: expect.stringContaining('the kernel allowed read for uid 64055 on nfs4 (open O_RDONLY): asked as libvirt-qemu (uid 64055 gid 64055 groups 107,64055') });
      // Only the steps on the delegating filesystem are asked, each with the identity exactly.
      expect(asked.map((q) => `${q.op} ${q.path}`)).toEqual(['lookup /nfs/iso', 'lookup /nfs/iso/a.iso', 'read /nfs/iso/a.iso']);
      expect(asked[0]).toMatchObject({ uid: 64055, gid: 64055, groups: [107, 64055] });
    });

    it('a refusal names mode, owner, mount options and who decides, and suggests no ACL on the directory', () => {
      const { view } = ask({ 'lookup /nfs/iso': { kind: 'denied', errno: 'EACCES', at: '/nfs/iso', step: 'lookup' } });
      const v = checkDacAccess(view, qemu, '/nfs/iso/a.iso', 'read', { names });
      expect(v).toMatchObject({ accessible: false, errno: 'EACCES', blocking: { path: '/nfs', needed: 'search' } });
      if (v.accessible !== false) return;
      expect(v.reason).toContain('on nfs4 /nfs from srv:/export (rw; rw,vers=4.2)');
      expect(v.reason).toContain('the NFS server decides');
      expect(v.dirBlocked).toBeUndefined();
    });

    it('write on NFS is the server\'s ACCESS answer; on FUSE it stays unproven, since the probe never opens for write', () => {
      const rw = allowed('open O_RDONLY, access W_OK', 'access');
      const nfs = ask({ 'lookup /nfs/iso': allowed('lookup'), 'lookup /nfs/iso/a.iso': allowed('lookup'), 'readwrite /nfs/iso/a.iso': rw });
      expect(checkDacAccess(nfs.view, qemu, '/nfs/iso/a.iso', 'readwrite', { names }).accessible).toBe(true);
      const fz = ask({ 'lookup /fz/d.img': allowed('lookup'), 'readwrite /fz/d.img': rw, 'read /fz/d.img': allowed('open O_RDONLY') });
      expect(checkDacAccess(fz.view, qemu, '/fz/d.img', 'readwrite', { names })).toMatchObject({
        accessible: null,
        reason: expect.stringContaining('no default_permissions: the kernel checks no mode bits'),
      });
      expect(checkDacAccess(fz.view, qemu, '/fz/d.img', 'read', { names }).accessible).toBe(true);
    });

    it('a probe that cannot answer leaves the decision unknown, with why', () => {
      const { view } = ask({ 'lookup /nfs/iso': 'no answer within 20 s (a hung server?)' });
      expect(checkDacAccess(view, qemu, '/nfs/iso/a.iso', 'read', { names })).toMatchObject({ accessible: null, reason: expect.stringContaining('a hung server') });
    });

    describe('where root may not search a directory (root_squash, a FUSE mount root is kept out of), the walk goes on as QEMU', () => {
      // Root's lstat of everything under /nfs/grp is refused; QEMU's identity sees the inodes.
      const squashed = {
        '/nfs/grp': { type: 'dir', mode: 0o750, gid: 107 },
        '/nfs/grp/a.img': { type: 'unknown', why: 'cannot look it up: permission denied (EACCES)' },
        '/nfs/grp/l': { type: 'unknown', why: 'cannot look it up: permission denied (EACCES)' },
      } as const;
      const asQemu: Record<string, { type: 'file' | 'symlink'; body?: string }> = { '/nfs/grp/a.img': { type: 'file' }, '/nfs/grp/l': { type: 'symlink', body: 'a.img' } };
      function squashView(answers: Record<string, KernelAnswer>, withAs = true) {
        const asked: string[] = [];
        const view = memoryView(squashed, mounts);
        const v: HostView = {
          ...view,
          kernelAccess: (q) => {
            asked.push(`${q.op} ${q.path}`);
            const a = answers[`${q.op} ${q.path}`];
            return a ? ok(a) : unknown(`unscripted ${q.op} ${q.path}`);
          },
          ...(withAs
            ? {
                lstatAs: (who, p) => {
                  asked.push(`lstatAs ${who.uid} ${p}`);
                  const n = asQemu[p];
                  return n ? ok({ type: n.type, mode: n.type === 'file' ? 0o640 : 0o777, uid: 64055, gid: 107 }) : view.lstat(p);
                },
                readlinkAs: (who, p) => {
                  asked.push(`readlinkAs ${who.uid} ${p}`);
                  const b = asQemu[p]?.body;
                  return b ? ok(b) : unknown('not a link');
                },
              }
            : {}),
        };
        return { view: v, asked };
      }
      const walkable = {
        'lookup /nfs/grp': allowed('lookup'),
        'lookup /nfs/grp/a.img': allowed('lookup'),
        'lookup /nfs/grp/l': allowed('lookup'),
        'read /nfs/grp/a.img': allowed('open O_RDONLY'),
      };

      it('proves the open from what the kernel showed QEMU, and says root could not search', () => {
        const { view, asked } = squashView(walkable);
        const v = checkDacAccess(view, qemu, '/nfs/grp/a.img', 'read', { names });
        expect(v).toMatchObject({
          accessible: true,
          because: expect.stringContaining('looked up as libvirt-qemu: root may not search /nfs/grp on this mount (nfs4 /nfs)'),
          rootRefused: { path: '/nfs/grp/a.img', dir: '/nfs/grp' },
        });
        expect(asked).toContain('lstatAs 64055 /nfs/grp/a.img');
      });

      it('follows a link only where the walk meets it, reading its body as QEMU', () => {
        const { view, asked } = squashView(walkable);
        expect(checkDacAccess(view, qemu, '/nfs/grp/l', 'read', { names })).toMatchObject({ accessible: true });
        expect(asked).toContain('readlinkAs 64055 /nfs/grp/l');
      });

      it('a refusal as QEMU too is a denial with the server named', () => {
        const { view } = squashView({ ...walkable, 'read /nfs/grp/a.img': { kind: 'denied', errno: 'EACCES', at: '/nfs/grp/a.img', step: 'open' } });
        const v = checkDacAccess(view, qemu, '/nfs/grp/a.img', 'read', { names });
        expect(v).toMatchObject({ accessible: false, errno: 'EACCES', reason: expect.stringContaining('root may not search /nfs/grp') });
      });

      it('a view that cannot ask as QEMU (an old snapshot) stays unknown', () => {
        const { view } = squashView(walkable, false);
        expect(checkDacAccess(view, qemu, '/nfs/grp/a.img', 'read', { names })).toMatchObject({ accessible: null, reason: expect.stringContaining('permission denied (EACCES)') });
      });

      it('never on a local filesystem: root refused on ext4 is not asked again', () => {
        const local = memoryView({ '/srv/x': { type: 'unknown', why: 'cannot look it up: permission denied (EACCES)' } }, mounts);
        let asked = 0;
        const v: HostView = { ...local, lstatAs: () => (asked++, unknown('no')), readlinkAs: () => (asked++, unknown('no')) };
        expect(checkDacAccess(v, qemu, '/srv/x', 'read', { names }).accessible).toBe(null);
        expect(asked).toBe(0);
      });
    });

    it('a name the daemon hides from QEMU while root sees it is a denial (ENOENT), not a pass', () => {
      const { view } = ask({ 'lookup /fz/d.img': { kind: 'denied', errno: 'ENOENT', at: '/fz/d.img', step: 'lookup' } });
      expect(checkDacAccess(view, qemu, '/fz/d.img', 'read', { names })).toMatchObject({ accessible: false, errno: 'ENOENT' });
    });
  });

  it('a denial before an unknown is still a proven denial (the kernel stops at the first failure)', () => {
    const tree = { '/home/alice': { type: 'dir', mode: 0o700, uid: 1000 }, '/home/alice/nfs': { type: 'unknown', why: 'stale NFS handle' } } as const;
    expect(check(tree, '/home/alice/nfs/x', 'read')).toMatchObject({ accessible: false, errno: 'EACCES', blocking: { path: '/home/alice' } });
  });

  it('lists every directory that blocks, and suggests one setfacl for them all', () => {
    const tree = {
      '/srv': { type: 'dir', mode: 0o750, gid: 1000 },
      '/srv/vm images': { type: 'dir', mode: 0o700, uid: 1000 },
      '/srv/vm images/d.img': { type: 'file', mode: 0o600, uid: 1000 },
    } as const;
    expect(check(tree, '/srv/vm images/d.img', 'readwrite')).toMatchObject({
      blocking: { path: '/srv' },
      dirBlocked: {
        paths: ['/srv', '/srv/vm images'],
        suggestion: "setfacl -m u:libvirt-qemu:x /srv '/srv/vm images'",
        fileAccessible: false,
      },
    });
  });

  // The same cases run against the kernel in classic-kernel.test.ts.
  for (const c of CLASSIC_CASES) {
    it(`kernel-checked case: ${c.name}`, () => {
      const v = check(c.tree as Record<string, MemoryNode>, c.path, c.want, c.identity ?? qemu);
      expect(v.accessible === true ? 'ok' : v.accessible === false ? v.errno : 'unknown').toBe(c.expect);
    });
  }
});
