/** The DAC engine as the decision core sees it: verdicts, findings, and inode types QEMU cannot use. */
import { describe, expect, it } from 'vitest';
import { createDacEngine } from '../../src/dac/engine.js';
import { numericNames } from '../../src/host/accounts.js';
import { memoryView } from '../support/memory-view.js';

const qemu = { uid: 64055, gid: 64055, groups: [64055], userName: 'libvirt-qemu' };

describe('createDacEngine', () => {
  const view = memoryView({
    '/srv/iso': { type: 'dir', mode: 0o755 },
    '/srv/iso/a.iso': { type: 'file', mode: 0o644 },
    '/srv/iso/tree': { type: 'dir', mode: 0o755 },
    '/srv/iso/fifo': { type: 'fifo', mode: 0o666 },
    '/root': { type: 'dir', mode: 0o700 },
    '/root/b.iso': { type: 'file', mode: 0o644 },
  });
  const engine = createDacEngine(view, qemu, numericNames);

  it('proves a world-readable file', () => {
    expect(engine.check({ path: '/srv/iso/a.iso', access: 'read', role: 'top' }).accessible).toBe(true);
  });

  it('a directory or FIFO readable by the kernel is still no disk: unknown, never proven', () => {
    expect(engine.check({ path: '/srv/iso/tree', access: 'read', role: 'top' })).toMatchObject({ accessible: null });
    expect(engine.check({ path: '/srv/iso/fifo', access: 'read', role: 'top' })).toMatchObject({ accessible: null });
  });

  it('a blocking directory is denied with a finding that gives the smallest fix', () => {
    const v = engine.check({ path: '/root/b.iso', access: 'read', role: 'top' });
    expect(v.accessible).toBe(false);
    expect(v.findings?.[0]).toMatchObject({ code: 'dac-dir-search-denied', path: '/root' });
    expect(v.findings?.[0]?.message).toContain('setfacl -m u:libvirt-qemu:x /root');
  });

  it('a missing file is denied with a warning that the VM will fail anyway', () => {
    const v = engine.check({ path: '/srv/iso/none.iso', access: 'read', role: 'top' });
    expect(v.accessible).toBe(false);
    expect(v.findings?.map((f) => f.code)).toEqual(['missing-file']);
  });
});
