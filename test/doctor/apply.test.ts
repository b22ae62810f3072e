/**
 * --apply through a recording fake of the effects: libvirt's order (lock, re-read, remove ref_, label,
 * timestamp_, then give back), nothing done when the file or its records changed since the plan, the
 * SELinux restore written through setLabel, and one failure leaving the other actions to run.
 */
import { describe, expect, it } from 'vitest';
import { applyActions, type DoctorEffects, type Held } from '../../src/doctor/apply.js';
import { recordNames, type RawRecord } from '../../src/doctor/records.js';
import type { Action } from '../../src/doctor/verdict.js';
import type { Model } from '../../src/decide/types.js';

interface FakeFile {
  uid: number;
  gid: number;
  dev: number;
  ino: number;
  attrs: Map<string, string>;
  label: string | null;
}

function fake(files: Record<string, FakeFile>, fail: { remove?: string; lock?: boolean; chown?: boolean } = {}) {
  const log: string[] = [];
  const ok = <T>(value: T): Held<T> => ({ ok: true, value });
  const fx: DoctorEffects<string, string> = {
    open: (p) => (files[p] ? (log.push(`open ${p}`), ok(p)) : { ok: false, why: 'does not exist' }),
    stat: (h) => ok({ uid: files[h]!.uid, gid: files[h]!.gid, dev: files[h]!.dev, ino: files[h]!.ino }),
    lock: async (h) => (fail.lock ? { ok: false, why: 'unable to lock it for metadata change: libvirt holds the lock' } : (log.push(`lock ${h}`), ok(h))),
    unlock: async (l) => void log.push(`unlock ${l}`),
    readRecord: (h, m: Model): Held<RawRecord> => {
      const n = recordNames(m);
      const a = (k: string) => {
        const v = files[h]!.attrs.get(k);
        return v === undefined ? ({ kind: 'absent' } as const) : ({ kind: 'value', bytes: new Uint8Array(Buffer.from(v)) } as const);
      };
      return ok({ label: a(n.label), ref: a(n.ref), stamp: a(n.stamp) });
    },
    readLabel: (h) => ok(files[h]!.label),
    removeAttr: (h, name) => {
      if (fail.remove === name) return { ok: false, why: 'operation not permitted' };
      log.push(`remove ${name}`);
      files[h]!.attrs.delete(name);
      return ok(undefined);
    },
    chown: (h, o) => {
      if (fail.chown) return { ok: false, why: 'read-only file system' };
      log.push(`chown ${o.uid}:${o.gid}`);
      files[h]!.uid = o.uid;
      files[h]!.gid = o.gid;
      return ok(undefined);
    },
    setLabel: (h, l) => {
      log.push(`setLabel ${l}`);
      files[h]!.label = l;
      return ok(undefined);
    },
    close: (h) => void log.push(`close ${h}`),
  };
  return { fx, log };
}

const hex = (s: string) => Buffer.from(s).toString('hex');
const dacAttrs = () =>
  new Map([
    ['trusted.libvirt.security.dac', '+4242:+4242'],
    ['trusted.libvirt.security.ref_dac', '1'],
    ['trusted.libvirt.security.timestamp_dac', '1700000000'],
  ]);
const restoreDac: Action = {
  kind: 'restore-record',
  model: 'dac',
  realPath: '/d/vm.raw',
  dev: 1,
  ino: 2,
  expect: { 'trusted.libvirt.security.ref_dac': hex('1'), 'trusted.libvirt.security.dac': hex('+4242:+4242'), 'trusted.libvirt.security.timestamp_dac': hex('1700000000') },
  restore: { owner: { uid: 4242, gid: 4242 } },
  from: { owner: { uid: 64055, gid: 64055 } },
};
const file = (over: Partial<FakeFile> = {}): FakeFile => ({ uid: 64055, gid: 64055, dev: 1, ino: 2, attrs: dacAttrs(), label: null, ...over });

