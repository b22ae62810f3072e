/** The svirt process context as libvirt builds it, and the MCS representatives that stand for every pick. */
import { describe, expect, it } from 'vitest';
import { parseContext } from '../../src/selinux/context.js';
import { daemonFromContext, dynamicProcess, processContexts, representativePairs, SYSTEM_DAEMON } from '../../src/selinux/svirt-process.js';

const range = (text: string) => {
  const c = parseContext(`u:r:t:${text}`);
  if (!c.ok || !c.value.range) throw new Error(text);
  return c.value.range;
};

describe('dynamicProcess', () => {
  const base = { baselabel: undefined, domainType: 'kvm', domainContexts: undefined, tcgTypeExists: false, mls: true, daemon: SYSTEM_DAEMON };

  it('uses virtual_domain_context, its second line for TCG domains, and the daemon user and role', () => {
    const contexts = { primary: 'system_u:system_r:svirt_t:s0', tcg: 'system_u:system_r:svirt_tcg_t:s0' };
    const daemon = { user: 'unconfined_u', role: 'unconfined_r', categories: { min: 0, max: 1023 } };
    expect(dynamicProcess({ ...base, domainContexts: contexts, daemon })).toMatchObject({ ok: true, value: { user: 'unconfined_u', role: 'unconfined_r', type: 'svirt_t' } });
    expect(dynamicProcess({ ...base, domainContexts: contexts, domainType: 'qemu' })).toMatchObject({ ok: true, value: { type: 'svirt_tcg_t' } });
    // No TCG line and no svirt_tcg_t in the policy: TCG domains run as svirt_t too.
    expect(dynamicProcess({ ...base, domainType: 'qemu' })).toMatchObject({ ok: true, value: { type: 'svirt_t' } });
    expect(dynamicProcess({ ...base, domainType: 'qemu', tcgTypeExists: true })).toMatchObject({ ok: true, value: { type: 'svirt_tcg_t' } });
  });

  it('a baselabel gives the type; user and role still come from the daemon', () => {
    const r = dynamicProcess({ ...base, baselabel: 'staff_u:staff_r:my_svirt_t:s0' });
    expect(r).toMatchObject({ ok: true, value: { user: 'system_u', role: 'system_r', type: 'my_svirt_t' } });
  });

  it("reads the daemon's category range from its context", () => {
    expect(daemonFromContext('unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023\0')).toMatchObject({ ok: true, value: { user: 'unconfined_u', categories: { min: 0, max: 1023 } } });
    expect(daemonFromContext('staff_u:staff_r:staff_t:s0-s0:c10.c20')).toMatchObject({ ok: true, value: { categories: { min: 10, max: 20 } } });
    expect(daemonFromContext('unconfined').ok).toBe(false);
  });
});

describe('representativePairs', () => {
  it('covers single categories too: libvirt may draw the same category twice (s0:cX)', () => {
    const sets = representativePairs(range('s0'));
    expect(sets).toContainEqual([0]);
    expect(sets).toContainEqual([0, 1]);
  });

  it('has one set per way a pick can relate to the target categories', () => {
    const sets = representativePairs(range('s0:c1,c2'));
    // classes: in both {1,2}, neither {0,3,...}: singletons 1 and 0, pairs (1,2), (0,1), (0,3)
    expect(sets.map((s) => s.join(',')).sort()).toEqual(['0', '0,1', '0,3', '1', '1,2'].sort());
  });

  it('stays inside the daemon range and never invents a class with no members', () => {
    const sets = representativePairs(range('s0-s0:c0.c1023'), 0, 1023);
    // Every category is in the high set only: singletons and pairs from that class alone.
    expect(sets).toEqual([[0], [0, 1]]);
  });

  it('processContexts prints them as MCS contexts of the process', () => {
    const proc = { kind: 'dynamic' as const, user: 'system_u', role: 'system_r', type: 'svirt_t', mls: true, categories: { min: 0, max: 1023 } };
    const target = parseContext('system_u:object_r:x_t:s0');
    if (!target.ok) throw new Error(target.error);
    expect(processContexts(proc, target.value)).toEqual([
      'system_u:system_r:svirt_t:s0:c0',
      'system_u:system_r:svirt_t:s0:c0,c1',
    ]);
  });
});
