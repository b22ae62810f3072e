/**
 * The hook store's copy of the running policy (app/hook-policy-store.ts, selinux/kernel-status.ts): `hook
 * install` stores the kernel's policy bytes with the kernel's instance (boot_id, the status page's
 * policyload) read before and after; the hook reads the copy instead of /sys/fs/selinux/policy only while
 * the kernel reports that very instance. Here the kernel is a stand-in view over Debian's policy file (this
 * host has no SELinux kernel; the real kernel's side, a boolean commit included, is in
 * ../selinux-kernel/libvirt-enforcing.test.ts): every read is recorded, so a test sees which policy the
 * hook read, and answers are compared with the whole policy's.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLiveView } from '../../src/adapters/live/live-view.js';
import { applyHookPolicyStore, formatRecord, hookPolicyLoader, parseRecord, planHookPolicyStore } from '../../src/app/hook-policy-store.js';
import { RUNNING_COPY, RUNNING_INSTANCE, projectionEntryName } from '../../src/selinux/policy/cache-entry.js';
import type { PolicyCache } from '../../src/selinux/policy/cached-load.js';
import type { HostOptions } from '../../src/app/host-options.js';
import { BOOT_ID_PATH, SELINUX_STATUS_PATH } from '../../src/app/selinux-engine.js';
import { ok, type HostView } from '../../src/host/view.js';
import { instanceOf, parseInstance, statusPolicyload } from '../../src/selinux/kernel-status.js';
import { loadPolicy } from '../../src/selinux/policy/load.js';
import { policyOracle } from '../../src/selinux/policy-oracle.js';
import { debian, reader, root, useStoreDirs, writer } from './hook-store-fixture.js';

const BOOT = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const page = (policyload: number, sequence = 2, version = 1) => {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(version, 0);
  b.writeUInt32LE(sequence, 4);
  b.writeUInt32LE(1, 8);
  b.writeUInt32LE(policyload, 12);
  return new Uint8Array(b);
};

/** A live view with the kernel's SELinux files stood in: the policy bytes, the status page, boot_id. */
function standIn(policy: Uint8Array) {
  const kernel = { boot: BOOT, load: 7, sequence: 2, reads: [] as string[] };
  const live = createLiveView();
  const view: HostView = {
    ...live,
    readText(p) {
      if (p === BOOT_ID_PATH) return ok(`${kernel.boot}\n`);
      if (p === '/sys/fs/selinux/enforce') return ok('1');
      if (p.startsWith('/sys/fs/selinux/booleans/')) {
        kernel.reads.push(p);
        return { kind: 'unknown', why: 'EACCES' };
      }
      return live.readText(p);
    },
    readBinary(p) {
      kernel.reads.push(p);
      if (p === SELINUX_STATUS_PATH) return ok(page(kernel.load, kernel.sequence));
      if (p === '/sys/fs/selinux/policy') return ok(policy);
      return live.readBinary(p);
    },
    listDir(p) {
      return p === '/sys/fs/selinux/booleans' ? ok([]) : live.listDir(p);
    },
  };
  return { view, kernel };
}

