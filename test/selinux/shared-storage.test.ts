/**
 * SELinux on filesystems that delegate (NFS, CIFS, FUSE), against Debian's real policy: unless the mount
 * carries real labels (`seclabel`), every inode has the mount's `context=` or else the policy's genfscon
 * label for the filesystem type (nfs_t, cifs_t, fusefs_t), whatever an xattr read says; the boolean that
 * decides (virt_use_nfs, virt_use_samba, virt_use_fusefs) is named from the policy's own conditional
 * rules, and flipping it changes the answer as the reason says.
 */
import { describe, expect, it } from 'vitest';
import { createSelinuxFileEngine } from '../../src/selinux/file-engine.js';
import { loadPolicy } from '../../src/selinux/policy/load.js';
import { policyOracle } from '../../src/selinux/policy-oracle.js';
import { memoryView, type MemoryNode } from '../support/memory-view.js';
import { missingRequirements } from '../support/requirements.js';
import { DEBIAN_POLICY } from '../cli/harness.js';
import { readFileSync } from 'node:fs';
import { decideDisk } from '../../src/decide/disk.js';
import type { Connection } from '../../src/decide/connection.js';
import type { DecisionPorts } from '../../src/decide/ports.js';
import type { Disk, Domain } from '../../src/domain/model.js';
import type { XmlElement } from '../../src/xml/tree.js';

const ROOT_LABEL = 'system_u:object_r:root_t:s0';
const mountinfo = [
  '1 0 8:1 / / rw,relatime - ext4 /dev/sda1 rw',
  '2 1 0:50 / /nfs rw,relatime - nfs4 srv:/export rw,vers=4.2',
  '3 1 0:51 / /smb rw - cifs //srv/share rw',
  '4 1 0:52 / /fz rw,nosuid,nodev - fuse.sshfs u@h:/ rw,user_id=0,group_id=0,allow_other',
  '5 1 0:53 / /ctx rw - nfs4 srv:/ctx rw,context="system_u:object_r:virt_content_t:s0"',
  '6 1 0:54 / /lab rw - nfs4 srv:/lab rw,seclabel,vers=4.2',
].join('\n');

// Every inode's xattr says virt_content_t: a FUSE daemon passing its source's xattrs through, say. Only
// the /lab mount (seclabel) makes that the label the kernel checks.
const tree: Record<string, MemoryNode> = {};
for (const dir of ['/nfs', '/smb', '/fz', '/ctx', '/lab']) {
  tree[dir] = { type: 'dir', mode: 0o755, label: 'system_u:object_r:virt_content_t:s0' };
  tree[`${dir}/a.iso`] = { type: 'file', mode: 0o644, label: 'system_u:object_r:virt_content_t:s0' };
  tree[`${dir}/a.raw`] = { type: 'file', mode: 0o600, label: 'system_u:object_r:virt_content_t:s0' };
}
tree['/local'] = { type: 'dir', mode: 0o755, label: 'system_u:object_r:virt_image_t:s0' };
tree['/local/a.raw'] = { type: 'file', mode: 0o600, label: 'system_u:object_r:virt_image_t:s0' };

