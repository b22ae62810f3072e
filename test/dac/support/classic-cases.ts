/**
 * The classic situations as data: a tree, an open, an identity, and the kernel's answer. The in-memory
 * suite (check.test.ts) runs them on memoryView; classic-kernel.test.ts builds the very same trees on a
 * tmpfs and asks the kernel, so every expectation here is the kernel's, not ours.
 */
import type { QemuIdentity } from '../../../src/dac/identity.js';
import type { MemoryNode } from '../../support/memory-view.js';

export const QEMU: QemuIdentity = { uid: 64055, gid: 64055, groups: [107, 64055], userName: 'libvirt-qemu', groupName: 'libvirt-qemu' };
export const ROOT_NO_CAPS: QemuIdentity = { uid: 0, gid: 0, groups: [0], userName: 'root' };

export interface ClassicCase {
  readonly name: string;
  readonly tree: Readonly<Record<string, MemoryNode>>;
  readonly path: string;
  readonly want: 'read' | 'readwrite';
  readonly identity?: QemuIdentity;
  readonly expect: 'ok' | 'EACCES' | 'ENOENT' | 'ELOOP' | 'EISDIR';
}

const IMG = '/var/lib/libvirt/images';
const images: Record<string, MemoryNode> = { [IMG]: { type: 'dir', mode: 0o711 } };
const home: Record<string, MemoryNode> = {
  '/home': { type: 'dir', mode: 0o755 },
  '/home/alice': { type: 'dir', mode: 0o700, uid: 1000, gid: 1000 },
  '/home/alice/a.iso': { type: 'file', mode: 0o644, uid: 1000, gid: 1000 },
};
const img = (node: MemoryNode) => ({ ...images, [`${IMG}/d.img`]: node });

