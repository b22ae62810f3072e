/**
 * libvirt 9.0's own checks as root before QEMU runs (src/dac/libvirt-as-root.ts), where QEMU's user may
 * open a file root may not look up or read. The real outcomes are measured in
 * test/libvirt/fuse-root-refused-libvirtd.test.ts (FUSE) and test/nfs-kernel/ (NFS root_squash).
 */
import { describe, expect, it } from 'vitest';
import { libvirtAsRoot } from '../../src/dac/libvirt-as-root.js';
import type { ChainFile } from '../../src/access/engine.js';

const file = (role: ChainFile['role'], format?: string): ChainFile => ({ path: '/m/grp/x', access: 'read', role, ...(format ? { format } : {}) });
const sees = (fsType: string, lookup: boolean, read: boolean | null) => ({ fsType, lookup, read: () => read });

describe("libvirt's checks as root", () => {
  it('a raw (or iso) disk root may not look up: virFileExists as root refuses the start, on NFS as on FUSE', () => {
    for (const fs of ['nfs4', 'fuse']) {
      expect(libvirtAsRoot(file('top', 'raw'), sees(fs, false, false))).toMatchObject({ starts: false, why: expect.stringContaining('virFileExists') });
      expect(libvirtAsRoot(file('top', 'iso'), sees(fs, false, false)).starts).toBe(false);
    }
    // Root may look it up but not read it: libvirt reads no raw header, the start goes on.
    expect(libvirtAsRoot(file('top', 'raw'), sees('fuse', true, false)).starts).toBe(true);
  });

  it('a qcow2 and its backing files: read as QEMU only where libvirt counts the filesystem shared', () => {
    expect(libvirtAsRoot(file('top', 'qcow2'), sees('nfs4', false, false))).toMatchObject({ starts: true, how: expect.stringContaining('shared nfs4') });
    expect(libvirtAsRoot(file('backing', 'raw'), sees('nfs', true, false)).starts).toBe(true);
    expect(libvirtAsRoot(file('top', 'qcow2'), sees('fuse', false, false))).toMatchObject({ starts: false, why: expect.stringContaining('which fuse is not') });
    expect(libvirtAsRoot(file('backing', 'raw'), sees('fuse.sshfs', true, false)).starts).toBe(false);
    expect(libvirtAsRoot(file('top', 'qcow2'), sees('fuse', true, true)).starts).toBe(true);
    expect(libvirtAsRoot(file('top', 'qcow2'), sees('fuse', true, null)).starts).toBe(null);
  });

  it('other roles where root is refused are not modelled', () => {
    expect(libvirtAsRoot(file('data-file', 'raw'), sees('nfs4', false, false)).starts).toBe(null);
  });
});
