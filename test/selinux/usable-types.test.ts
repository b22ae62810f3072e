/**
 * The `labels` query on a tiny policy compiled by checkpolicy (differential/policies/labels.conf), whose
 * answers follow from reading it: types reached through attributes are listed, attributes never (not
 * even one with no members), the exact permission set is required (partial_t lacks lock), typebounds mask
 * (bounded_out_t), a type constraint keeps ro_forced_t read-only, MCS constraints give the conditions
 * (exempt_t at any level, eqonly_t only at the VM's own level), and conditional rules appear only under
 * their boolean, as a flip (share_nfs on adds nfs_t; use_usb off adds legacy_t's else branch).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkLabel } from '../../src/selinux/label-check.js';
import { loadPolicy } from '../../src/selinux/policy/load.js';
import type { Policy } from '../../src/selinux/policy/model.js';
import type { SvirtProcess } from '../../src/selinux/svirt-process.js';
import { usableTypes } from '../../src/selinux/usable-types.js';
import { missingRequirements } from '../support/requirements.js';
import { compilePolicy } from './differential/compile.js';

const skip = missingRequirements({ commands: ['checkpolicy'] });
const DYNAMIC: SvirtProcess = { kind: 'dynamic', user: 'system_u', role: 'system_r', type: 'svirt_t', mls: true, categories: { min: 0, max: 7 } };
const DOMINATED = "only with no categories or categories the VM's level dominates";

function policy(): Policy {
  const r = loadPolicy(readFileSync(compilePolicy({ conf: 'labels', version: 33, mls: true, handleUnknown: 'deny' })));
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const rows = (items: readonly { use: string; tclass: string; type: string; condition: string }[]) => items.map((u) => `${u.use} ${u.tclass} ${u.type}: ${u.condition}`);

describe.skipIf(skip)('usableTypes on a tiny checkpolicy-compiled policy', () => {
  it('lists exactly the types the rules, bounds and constraints leave, with their MCS condition', () => {
    const r = usableTypes(policy(), DYNAMIC, {});
    if (!r.ok) throw new Error(r.error);
    expect(rows(r.value.usable)).toEqual([
      `read-only blk_file eqonly_t: only with exactly the VM's own categories (what libvirt's relabel gives it)`,
      `read-only blk_file image_t: ${DOMINATED}`,
      `read-only blk_file usb_t: ${DOMINATED}`,
      'read-only file exempt_t: at any level: MCS does not restrict this type',
      `read-only file image_t: ${DOMINATED}`,
      `read-only file iso_t: ${DOMINATED}`,
      `read-only file ro_forced_t: ${DOMINATED}`,
      `read-write blk_file image_t: ${DOMINATED}`,
      `read-write blk_file usb_t: ${DOMINATED}`,
      `read-write file image_t: ${DOMINATED}`,
    ]);
    expect(r.value.flips.map((f) => `${f.boolean}=${f.value} ${rows([f])[0]}`)).toEqual([
      `share_nfs=true read-only file nfs_t: ${DOMINATED}`,
      `use_usb=false read-only blk_file legacy_t: ${DOMINATED}`,
    ]);
  });

  it('a boolean given moves its types into the list and the flip back out of it', () => {
    const r = usableTypes(policy(), DYNAMIC, { share_nfs: true, use_usb: false });
    if (!r.ok) throw new Error(r.error);
    const listed = rows(r.value.usable);
    expect(listed).toContain(`read-only file nfs_t: ${DOMINATED}`);
    expect(listed).toContain(`read-only blk_file legacy_t: ${DOMINATED}`);
    expect(listed.some((l) => l.includes('usb_t'))).toBe(false);
    expect(r.value.flips.map((f) => `${f.boolean}=${f.value} ${f.use} ${f.tclass} ${f.type}`)).toEqual([
      'use_usb=true read-only blk_file usb_t',
      'use_usb=true read-write blk_file usb_t',
    ]);
  });

  it('a static context is one level: its own categories and what it dominates', () => {
    const r = usableTypes(policy(), { kind: 'static', context: 'system_u:system_r:svirt_t:s0:c1,c2' }, {});
    if (!r.ok) throw new Error(r.error);
    const eq = r.value.usable.find((u) => u.type === 'eqonly_t')!;
    expect(eq.levels).toEqual({ 'no-categories': false, 'vm-categories': true, 'vm-subset': false, foreign: false, superset: false, 'full-range': false });
  });

  it('--check gives the engine reason per use and class, over every VM of a dynamic label', () => {
    const p = policy();
    const ok = checkLabel(p, DYNAMIC, 'system_u:object_r:iso_t:s0', {});
    if (!ok.ok) throw new Error(ok.error);
    expect(ok.value.map((v) => `${v.use} ${v.tclass} ${v.allowed}`)).toEqual(['read-only file true', 'read-only blk_file false', 'read-write file false', 'read-write blk_file false']);
    expect(ok.value[0]!.processContexts.length).toBeGreaterThan(1);
    const mcs = checkLabel(p, DYNAMIC, 'system_u:object_r:iso_t:s0:c3', {});
    if (!mcs.ok) throw new Error(mcs.error);
    expect(mcs.value[0]!.allowed).toBe(false);
    expect(mcs.value[0]!.reason).toMatch(/MLS constraint/);
    const bounded = checkLabel(p, DYNAMIC, 'system_u:object_r:bounded_out_t:s0', {});
    if (!bounded.ok) throw new Error(bounded.error);
    expect(bounded.value[0]!.denied).toEqual(['read']);
    expect(bounded.value[0]!.reason).toMatch(/bound/);
    expect(checkLabel(p, DYNAMIC, 'system_u:object_r:media:s0', {}).ok).toBe(false); // an attribute is no label
  });

  it('a policy without MLS has no MCS condition, and user constraints are checked with the file user', () => {
    const r0 = loadPolicy(readFileSync(compilePolicy({ conf: 'constraints', version: 33, mls: false, handleUnknown: 'deny' })));
    if (!r0.ok) throw new Error(r0.error.message);
    const r = usableTypes(r0.value, { kind: 'static', context: 'system_u:vm_r:vm_t' }, {});
    if (!r.ok) throw new Error(r.error);
    // allow domain files:* ; the file user system_u equals the process user, so the write constraint passes.
    const types = ['dev_t', 'home_t', 'image_t', 'iso_t'];
    expect(rows(r.value.usable)).toEqual(['read-only', 'read-write'].flatMap((use) => ['blk_file', 'file'].flatMap((c) => types.map((t) => `${use} ${c} ${t}: no MCS condition (the policy has no MLS)`))));
    // Another user's process may read but not write them (u1 == u2 or t1 == { admin_t tool_t }).
    const other = usableTypes(r0.value, { kind: 'static', context: 'vm_u:vm_r:vm_t' }, {});
    if (!other.ok) throw new Error(other.error);
    expect(other.value.usable.filter((u) => u.use === 'read-write' && u.tclass === 'file')).toEqual([]);
  });
});