describe.skipIf(missingRequirements({ files: [DEBIAN_POLICY] }))('SELinux labels on shared storage (Debian policy)', () => {
  const loaded = loadPolicy(new Uint8Array(readFileSync(DEBIAN_POLICY)));
  if (!loaded.ok) throw new Error(String(loaded.error.message));
  const view = memoryView({ '/': { type: 'dir', mode: 0o755, label: ROOT_LABEL }, ...tree }, { text: { '/proc/self/mountinfo': mountinfo } });
  const engine = (booleans: Record<string, boolean>) =>
    createSelinuxFileEngine(view, policyOracle(loaded.value, booleans), { kind: 'dynamic', type: 'svirt_t', user: 'system_u', role: 'system_r', mls: true, categories: { min: 0, max: 1023 } }, booleans);
  const read = (path: string, booleans: Record<string, boolean> = {}) => engine(booleans).check({ path, access: 'read', role: 'top' });

  it.each([
    ['/nfs/a.iso', 'nfs_t', 'virt_use_nfs'],
    ['/smb/a.iso', 'cifs_t', 'virt_use_samba'],
    ['/fz/a.iso', 'fusefs_t', 'virt_use_fusefs'],
  ])('%s is labelled %s by genfscon; %s decides, as the reason says', (path, type, bool) => {
    const off = read(path, { [bool]: false });
    expect(off.accessible).toBe(false);
    if (off.accessible !== false) return;
    expect(off.reason).toContain(`system_u:object_r:${type}:s0`);
    expect(off.reason).toContain("the policy's genfscon for");
    expect(off.reason).toContain(bool);
    expect(read(path, { [bool]: true })).toMatchObject({ accessible: true, because: expect.stringContaining(type) });
  });

  it("a mount's context= is the label of every inode on it", () => {
    expect(read('/ctx/a.iso')).toMatchObject({ accessible: true, because: expect.stringContaining('the context= of the nfs4 mount /ctx') });
  });

  it('a mount with real security labels (seclabel) is judged by its inodes\' labels', () => {
    expect(read('/lab/a.iso')).toMatchObject({ accessible: true });
    expect(read('/lab/a.iso', { virt_use_nfs: false })).toMatchObject({ accessible: true });
  });

  it('fixedLabel: a delegating mount without seclabel fixes the label (context= or genfscon); seclabel and local mounts do not', () => {
    const e = engine({});
    expect(e.fixedLabel?.('/nfs/a.raw')).toMatchObject({ fsType: 'nfs4', mountPoint: '/nfs', label: 'system_u:object_r:nfs_t:s0' });
    expect(e.fixedLabel?.('/smb/a.raw')).toMatchObject({ fsType: 'cifs', mountPoint: '/smb', label: 'system_u:object_r:cifs_t:s0' });
    expect(e.fixedLabel?.('/fz/a.raw')).toMatchObject({ fsType: 'fuse.sshfs', label: 'system_u:object_r:fusefs_t:s0' });
    expect(e.fixedLabel?.('/ctx/a.raw')).toMatchObject({ label: 'system_u:object_r:virt_content_t:s0', how: expect.stringContaining('context=') });
    expect(e.fixedLabel?.('/lab/a.raw')).toBeUndefined();
    expect(e.fixedLabel?.('/local/a.raw')).toBeUndefined();
  });

  describe('an exclusive writable disk there: never annotated, and the reason says the relabel cannot happen and what the policy answers for the fixed label', () => {
    const el = (name: string): XmlElement => ({ name, attributes: [], children: [], text: '', start: 0, startTagEnd: 0, endTagStart: 0, end: 0, selfClosing: true, line: 1, column: 1 });
    const conn: Connection = {
      mode: 'system', models: { dac: { active: false, why: 'test' }, selinux: { active: true, why: 'test' } }, apparmor: { active: false, why: 'test' },
      dynamicOwnership: true, defaultConfined: true, user: 'libvirt-qemu', group: 'libvirt-qemu', identitySource: 'test',
    };
    const decide = (path: string, booleans: Record<string, boolean>) => {
      const disk: Disk = { element: el('disk'), index: 0, type: 'file', rawType: 'file', device: 'disk', target: 'vda', source: el('source'), path, format: 'raw', readonly: false, shareable: false, backing: undefined, seclabels: [] };
      const domain: Domain = { name: 'vm', type: 'kvm', seclabels: [], disks: [disk] };
      const ports: DecisionPorts = { resolveChain: () => ({ kind: 'ok', files: [{ path, access: 'readwrite', role: 'top' }] }), engineFor: () => ({ ok: true, engine: engine(booleans) }) };
      return decideDisk(disk, domain, conn, ports).models.selinux;
    };
    it.each([
      ['/nfs/a.raw', 'nfs_t', 'virt_use_nfs'],
      ['/smb/a.raw', 'cifs_t', 'virt_use_samba'],
      ['/fz/a.raw', 'fusefs_t', 'virt_use_fusefs'],
    ])('%s (%s): %s off, the start fails whatever libvirt does; on, QEMU opens it as it is', (path, type, bool) => {
      const off = decide(path, { [bool]: false });
      expect(off).toMatchObject({ action: 'keep', byRule: true, accessible: false });
      expect(off.reason).toContain('exclusive writable disk');
      expect(off.reason).toContain('the kernel refuses setfilecon (EOPNOTSUPP) and libvirt ignores that');
      expect(off.reason).toContain(`its label stays system_u:object_r:${type}:s0`);
      expect(off.reason).toContain('the VM fails to start');
      expect(off.reason).toContain(bool);
      expect(off.reason).not.toContain('must relabel');
      const on = decide(path, { [bool]: true });
      expect(on).toMatchObject({ action: 'keep', byRule: true, accessible: null });
      expect(on.reason).toContain('QEMU opens it as it is');
      expect(on.reason).toContain(type);
    });
    it('a context= of a read-only type: refused whatever libvirt does, no boolean named; a seclabel mount and a local disk keep the plain rule', () => {
      const ctx = decide('/ctx/a.raw', { virt_use_nfs: true });
      expect(ctx).toMatchObject({ action: 'keep', byRule: true, accessible: false });
      expect(ctx.reason).toContain('its label stays system_u:object_r:virt_content_t:s0, relabel or not');
      expect(ctx.reason).toContain('the context= of the nfs4 mount /ctx');
      expect(ctx.reason).not.toContain('virt_use_nfs');
      for (const p of ['/lab/a.raw', '/local/a.raw'])
        expect(decide(p, {})).toEqual({ action: 'keep', accessible: null, byRule: true, reason: "exclusive writable disk: its per-VM svirt categories are the isolation, libvirt must relabel it" });
    });
  });
});