describe('applyActions', () => {
  it('DAC: lock, remove ref_, label, timestamp_ (libvirt\'s order), chown, unlock; reports each change', async () => {
    const f = { '/d/vm.raw': file() };
    const { fx, log } = fake(f);
    const [o] = await applyActions([restoreDac], fx);
    expect(log).toEqual(['open /d/vm.raw', 'lock /d/vm.raw', 'remove trusted.libvirt.security.ref_dac', 'remove trusted.libvirt.security.dac', 'remove trusted.libvirt.security.timestamp_dac', 'chown 4242:4242', 'unlock /d/vm.raw', 'close /d/vm.raw']);
    expect(o).toMatchObject({ status: 'applied', changed: ['removed trusted.libvirt.security.ref_dac', 'removed trusted.libvirt.security.dac', 'removed trusted.libvirt.security.timestamp_dac', 'owner 64055:64055 → 4242:4242'] });
    expect(f['/d/vm.raw'].attrs.size).toBe(0);
  });

  it('records changed since the plan (a domain started meanwhile): nothing is done', async () => {
    const f = { '/d/vm.raw': file({ attrs: new Map([...dacAttrs(), ['trusted.libvirt.security.ref_dac', '2']]) }) };
    const { fx, log } = fake(f);
    const [o] = await applyActions([restoreDac], fx);
    expect(o).toMatchObject({ status: 'skipped', changed: [] });
    expect(o!.why).toContain('trusted.libvirt.security.ref_dac changed since the plan');
    expect(log).not.toContain('chown 4242:4242');
    expect(f['/d/vm.raw'].attrs.get('trusted.libvirt.security.ref_dac')).toBe('2');
  });

  it('another inode at the path: nothing is done', async () => {
    const { fx, log } = fake({ '/d/vm.raw': file({ ino: 99 }) });
    expect((await applyActions([restoreDac], fx))[0]).toMatchObject({ status: 'skipped', why: 'the path names another file than the one planned' });
    expect(log.some((l) => l.startsWith('remove') || l.startsWith('lock'))).toBe(false);
  });

  it('an owner changed since the plan: the records go, the owner stays, and it says why', async () => {
    const f = { '/d/vm.raw': file({ uid: 7, gid: 7 }) };
    const { fx, log } = fake(f);
    const [o] = await applyActions([restoreDac], fx);
    expect(o).toMatchObject({ status: 'applied', why: 'not given back: its owner is now 7:7, not 64055:64055' });
    expect(log.some((l) => l.startsWith('chown'))).toBe(false);
  });

  it('the lock busy: failed, nothing removed', async () => {
    const f = { '/d/vm.raw': file() };
    const { fx } = fake(f, { lock: true });
    expect((await applyActions([restoreDac], fx))[0]).toMatchObject({ status: 'failed', why: 'unable to lock it for metadata change: libvirt holds the lock' });
    expect(f['/d/vm.raw'].attrs.size).toBe(3);
  });

  it('a failing removal stops that action (no chown) and the next action still runs', async () => {
    const f = { '/d/vm.raw': file(), '/d/b.raw': file() };
    const { fx } = fake(f, { remove: 'trusted.libvirt.security.dac' });
    const second: Action = { ...restoreDac, realPath: '/d/b.raw' };
    const out = await applyActions([restoreDac, second], fx);
    expect(out[0]).toMatchObject({ status: 'failed', changed: ['removed trusted.libvirt.security.ref_dac'], why: 'removing trusted.libvirt.security.dac: operation not permitted' });
    expect(out[1]).toMatchObject({ status: 'failed' });
    expect(f['/d/vm.raw'].uid).toBe(64055);
  });

  it('SELinux: the remembered label is written through setLabel after the records go', async () => {
    const svirt = 'system_u:object_r:svirt_image_t:s0:c1,c2';
    const orig = 'system_u:object_r:virt_image_t:s0';
    const f = {
      '/d/vm.raw': file({
        label: svirt,
        attrs: new Map([
          ['trusted.libvirt.security.selinux', orig],
          ['trusted.libvirt.security.ref_selinux', '1'],
          ['trusted.libvirt.security.timestamp_selinux', '5'],
        ]),
      }),
    };
    const { fx, log } = fake(f);
    const a: Action = {
      kind: 'restore-record',
      model: 'selinux',
      realPath: '/d/vm.raw',
      dev: 1,
      ino: 2,
      expect: { 'trusted.libvirt.security.ref_selinux': hex('1'), 'trusted.libvirt.security.selinux': hex(orig), 'trusted.libvirt.security.timestamp_selinux': hex('5') },
      restore: { label: orig },
      from: { label: svirt },
    };
    const [o] = await applyActions([a], fx);
    expect(o).toMatchObject({ status: 'applied', changed: ['removed trusted.libvirt.security.ref_selinux', 'removed trusted.libvirt.security.selinux', 'removed trusted.libvirt.security.timestamp_selinux', `label ${svirt} → ${orig}`] });
    expect(log.at(-3)).toBe(`setLabel ${orig}`);
    expect(f['/d/vm.raw'].label).toBe(orig);
  });

  it('SELinux: a label changed since the plan is kept', async () => {
    const f = { '/d/vm.raw': file({ label: 'system_u:object_r:public_content_t:s0', attrs: new Map([['trusted.libvirt.security.ref_selinux', '1']]) }) };
    const { fx, log } = fake(f);
    const a: Action = { kind: 'restore-record', model: 'selinux', realPath: '/d/vm.raw', dev: 1, ino: 2, expect: { 'trusted.libvirt.security.ref_selinux': hex('1'), 'trusted.libvirt.security.selinux': null, 'trusted.libvirt.security.timestamp_selinux': null }, restore: { label: 'x:y:z' }, from: { label: 'system_u:object_r:svirt_image_t:s0:c1,c2' } };
    expect((await applyActions([a], fx))[0]).toMatchObject({ status: 'applied', changed: ['removed trusted.libvirt.security.ref_selinux'] });
    expect(log.some((l) => l.startsWith('setLabel'))).toBe(false);
  });

  it('set-owner and set-label act only on the owner/label the plan saw', async () => {
    const f = { '/d/iso': file({ attrs: new Map(), label: 'system_u:object_r:virt_content_t:s0' }) };
    const { fx } = fake(f);
    const out = await applyActions(
      [
        { kind: 'set-owner', realPath: '/d/iso', dev: 1, ino: 2, from: { uid: 64055, gid: 64055 }, to: { uid: 1000, gid: 1000 } },
        { kind: 'set-owner', realPath: '/d/iso', dev: 1, ino: 2, from: { uid: 64055, gid: 64055 }, to: { uid: 5, gid: 5 } },
        { kind: 'set-label', realPath: '/d/iso', dev: 1, ino: 2, from: 'system_u:object_r:virt_content_t:s0', to: 'system_u:object_r:public_content_t:s0' },
      ],
      fx,
    );
    expect(out.map((o) => o.status)).toEqual(['applied', 'skipped', 'applied']);
    expect(f['/d/iso']).toMatchObject({ uid: 1000, gid: 1000, label: 'system_u:object_r:public_content_t:s0' });
  });
});