describe('the kernel\'s status page and instance', () => {
  it('policyload only from a whole page written by no one (sequence even)', () => {
    expect(statusPolicyload(page(9))).toBe(9);
    expect(statusPolicyload(page(9, 3))).toBeUndefined();
    expect(statusPolicyload(page(9, 2, 0))).toBeUndefined();
    expect(statusPolicyload(page(9).subarray(0, 19))).toBeUndefined();
    expect(instanceOf(BOOT, page(4), page(4))).toEqual({ bootId: BOOT, policyload: 4 });
    expect(instanceOf(BOOT, page(4), page(5))).toBeUndefined();
    expect(instanceOf(undefined, page(4), page(4))).toBeUndefined();
  });

  it('the stored instance line is parsed strictly', () => {
    expect(parseInstance(`${BOOT} 12\n`)).toEqual({ bootId: BOOT, policyload: 12 });
    for (const bad of [`${BOOT} 12`, `${BOOT}  12\n`, `nope 12\n`, `${BOOT} -1\n`, `${BOOT} 99999999999\n`, '']) expect(parseInstance(bad)).toBeUndefined();
  });

  it('the record (the instance, then the projection it names) is parsed strictly, and round-trips', () => {
    const projection = { policyLength: 2148201, payloadLength: 313432, payloadCrc: 4294967295 };
    expect(parseRecord(formatRecord({ instance: { bootId: BOOT, policyload: 12 }, projection }))).toEqual({ instance: { bootId: BOOT, policyload: 12 }, projection });
    expect(formatRecord({ instance: { bootId: BOOT, policyload: 12 }, projection })).toBe(`${BOOT} 12\nprojection 2148201 313432 4294967295\n`);
    // A store written before records named a projection: the instance alone.
    expect(parseRecord(`${BOOT} 12\n`)).toEqual({ instance: { bootId: BOOT, policyload: 12 } });
    for (const bad of [
      `${BOOT} 12\nprojection 1 2 3`, `${BOOT} 12\nprojection 1 2\n`, `${BOOT} 12\nprojection 1 2 4294967296\n`, `${BOOT} 12\nprojection 1 2 3\nmore\n`,
      `${BOOT} 12\nprojection -1 2 3\n`, `nope 12\nprojection 1 2 3\n`, `projection 1 2 3\n`, `${BOOT} 12\n\n`,
    ]) expect(parseRecord(bad)).toBeUndefined();
  });
});

