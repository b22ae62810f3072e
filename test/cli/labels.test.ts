/**
 * `virt-seclabel labels` in-process on an in-memory host with Debian's real policy: the process context
 * comes from the host as annotate's does (virtual_domain_context, --context), --check answers with the
 * engine's reason and its exit code, errors exit 2. What the list contains is checked against libsepol
 * in test/selinux/differential/labels.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runLabels, type LabelsOptions } from '../../src/commands/labels.js';
import { ok, type HostView } from '../../src/host/view.js';
import type { MemoryNode } from '../support/memory-view.js';
import { memoryView } from '../support/memory-view.js';
import { missingRequirements } from '../support/requirements.js';
import { captureIo, DEBIAN_POLICY, withRealPolicy } from './harness.js';

const skip = missingRequirements({ files: [DEBIAN_POLICY] });

async function labels(opts: Partial<LabelsOptions>, text: Record<string, string> = {}) {
  const view = withRealPolicy(memoryView({} as Record<string, MemoryNode>, { text: { '/etc/selinux/config': 'SELINUXTYPE=default\n', ...text } }));
  const c = captureIo();
  const code = runLabels({ policy: DEBIAN_POLICY, booleans: {}, connect: 'qemu:///system', json: false, ...opts }, view, c.io);
  await c.settle();
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

describe.skipIf(skip)('virt-seclabel labels', () => {
  it('lists types under their use, class and MCS condition, and what a boolean flip adds', async () => {
    const r = await labels({});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('svirt process: system_u:system_r:svirt_t:s0:cX,cY');
    const readOnly = r.stdout.slice(r.stdout.indexOf('read-only media'), r.stdout.indexOf('shareable writable disks'));
    expect(readOnly).toMatch(/regular files \(file\), only with no categories or categories the VM's level dominates:\n(?: {4}\w+\n)* {4}virt_content_t\n/);
    expect(r.stdout).toMatch(/ {2}virt_use_nfs=on:\n {4}read-only file nfs_t/);
    // --boolean moves it from the flips into the list.
    const on = await labels({ json: true, booleans: { virt_use_nfs: true } });
    const j = JSON.parse(on.stdout) as { usable: { type: string; use: string; class: string }[]; booleans: Record<string, boolean> };
    expect(j.usable.some((u) => u.type === 'nfs_t' && u.use === 'read-only' && u.class === 'file')).toBe(true);
    expect(j.booleans.virt_use_nfs).toBe(true);
  });

  it('takes the process type from the policy store as annotate does, and --context over it', async () => {
    const store = await labels({ json: true }, { '/etc/selinux/default/contexts/virtual_domain_context': 'system_u:system_r:qemu_t\n' });
    expect(JSON.parse(store.stdout).process).toEqual({ kind: 'dynamic', context: 'system_u:system_r:qemu_t', categories: { min: 0, max: 1023 } });
    const fixed = await labels({ json: true, context: 'system_u:system_r:svirt_t:s0:c5,c9' });
    expect(JSON.parse(fixed.stdout).process).toEqual({ kind: 'static', context: 'system_u:system_r:svirt_t:s0:c5,c9' });
  });

  it('--check answers for one label with the reason; exit 0 usable read-only, 1 not', async () => {
    const ok = await labels({ check: 'system_u:object_r:virt_content_t:s0' });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('read-only media, regular files (file): allowed for every VM');
    expect(ok.stdout).toContain('no allow rule for svirt_t on virt_content_t:file { write append }');
    const mcs = await labels({ check: 'system_u:object_r:virt_content_t:s0:c3' });
    expect(mcs.code).toBe(1);
    expect(mcs.stdout).toMatch(/denied by the MLS constraint on file/);
    const te = await labels({ check: 'system_u:object_r:shadow_t:s0' });
    expect(te.code).toBe(1);
    expect(te.stdout).toContain('no allow rule for svirt_t on shadow_t:file');
  });

  it('errors exit 2 with the reason and print nothing on stdout', async () => {
    for (const opts of [{ booleans: { no_such_boolean: true } }, { context: 'nobody:x' }, { check: 'not a label' }, { connect: 'xen:///' }, { policy: '/nonexistent/policy.33' }]) {
      const r = await labels(opts);
      expect(r.code, JSON.stringify(opts)).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^virt-seclabel labels: \S/);
    }
  });

  it('on an SELinux kernel: its policy and its boolean values, --boolean on top', async () => {
    const f = (content: string): MemoryNode => ({ type: 'file', mode: 0o644, content });
    const base = memoryView({ '/sys/fs/selinux/enforce': f('1'), '/sys/fs/selinux/booleans/virt_use_nfs': f('1 1'), '/sys/fs/selinux/booleans/virt_use_samba': f('0 0') });
    const view: HostView = { ...base, readBinary: (p) => (p === '/sys/fs/selinux/policy' ? ok(new Uint8Array(readFileSync(DEBIAN_POLICY))) : base.readBinary(p)) };
    const run = async (booleans: Record<string, boolean>) => {
      const c = captureIo();
      const code = runLabels({ booleans, connect: 'qemu:///system', json: true }, view, c.io);
      await c.settle();
      expect(code, c.stderr()).toBe(0);
      return JSON.parse(c.stdout()) as { policy: string; usable: { type: string }[]; booleans: Record<string, boolean> };
    };
    const live = await run({});
    expect(live.policy).toBe('/sys/fs/selinux/policy');
    expect(live.booleans.virt_use_nfs).toBe(true);
    expect(live.usable.some((u) => u.type === 'nfs_t')).toBe(true);
    const off = await run({ virt_use_nfs: false });
    expect(off.usable.some((u) => u.type === 'nfs_t')).toBe(false);
  });

  it('qemu:///session: the daemon is this process, so its user, role and categories', async () => {
    const r = await labels({ json: true, connect: 'qemu:///session' }, { '/proc/self/attr/current': 'unconfined_u:system_r:unconfined_t:s0-s0:c0.c255\0' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).process).toEqual({ kind: 'dynamic', context: 'unconfined_u:system_r:svirt_t', categories: { min: 0, max: 255 } });
    // Debian's policy authorises staff_r for no svirt type: that process could not start a VM, and labels says why.
    const staff = await labels({ connect: 'qemu:///session' }, { '/proc/self/attr/current': 'staff_u:staff_r:staff_t:s0-s0:c0.c1023\0' });
    expect(staff.code).toBe(2);
    expect(staff.stderr).toContain('staff_u:staff_r:svirt_t:s0:c0": the role is not authorised for the type');
  });
});
