/**
 * Live mode against a fake selinuxfs (class/permission numbers and booleans as files, access/context
 * transactions answered by the engine under the fake kernel's current booleans). Answers are checked
 * against libsepol, so the plumbing (numbering, reply parsing, boolean handling) is what is under test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveAccess, openLiveKernel, parseAccessReply, parseBooleanNode, type LiveKernel } from '../../src/selinux/live.js';
import { nodeSelinuxFs, selinuxfsMounted } from '../../src/adapters/live/selinuxfs.js';
import { missingRequirements } from '../support/requirements.js';
import { compilePolicy } from './differential/compile.js';
import { readPolicyNames } from './differential/queries.js';
import { sweepQueries } from './differential/sweep.js';
import { makeFakeSelinuxfs, type FakeSelinuxfs } from './fake-selinuxfs.js';
import { askSepol } from './reference/sepol.js';

describe('selinuxfs reply parsing', () => {
  it('reads the six-field reply of current kernels and the five-field one of old kernels', () => {
    expect(parseAccessReply('1f ffffffff 0 ffffffff 12 1')).toEqual({ allowed: 0x1f, flags: 1 });
    expect(parseAccessReply('80000000 ffffffff 0 ffffffff 3\0')).toEqual({ allowed: 0x80000000, flags: 0 });
  });
  it('refuses anything else', () => {
    for (const bad of ['', 'ok', '1 2 3 4', 'zz ffffffff 0 ffffffff 1 0', '1 ffffffff 0 ffffffff x 0', '1 2 3 4 5 6 7', '123456789 0 0 0 1 0']) {
      expect(parseAccessReply(bad)).toBeUndefined();
    }
  });
  it('reads boolean nodes as "cur pending"', () => {
    expect(parseBooleanNode('1 0')).toBe(true);
    expect(parseBooleanNode('0 1\n')).toBe(false);
    expect(parseBooleanNode('1')).toBeUndefined();
    expect(parseBooleanNode('on off')).toBeUndefined();
  });
});

const skip = missingRequirements({ commands: ['cc', 'checkpolicy'], files: ['/usr/lib/x86_64-linux-gnu/libsepol.a'] });

describe.skipIf(skip)('live kernel over a fake selinuxfs', () => {
  let policyPath: string;
  let fake: FakeSelinuxfs;
  let kernel: LiveKernel;

  beforeAll(() => {
    policyPath = compilePolicy({ conf: 'conditionals', version: 33, mls: false, handleUnknown: 'deny' });
    // The running kernel has use_nfs switched on, unlike the policy file's default.
    fake = makeFakeSelinuxfs(policyPath, { current: { use_nfs: true } });
    const k = openLiveKernel(nodeSelinuxFs(fake.root, fake.transact));
    if (!k.ok) throw new Error(k.error);
    kernel = k.value;
  });
  afterAll(() => fake.cleanup());

  it('reads status and current booleans from the tree', () => {
    expect(kernel.status).toEqual({ enforcing: true, mls: false, policyVersion: 33 });
    expect(Object.fromEntries(kernel.booleans())).toEqual(fake.current);
    expect(fake.current.use_nfs).toBe(true);
    expect(selinuxfsMounted(fake.root)).toBe(true);
  });

  it('answers like libsepol under the kernel current booleans', () => {
    const queries = sweepQueries(readPolicyNames(policyPath), 1)
      .filter((q) => !q.booleans)
      .slice(0, 3000);
    const expected = askSepol(policyPath, queries.map((q) => ({ ...q, booleans: fake.current })));
    let compared = 0;
    queries.forEach((q, i) => {
      const ref = expected[i]!;
      const got = kernel.kernelAccess(q);
      expect(got.ok, `${q.scontext} ${q.tcontext} ${q.tclass}`).toBe(ref.ok);
      if (!ref.ok || !got.ok) return;
      expect(q.perms.map((p) => got.granted.includes(p))).toEqual(ref.allowed);
      expect(got.allowed).toBe(ref.allowed.every(Boolean));
      compared++;
    });
    expect(compared).toBeGreaterThan(1000);
  });

  it('asks the kernel when overrides equal its current values, the loaded policy otherwise', () => {
    const q = { scontext: 'system_u:sys_r:vm_t', tcontext: 'system_u:object_r:nfs_t', tclass: 'file', perms: ['read', 'open'] };
    const before = fake.transactions.length;
    const same = liveAccess(kernel, { ...q, booleans: { use_nfs: true } });
    expect(fake.transactions.length).toBeGreaterThan(before);
    const viaKernelTransactions = fake.transactions.length;
    const flipped = liveAccess(kernel, { ...q, booleans: { use_nfs: false } });
    expect(fake.transactions.length).toBe(viaKernelTransactions); // answered from the policy node

    const [refSame, refFlipped] = askSepol(policyPath, [
      { ...q, booleans: { ...fake.current, use_nfs: true } },
      { ...q, booleans: { ...fake.current, use_nfs: false } },
    ]);
    expect(same.ok && refSame?.ok && same.allowed).toBe(refSame?.ok && refSame.allowed.every(Boolean));
    expect(flipped.ok && refFlipped?.ok && flipped.allowed).toBe(refFlipped?.ok && refFlipped.allowed.every(Boolean));
    // The flip must matter here, or the test proves nothing about which path answered.
    expect(refSame?.ok && refFlipped?.ok && refSame.allowed.every(Boolean) !== refFlipped.allowed.every(Boolean)).toBe(true);
  });

  it('refuses unknown names, invalid contexts and path tricks without touching the access node', () => {
    const base = { scontext: 'system_u:sys_r:vm_t', tcontext: 'system_u:object_r:image_t', tclass: 'file', perms: ['read'] };
    const bad = [
      { ...base, tclass: 'no_such_class' },
      { ...base, tclass: '../../etc' },
      { ...base, perms: ['read', 'fly'] },
      { ...base, perms: ['../index'] },
      { ...base, perms: [] },
      { ...base, scontext: 'system_u:sys_r:no_such_t' },
      { ...base, tcontext: 'system_u:object_r:image_t extra' },
      { ...base, tcontext: '' },
    ];
    const before = fake.transactions.filter((t) => t.node === 'access').length;
    for (const req of bad) expect(kernel.kernelAccess(req).ok, JSON.stringify(req)).toBe(false);
    expect(fake.transactions.filter((t) => t.node === 'access').length).toBe(before);
    expect(liveAccess(kernel, { ...base, booleans: { no_such_bool: true } }).ok).toBe(false);
  });

  it('reports a malformed kernel reply as an error, not an answer', () => {
    const k = openLiveKernel(nodeSelinuxFs(fake.root, (node, req) => (node === 'access' ? { ok: true, reply: 'garbage' } : fake.transact(node, req))));
    expect(k.ok && k.value.kernelAccess({ scontext: 'system_u:sys_r:vm_t', tcontext: 'system_u:object_r:image_t', tclass: 'file', perms: ['read'] }).ok).toBe(false);
  });

  it('is not a live kernel without an enforce node', () => {
    expect(openLiveKernel(nodeSelinuxFs(`${fake.root}/class`)).ok).toBe(false);
    expect(selinuxfsMounted(`${fake.root}/class`)).toBe(false);
  });
});