export const CLASSIC_CASES: readonly ClassicCase[] = [
  { name: 'world-readable ISO under a 0700 home', tree: home, path: '/home/alice/a.iso', want: 'read', expect: 'EACCES' },
  {
    name: 'the same home with u:libvirt-qemu:x',
    tree: { ...home, '/home/alice': { type: 'dir', mode: 0o710, uid: 1000, gid: 1000, acl: 'u::rwx,u:64055:--x,g::---,m::--x,o::---' } },
    path: '/home/alice/a.iso',
    want: 'read',
    expect: 'ok',
  },
  { name: '0644 ISO in the images dir, read', tree: img({ type: 'file', mode: 0o644 }), path: `${IMG}/d.img`, want: 'read', expect: 'ok' },
  { name: '0644 ISO in the images dir, read-write', tree: img({ type: 'file', mode: 0o644 }), path: `${IMG}/d.img`, want: 'readwrite', expect: 'EACCES' },
  { name: '0660 disk of the qemu group', tree: img({ type: 'file', mode: 0o660, gid: 64055 }), path: `${IMG}/d.img`, want: 'readwrite', expect: 'ok' },
  { name: 'ACL u:libvirt-qemu:r on a 0600 file, read', tree: img({ type: 'file', mode: 0o640, acl: 'u::rw-,u:64055:r--,g::---,m::r--,o::---' }), path: `${IMG}/d.img`, want: 'read', expect: 'ok' },
  { name: 'ACL u:libvirt-qemu:r on a 0600 file, read-write', tree: img({ type: 'file', mode: 0o640, acl: 'u::rw-,u:64055:r--,g::---,m::r--,o::---' }), path: `${IMG}/d.img`, want: 'readwrite', expect: 'EACCES' },
  { name: 'mask r-- cuts u:libvirt-qemu:rw-', tree: img({ type: 'file', mode: 0o640, acl: 'u::rw-,u:64055:rw-,g::r--,m::r--,o::---' }), path: `${IMG}/d.img`, want: 'readwrite', expect: 'EACCES' },
  { name: 'empty mask: the kernel skips the ACL, "other" decides', tree: img({ type: 'file', mode: 0o604, acl: 'u::rw-,u:64055:---,g::---,m::---,o::r--' }), path: `${IMG}/d.img`, want: 'read', expect: 'ok' },
  { name: 'a matching g:kvm:--- denies though other may read', tree: img({ type: 'file', mode: 0o654, acl: 'u::rw-,g::r--,g:107:---,m::r-x,o::r--' }), path: `${IMG}/d.img`, want: 'read', expect: 'EACCES' },
  {
    name: 'without kvm membership, other decides',
    tree: img({ type: 'file', mode: 0o654, acl: 'u::rw-,g::r--,g:107:---,m::r-x,o::r--' }),
    path: `${IMG}/d.img`,
    want: 'read',
    identity: { ...QEMU, groups: [64055] },
    expect: 'ok',
  },
  { name: 'one of two matching group entries grants', tree: img({ type: 'file', mode: 0o650, acl: 'u::rw-,g::---,g:107:---,g:64055:r--,m::r-x,o::---' }), path: `${IMG}/d.img`, want: 'read', expect: 'ok' },
  { name: '0604 of group kvm shuts out kvm members', tree: img({ type: 'file', mode: 0o604, gid: 107 }), path: `${IMG}/d.img`, want: 'read', expect: 'EACCES' },
  { name: '0604 of another group: other may read', tree: img({ type: 'file', mode: 0o604, gid: 6 }), path: `${IMG}/d.img`, want: 'read', expect: 'ok' },
  { name: '0060 of group kvm: members read-write', tree: img({ type: 'file', mode: 0o060, gid: 107 }), path: `${IMG}/d.img`, want: 'readwrite', expect: 'ok' },
  { name: '0060 of group kvm: non-members nothing', tree: img({ type: 'file', mode: 0o060, gid: 107 }), path: `${IMG}/d.img`, want: 'readwrite', identity: { ...QEMU, groups: [64055] }, expect: 'EACCES' },
  { name: '0077 locks its owner out', tree: img({ type: 'file', mode: 0o077, uid: 64055 }), path: `${IMG}/d.img`, want: 'read', expect: 'EACCES' },
  { name: 'uid 0 without capabilities, 0600 file of alice', tree: img({ type: 'file', mode: 0o600, uid: 1000, gid: 1000 }), path: `${IMG}/d.img`, want: 'read', identity: ROOT_NO_CAPS, expect: 'EACCES' },
  { name: 'uid 0 without capabilities, its own 0600 file', tree: img({ type: 'file', mode: 0o600 }), path: `${IMG}/d.img`, want: 'readwrite', identity: ROOT_NO_CAPS, expect: 'ok' },
  { name: 'a symlink into a private home', tree: { ...home, '/srv/iso': { type: 'symlink', target: '/home/alice/a.iso' } }, path: '/srv/iso', want: 'read', expect: 'EACCES' },
  { name: 'a relative symlink to a readable ISO', tree: { ...img({ type: 'file', mode: 0o644 }), '/srv/iso': { type: 'symlink', target: '../var/lib/libvirt/images/d.img' } }, path: '/srv/iso', want: 'read', expect: 'ok' },
  { name: 'a missing file', tree: images, path: `${IMG}/gone.iso`, want: 'read', expect: 'ENOENT' },
  { name: 'a symlink loop', tree: { '/srv/a': { type: 'symlink', target: 'b' }, '/srv/b': { type: 'symlink', target: 'a' } }, path: '/srv/a', want: 'read', expect: 'ELOOP' },
  { name: 'a directory opened read-write', tree: { '/srv/dir': { type: 'dir', mode: 0o777 } }, path: '/srv/dir', want: 'readwrite', expect: 'EISDIR' },
  { name: 'a disk-group block device, not a member', tree: { '/srv/sdb': { type: 'block', mode: 0o660, gid: 6 } }, path: '/srv/sdb', want: 'readwrite', expect: 'EACCES' },
  { name: 'a disk-group block device, member', tree: { '/srv/sdb': { type: 'block', mode: 0o660, gid: 6 } }, path: '/srv/sdb', want: 'readwrite', identity: { ...QEMU, groups: [107, 64055, 6] }, expect: 'ok' },
  { name: 'search through a 0711 directory is enough', tree: { '/srv/x': { type: 'dir', mode: 0o711 }, '/srv/x/a.iso': { type: 'file', mode: 0o444 } }, path: '/srv/x/a.iso', want: 'read', expect: 'ok' },
  { name: 'a 0755 directory owned by qemu with owner bits 0 blocks', tree: { '/srv/x': { type: 'dir', mode: 0o055, uid: 64055 }, '/srv/x/a.iso': { type: 'file', mode: 0o444 } }, path: '/srv/x/a.iso', want: 'read', expect: 'EACCES' },
];
