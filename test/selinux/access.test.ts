import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeAccess, type AccessAnswer } from '../../src/selinux/access.js';
import { loadPolicy } from '../../src/selinux/policy/load.js';
import type { Policy } from '../../src/selinux/policy/model.js';
import { booleanDefaults, classPerms, typeExists } from '../../src/selinux/policy/query.js';
import { missingRequirements } from '../support/requirements.js';

const SOURCES = join(import.meta.dirname, 'policies');
const skip = missingRequirements({ commands: ['checkpolicy', 'sesearch', 'seinfo'] });

/**
 * The explanations: what the answer says about why. Whether access is allowed is checked against
 * libsepol by the differential suite; here each explanation is checked against the policy as setools
 * reads it (sesearch's rules, seinfo's booleans and classes).
 */
describe.skipIf(skip !== undefined)('access answers and their explanations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vs-access-'));
  let tiny: Policy;
  let mls: Policy;
  const tinyPath = join(dir, 'tiny');
  beforeAll(() => {
    execFileSync('checkpolicy', ['-c', '33', '-o', tinyPath, join(SOURCES, 'tiny.conf')], { stdio: 'pipe' });
    execFileSync('checkpolicy', ['-M', '-c', '33', '-o', join(dir, 'mls'), join(SOURCES, 'tiny-mls.conf')], { stdio: 'pipe' });
    const load = (p: string) => { const r = loadPolicy(readFileSync(p)); if (!r.ok) throw new Error(r.error.message); return r.value; };
    tiny = load(tinyPath);
    mls = load(join(dir, 'mls'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const sesearch = (...args: string[]) => execFileSync('sesearch', ['-A', ...args, tinyPath], { encoding: 'utf8' });
  const ok = (a: AccessAnswer) => { if (!a.ok) throw new Error(a.error); return a; };

  it('names the rule that granted, as sesearch lists it', () => {
    const a = ok(computeAccess(tiny, { scontext: 'system_u:system_r:vm_t', tcontext: 'system_u:object_r:image_t', tclass: 'file', perms: ['read', 'open'] }));
    expect(a.allowed).toBe(true);
    expect(a.granted).toEqual(['read', 'open']);
    const rule = a.because.granting[0]!;
    expect(rule.grants).toEqual(expect.arrayContaining(['read', 'open']));
    expect(sesearch('-s', rule.source, '-t', rule.target, '-c', 'file', '-p', 'read')).toContain(`allow ${rule.source} ${rule.target}:file { ${[...rule.perms].sort().join(' ')} };`);
    expect(a.reason).toBe(`allowed by allow ${rule.source} ${rule.target}:file { ${rule.perms.join(' ')} }`);
  });

  it('rules through attributes are reported with the attribute', () => {
    const a = ok(computeAccess(tiny, { scontext: 'system_u:system_r:vm_t', tcontext: 'system_u:object_r:etc_t', tclass: 'file', perms: ['read'] }));
    expect(a.because.granting[0]).toMatchObject({ source: 'domain', target: 'etc_t' });
    expect(sesearch('-s', 'domain', '-t', 'etc_t', '-c', 'file')).toContain('allow domain etc_t:file');
  });

  it('a denial a boolean would lift names the boolean, and setting it grants through the conditional rule', () => {
    const req = { scontext: 'system_u:system_r:vm_t', tcontext: 'system_u:object_r:nfs_t', tclass: 'file', perms: ['read'] };
    const off = ok(computeAccess(tiny, req));
    expect(off.allowed).toBe(false);
    expect(off.because.denials).toEqual([{ perms: ['read'], cause: 'te', wouldGrant: [{ booleans: ['use_nfs'], condition: 'use_nfs', flip: { name: 'use_nfs', value: true } }] }]);
    expect(off.reason).toBe('denied unless use_nfs is on');
    expect(sesearch('-s', 'vm_t', '-t', 'nfs_t', '-c', 'file', '-p', 'read')).toMatch(/\[ use_nfs \]:True/);
    const on = ok(computeAccess(tiny, { ...req, booleans: { use_nfs: true } }));
    expect(on.allowed).toBe(true);
    expect(on.because.granting[0]?.conditional).toBe('use_nfs');
    // The default stays what the file says: the override applied to one question only.
    expect(booleanDefaults(tiny).get('use_nfs')).toBe(false);
  });

  it('a rule in the else branch is explained with the negated condition', () => {
    const a = ok(computeAccess(tiny, { scontext: 'system_u:system_r:vm_t', tcontext: 'system_u:object_r:nfs_t', tclass: 'file', perms: ['getattr'] }));
    expect(a.allowed).toBe(true);
    expect(a.because.granting[0]?.conditional).toBe('! (use_nfs)');
    expect(sesearch('-s', 'vm_t', '-t', 'nfs_t', '-c', 'file', '-p', 'getattr')).toMatch(/\[ use_nfs \]:False/);
  });

  it('a compound condition is named with its booleans', () => {
    const a = ok(computeAccess(tiny, { scontext: 'system_u:system_r:vm_t', tcontext: 'system_u:object_r:nfs_t', tclass: 'file', perms: ['write'], booleans: { use_nfs: true } }));
    expect(a.allowed).toBe(false);
    expect(a.reason).toBe('denied unless strict is off');
    expect(a.because.denials[0]?.wouldGrant?.[0]?.booleans).toEqual(expect.arrayContaining(['use_nfs', 'strict']));
  });

  it('no rule at all says so', () => {
    const a = ok(computeAccess(tiny, { scontext: 'system_u:system_r:vm_t', tcontext: 'system_u:object_r:port_t', tclass: 'file', perms: ['write'] }));
    expect(a.reason).toBe('denied: no allow rule for vm_t on port_t:file { write }');
    expect(sesearch('-s', 'vm_t', '-t', 'port_t', '-c', 'file').trim()).toBe('');
  });

  it('constraint, typebounds and MLS denials carry their cause and libsepol-style flags', () => {
    const cons = ok(computeAccess(tiny, { scontext: 'vm_u:vm_r:vm_t', tcontext: 'system_u:object_r:image_t', tclass: 'file', perms: ['write'] }));
    expect(cons.because.denials).toMatchObject([{ cause: 'constraint', perms: ['write'] }]);
    expect(cons.because.denials[0]?.constraint).toMatch(/u1 == u2/);
    expect(cons.because.flags).toEqual({ te: false, cons: true, rbac: false, bounds: false });

    const bounds = ok(computeAccess(tiny, { scontext: 'system_u:vm_r:vm_child_t', tcontext: 'system_u:object_r:image_t', tclass: 'file', perms: ['lock', 'read'] }));
    expect(bounds.granted).toEqual(['read']);
    expect(bounds.because.denials).toEqual([{ perms: ['lock'], cause: 'bounds' }]);
    expect(bounds.reason).toBe('denied by typebounds on file { lock }');

    const m = ok(computeAccess(mls, { scontext: 'system_u:system_r:vm_t:s0', tcontext: 'system_u:object_r:image_t:s1', tclass: 'file', perms: ['read'] }));
    expect(m.because.denials).toMatchObject([{ cause: 'mls', perms: ['read'] }]);
    expect(m.reason).toMatch(/^denied by the MLS constraint on file \{ read \}: .*l1 dom l2/);
    const up = ok(computeAccess(mls, { scontext: 'system_u:system_r:vm_t:s1', tcontext: 'system_u:object_r:image_t:s0', tclass: 'file', perms: ['read'] }));
    expect(up.allowed).toBe(true);
  });

  it('reports a permissive source type without changing the answer', () => {
    const a = ok(computeAccess(tiny, { scontext: 'system_u:vm_r:loose_t', tcontext: 'system_u:object_r:port_t', tclass: 'file', perms: ['read'] }));
    expect(a.permissive).toBe(true);
    expect(a.allowed).toBe(false);
    const b = ok(computeAccess(tiny, { scontext: 'system_u:system_r:vm_t', tcontext: 'system_u:object_r:port_t', tclass: 'file', perms: ['read'] }));
    expect(b.permissive).toBe(false);
  });

  it('aliases resolve to their type', () => {
    const a = ok(computeAccess(tiny, { scontext: 'system_u:system_r:vm_t', tcontext: 'system_u:object_r:disk_t', tclass: 'file', perms: ['read'] }));
    expect(a.allowed).toBe(true);
    expect(typeExists(tiny, 'disk_t')).toBe(true);
    expect(typeExists(tiny, 'domain')).toBe(false);
  });

  it('refuses invalid requests instead of answering', () => {
    const base = { scontext: 'system_u:system_r:vm_t', tcontext: 'system_u:object_r:image_t', tclass: 'file', perms: ['read'] };
    const error = (a: AccessAnswer) => (a.ok ? 'answered' : a.error);
    expect(error(computeAccess(tiny, { ...base, tclass: 'nosuch' }))).toMatch(/unknown class/);
    expect(error(computeAccess(tiny, { ...base, perms: ['fly'] }))).toMatch(/unknown permission/);
    expect(error(computeAccess(tiny, { ...base, booleans: { nosuch: true } }))).toMatch(/unknown boolean/);
    expect(error(computeAccess(tiny, { ...base, scontext: 'vm_u:system_r:vm_t' }))).toMatch(/not authorised for the role/);
    expect(error(computeAccess(tiny, { ...base, scontext: 'system_u:vm_r:kernel_t' }))).toMatch(/not authorised for the type/);
    expect(error(computeAccess(tiny, { ...base, scontext: 'system_u:system_r:domain' }))).toMatch(/type domain is not defined/);
    expect(error(computeAccess(tiny, { ...base, scontext: 'system_u:system_r:vm_t:s0' }))).toMatch(/MLS is disabled/);
    expect(error(computeAccess(mls, { ...base }))).toMatch(/no MLS context/);
    expect(error(computeAccess(mls, { ...base, scontext: 'vm_u:system_r:vm_t:s2', tcontext: 'system_u:object_r:image_t:s0' }))).toMatch(/user's range/);
    expect(error(computeAccess(mls, { ...base, scontext: 'system_u:system_r:vm_t:s0:c0.c0', tcontext: 'system_u:object_r:image_t:s0' }))).toMatch(/empty or reversed/);
  });

  it('class permissions and boolean defaults match seinfo', () => {
    const classText = execFileSync('seinfo', ['-c', 'file', '-x', tinyPath], { encoding: 'utf8' });
    const commonText = execFileSync('seinfo', ['--common', 'file', '-x', tinyPath], { encoding: 'utf8' });
    const perms = [...`${classText}\n${commonText}`.matchAll(/^\s+([a-z_]+)$/gm)].map((m) => m[1]);
    expect([...classPerms(tiny, 'file')!].sort()).toEqual([...new Set(perms)].sort());
    expect(classPerms(tiny, 'nosuch')).toBe(undefined);
    const bools = execFileSync('seinfo', ['-b', '-x', tinyPath], { encoding: 'utf8' });
    for (const m of bools.matchAll(/bool (\S+) (true|false);/g)) expect(booleanDefaults(tiny).get(m[1]!)).toBe(m[2] === 'true');
  });
});
