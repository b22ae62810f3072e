/**
 * The hook's look at libvirt's records (app/hook-records.ts) over a fake reader: the stale-record line for
 * a same-boot record the starting domain's owner differs from, and libvirt's status files read only when
 * a record needs its holders counted (the hook runs at every start; most meet no record).
 */
import { describe, expect, it } from 'vitest';
import { startRecordLines } from '../../src/app/hook-records.js';
import type { Connection } from '../../src/decide/connection.js';
import type { DecisionPorts } from '../../src/decide/ports.js';
import { parseHookXml, type HookContext } from '../../src/hook/judge.js';
import { success } from '../../src/result.js';
import type { DoctorReader } from '../../src/doctor/ports.js';
import type { RawAttr, RawRecord } from '../../src/doctor/records.js';
import { missing, ok } from '../../src/host/view.js';
import { memoryView } from '../support/memory-view.js';
import { GROUP, PASSWD } from '../cli/harness.js';

const NOW_MS = 1_796_480_000_999; // with UPTIME: boot stamp 1796476167
const UPTIME = '3833.40 1\n';
const v = (s: string): RawAttr => ({ kind: 'value', bytes: new Uint8Array(Buffer.from(s)) });
const A: RawAttr = { kind: 'absent' };
const none: RawRecord = { label: A, ref: A, stamp: A };
const leak: RawRecord = { label: v('+4242:+4242'), ref: v('1'), stamp: v('1796476167') };

function reader(records: Record<string, RawRecord>, counter: { statusReads: number }): DoctorReader {
  return {
    realPath: (p) => (p in records ? ok(p) : missing()),
    stat: () => ok({ type: 'file', uid: 64055, gid: 64055, dev: 1, ino: 7 }),
    records: (p) => ({ kind: 'read', raw: { dac: records[p] ?? none, selinux: none } }),
    selinuxLabel: () => ok(null),
    listDir: () => ok([]),
    statusFiles: () => {
      counter.statusReads++;
      return ok([]);
    },
    qemuAlive: () => true,
    bootStampInputs: () => ({ utmp: undefined, nowMs: NOW_MS, uptime: UPTIME }),
    selfXattrs: () => ({ ok: true }),
    daemonXattrs: () => undefined,
  };
}

// A static DAC label: the owner libvirt will want (64055:4343) differs from the file's (64055:64055).
const xml = (paths: string[]) => {
  const d = parseHookXml(new TextEncoder().encode(
    `<domain type='qemu'><name>vm1</name><devices>${paths.map((p, i) => `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${p}'/><target dev='vd${'ab'[i]}' bus='virtio'/></disk>`).join('')}</devices><seclabel type='static' model='dac' relabel='yes'><label>+64055:+4343</label></seclabel></domain>`,
  ));
  if (!d.ok) throw new Error(d.error);
  return d.value.domain;
};
const view = memoryView({}, { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } });
// Only the view is read for a static label: the connection's user and group are the default identity's.
const context = () => success<HookContext>({ view, conn: { user: 'libvirt-qemu', group: 'libvirt-qemu' } as Connection, ports: {} as DecisionPorts });

describe('the hook\'s record check', () => {
  it('names a stale same-boot record, reading the status files once for every file that needs them', () => {
    const counter = { statusReads: 0 };
    const lines = startRecordLines('vm1', xml(['/srv/a.raw', '/srv/b.raw']), 'dac', context, reader({ '/srv/a.raw': leak, '/srv/b.raw': leak }, counter), '/run/libvirt/qemu');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^stale libvirt record on \/srv\/a\.raw: run `virt-seclabel doctor --apply \/srv\/a\.raw` \(trusted\.libvirt\.security\.ref_dac = 1 but no running domain holds it, and the file is owned 64055:64055, not 64055:4343; libvirt will refuse the start: Requested operation is not valid: Setting different DAC user or group on \/srv\/a\.raw which is already in use\)$/);
    expect(counter.statusReads).toBe(1);
  });

  it('reads no status file when no file carries a record', () => {
    const counter = { statusReads: 0 };
    expect(startRecordLines('vm1', xml(['/srv/a.raw']), 'dac', context, reader({ '/srv/a.raw': none }, counter), '/run/libvirt/qemu')).toEqual([]);
    expect(counter.statusReads).toBe(0);
  });
});
