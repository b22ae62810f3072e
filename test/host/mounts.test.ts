import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mountOf, parseMountInfo } from '../../src/host/mounts.js';

const sample = [
  '22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw',
  '30 22 0:26 / /mnt/my\\040disk ro,nodev - ext4 /dev/sdb1 rw',
  '31 22 0:27 / /mnt/x rw,nosymfollow shared:5 - tmpfs tmpfs rw',
  '32 31 0:28 / /mnt/x/deep rw - tmpfs tmpfs ro',
  '33 22 0:29 / /mnt rw - tmpfs tmpfs rw',
].join('\n');

describe('mountinfo', () => {
  it('parses options, optional fields and escaped mount points', () => {
    const m = parseMountInfo(sample);
    expect(m.ok).toBe(true);
    if (!m.ok) return;
    expect(m.value[1]).toEqual({ id: 30, parentId: 22, mountPoint: '/mnt/my disk', fsType: 'ext4', readOnly: true, superReadOnly: false, noDev: true, noSymFollow: false, options: ['ro', 'nodev'], superOptions: ['rw'], source: '/dev/sdb1' });
    expect(m.value[3]).toMatchObject({ superReadOnly: true, readOnly: false });
    expect(m.value[2]).toMatchObject({ noSymFollow: true, fsType: 'tmpfs' });
  });

  it('finds the mount a path lives on; a later mount over a parent hides earlier ones below it', () => {
    const m = parseMountInfo(sample);
    if (!m.ok) throw new Error(m.error);
    expect(mountOf(m.value, '/etc/passwd')?.mountPoint).toBe('/');
    expect(mountOf(m.value, '/mntx')?.mountPoint).toBe('/');
    expect(mountOf(m.value, '/mnt/my disk/a')?.mountPoint).toBe('/mnt');
    expect(mountOf(m.value, '/mnt/x/deep/f')?.mountPoint).toBe('/mnt');
    const noCover = parseMountInfo(sample.split('\n').slice(0, 4).join('\n'));
    if (!noCover.ok) throw new Error(noCover.error);
    expect(mountOf(noCover.value, '/mnt/x/deep/f')?.mountPoint).toBe('/mnt/x/deep');
    expect(mountOf(noCover.value, '/mnt/my disk/a')).toMatchObject({ readOnly: true, noDev: true });
  });

  it('follows the mount tree, not the line order, and takes the top of stacked mounts', () => {
    const m = parseMountInfo(
      ['21 26 0:20 / /proc rw - proc proc rw', '26 1 254:0 / / rw - ext4 /dev/vda rw', '40 41 0:9 / /srv rw - tmpfs t rw', '41 26 0:8 / /srv ro - tmpfs t rw'].join('\n'),
    );
    if (!m.ok) throw new Error(m.error);
    expect(mountOf(m.value, '/proc/self')?.fsType).toBe('proc');
    expect(mountOf(m.value, '/srv/a')).toMatchObject({ id: 40, readOnly: false });
  });

  it('rejects malformed tables', () => {
    expect(parseMountInfo('garbage').ok).toBe(false);
    expect(parseMountInfo('22 1 8:1 / /x rw - ext4 /dev/sda1 rw').ok).toBe(false); // no root mount
    expect(parseMountInfo('').ok).toBe(false);
  });

  it('parses this host\'s own table', () => {
    const m = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));
    expect(m.ok && mountOf(m.value, '/etc/passwd')?.mountPoint).toBe('/');
    expect(m.ok && mountOf(m.value, '/proc/self')?.fsType).toBe('proc');
  });
});

describe('filesystems that delegate the permission decision', () => {
  it('names who decides for network, FUSE and cluster filesystems, and nothing for local ones', async () => {
    const { delegatesPermission, accessAsksServer } = await import('../../src/host/mounts.js');
    expect(delegatesPermission('nfs4')).toBe('the NFS server decides');
    expect(delegatesPermission('fuse.bindfs')).toBe('the FUSE daemon decides');
    expect(delegatesPermission('fuse')).toBe('the FUSE daemon decides');
    expect(delegatesPermission('cifs')).toBe('the SMB server decides');
    expect(delegatesPermission('9p')).toBe('the 9p server decides');
    for (const local of ['ext4', 'xfs', 'tmpfs', 'btrfs', 'overlay']) expect(delegatesPermission(local)).toBeUndefined();
    expect(accessAsksServer('nfs')).toBe(true);
    expect(accessAsksServer('fuse.sshfs')).toBe(false);
    expect(accessAsksServer('cifs')).toBe(false);
  });
});
