/**
 * The hook store's copy of the running policy (app/hook-policy-store.ts, selinux/kernel-status.ts): `hook
 * install` stores the kernel's policy bytes with the kernel's instance (boot_id, the status page's
 * policyload) read before and after; the hook reads the copy instead of /sys/fs/selinux/policy only while
 * the kernel reports that very instance. Here the kernel is a stand-in view over Debian's policy file (this
 * host has no SELinux kernel; the real kernel's side, a boolean commit included, is in
 * ../selinux-kernel/libvirt-enforcing.test.ts): every read is recorded, so a test sees which policy the
 * hook read, and answers are compared with the whole policy's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLiveView } from '../../src/adapters/live/live-view.js';
import { applyHookPolicyStore, hookPolicyLoader, planHookPolicyStore } from '../../src/app/hook-policy-store.js';
import { RUNNING_COPY, RUNNING_INSTANCE } from '../../src/selinux/policy/cache-entry.js';
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
    expect(readFileSync(join(dir, RUNNING_INSTANCE), 'utf8')).toBe(`${BOOT} 7\n`);
    const again = planHookPolicyStore(k.view, reader(dir));
    expect(again.ok && again.value.present).toBe(true);
    k.kernel.reads.length = 0;
    return { dir, k };
  };

  it('the same instance: the copy, never /sys/fs/selinux/policy nor a boolean; the same answers', () => {
    const { dir, k } = installed();
    const l = hookPolicyLoader(reader(dir), dir)(k.view, opts);
    if (!l.ok) throw new Error(l.error);
    expect(l.value.source).toBe(join(dir, RUNNING_COPY));
    for (const q of questions) expect(l.value.oracle.compute(q)).toEqual(whole.compute(q));
    expect(k.kernel.reads).not.toContain('/sys/fs/selinux/policy');
    expect(k.kernel.reads.filter((r) => r.startsWith('/sys/fs/selinux/booleans/'))).toEqual([]);
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