describe.skipIf(!root || debian.length === 0)('the hook reads the store\'s copy only while the kernel holds that policy', () => {
  const storeDir = useStoreDirs('vsl-running-copy-');
  const path = debian[0]!;
  const bytes = readFileSync(path);
  const full = loadPolicy(bytes);
  if (!full.ok) throw new Error(full.error.message);
  const whole = policyOracle(full.value);
  const opts = { booleans: {} } as unknown as HostOptions;
  const questions = ['public_content_t', 'user_home_t', 'svirt_image_t', 'nfs_t'].map((t) => ({ scontext: 'system_u:system_r:svirt_t:s0:c1,c2', tcontext: `system_u:object_r:${t}:s0`, tclass: 'file', perms: ['read', 'open'] }));

  const installed = () => {
    const dir = storeDir();
    const k = standIn(bytes);
    const plan = planHookPolicyStore(k.view, reader(dir));
    if (!plan.ok) throw new Error(plan.error);
    expect(plan.value.instance).toEqual({ bootId: BOOT, policyload: 7 });
    expect(applyHookPolicyStore(plan.value, writer(dir), reader(dir))).toEqual({ ok: true, value: undefined });
    expect(readFileSync(join(dir, RUNNING_COPY)).equals(bytes)).toBe(true);
    // The record names the projection install wrote from these bytes, as the entry's own head states it.
    const head = readFileSync(join(dir, projectionEntryName())).subarray(0, 24);
    expect(readFileSync(join(dir, RUNNING_INSTANCE), 'utf8')).toBe(`${BOOT} 7\nprojection ${bytes.length} ${head.readUInt32LE(16)} ${head.readUInt32LE(20)}\n`);
    expect(head.readUInt32LE(12)).toBe(bytes.length);
    const again = planHookPolicyStore(k.view, reader(dir));
    expect(again.ok && again.value.present).toBe(true);
    k.kernel.reads.length = 0;
    return { dir, k };
  };

  /** The hook's loader over the store, every store call recorded; its answers are the whole policy's. */
  const loadCounted = (dir: string, view: HostView) => {
    const r = counted(reader(dir));
    const l = hookPolicyLoader(r.cache, dir)(view, opts);
    if (!l.ok) throw new Error(l.error);
    for (const q of questions) expect(l.value.oracle.compute(q)).toEqual(whole.compute(q));
    return { loaded: l.value, calls: r.calls };
  };

  it('the same instance: the copy, never /sys/fs/selinux/policy nor a boolean; the same answers', () => {
    const { dir, k } = installed();
    const r = loadCounted(dir, k.view);
    expect(r.loaded.source).toBe(join(dir, RUNNING_COPY));
    expect(k.kernel.reads).not.toContain('/sys/fs/selinux/policy');
    expect(k.kernel.reads.filter((r) => r.startsWith('/sys/fs/selinux/booleans/'))).toEqual([]);
    // The projection's payload alone, as the record marks it: its policy part is not compared again.
    expect(r.calls).toEqual(['read running-policy.instance', 'readPayload projection.bin']);
  }, 120_000);

  it('a projection written since that the record does not name: compared with the copy in full, as before', () => {
    const { dir, k } = installed();
    const record = readFileSync(join(dir, RUNNING_INSTANCE), 'utf8');
    // What an install for a policy that is not the running kernel's leaves: its own projection, no new record.
    const other = planHookPolicyStore({ ...k.view, readText: (p) => (p === '/sys/fs/selinux/enforce' || p === BOOT_ID_PATH ? { kind: 'missing', errno: 'ENOENT' } : k.view.readText(p)) }, reader(dir));
    if (!other.ok) throw new Error(other.error);
    expect(other.value.instance).toBeUndefined();
    expect(applyHookPolicyStore({ ...other.value, scope: { ...other.value.scope, sourceTypes: [...other.value.scope.sourceTypes, 'virtd_t'] } }, writer(dir), reader(dir)).ok).toBe(true);
    expect(readFileSync(join(dir, RUNNING_INSTANCE), 'utf8')).toBe(record);
    expect(loadCounted(dir, k.view).calls).toEqual(['read running-policy.instance', 'readPayload projection.bin', 'readAgainst projection.bin']);
  }, 120_000);

  it('a damaged payload of the same length: no projection from it, the whole policy answers', () => {
    const { dir, k } = installed();
    const file = join(dir, projectionEntryName());
    const entry = readFileSync(file);
    entry[entry.length - 100]! ^= 0xff;
    writeFileSync(file, entry, { mode: 0o600 });
    expect(loadCounted(dir, k.view).calls).toEqual(['read running-policy.instance', 'readPayload projection.bin', 'readAgainst projection.bin']);
  }, 120_000);

  it('a record from before records named a projection: compared in full, and install rewrites it', () => {
    const { dir, k } = installed();
    writeFileSync(join(dir, RUNNING_INSTANCE), `${BOOT} 7\n`, { mode: 0o600 });
    const r = loadCounted(dir, k.view);
    expect(r.loaded.source).toBe(join(dir, RUNNING_COPY));
    expect(r.calls).toEqual(['read running-policy.instance', 'readAgainst projection.bin']);
    const plan = planHookPolicyStore(k.view, reader(dir));
    expect(plan.ok && plan.value.present).toBe(false);
  }, 120_000);

  for (const [what, change] of [
    ['a policy load or boolean commit since (policyload moved)', (kernel: { load: number }) => { kernel.load = 8; }],
    ['another boot', (kernel: { boot: string }) => { kernel.boot = BOOT.replace('0f1e', 'aaaa'); }],
    ['a status page being written (odd sequence)', (kernel: { sequence: number }) => { kernel.sequence = 3; }],
  ] as const) {
    it(`${what}: the kernel's own policy is read, as without a copy`, () => {
      const { dir, k } = installed();
      change(k.kernel as never);
      const l = hookPolicyLoader(reader(dir), dir)(k.view, opts);
      if (!l.ok) throw new Error(l.error);
      expect(l.value.source).toBe('/sys/fs/selinux/policy');
      expect(k.kernel.reads).toContain('/sys/fs/selinux/policy');
      for (const q of questions) expect(l.value.oracle.compute(q)).toEqual(whole.compute(q));
    }, 120_000);
  }

  it('a policy that is not the running kernel\'s (--policy, a configured file): no copy, no instance', () => {
    const dir = storeDir();
    const plan = planHookPolicyStore(createLiveView(), reader(dir));
    if (plan.ok) expect(plan.value.instance).toBeUndefined();
  });
});

/** The reader with each call on its store recorded (method and entry name). */
function counted(cache: PolicyCache): { cache: PolicyCache; calls: string[] } {
  const calls: string[] = [];
  const { store } = cache;
  return {
    calls,
    cache: {
      key: cache.key,
      store: {
        read: (name) => (calls.push(`read ${name}`), store.read(name)),
        write: (name, parts) => store.write(name, parts),
        readAgainst: (name, ...rest) => (calls.push(`readAgainst ${name}`), store.readAgainst!(name, ...rest)),
        readPayload: (name, ...rest) => (calls.push(`readPayload ${name}`), store.readPayload!(name, ...rest)),
      },
    },
  };
}
