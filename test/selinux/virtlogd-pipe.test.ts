/**
 * Why QEMU could not write virtlogd's pipe in the SELinux guest, in Debian's own policy: a pipe carries the
 * context of the process that made it, the TE rule lets every virt_domain write virtlogd_t's pipes, and
 * the MCS constraint on fifo_file write (h1 dom h2 or t1 != mcs_constrained_type) decides by virtlogd's
 * level. At s0, where systemd runs virtlogd on a Debian host, svirt_t:s0:cX,cY may write; at
 * s0-s0:c0.c1023, where the guest first ran it, it may not (test/selinux-kernel/guest/libvirt.sh).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeAccess } from '../../src/selinux/access.js';
import { loadPolicy } from '../../src/selinux/policy/load.js';
import { DEBIAN_POLICY } from '../cli/harness.js';

describe.skipIf(!existsSync(DEBIAN_POLICY))('QEMU and virtlogd\'s pipe under Debian\'s policy', () => {
  const loaded = existsSync(DEBIAN_POLICY) ? loadPolicy(new Uint8Array(readFileSync(DEBIAN_POLICY))) : undefined;
  const ask = (virtlogd: string) => {
    if (!loaded?.ok) throw new Error('Debian policy did not load');
    const a = computeAccess(loaded.value, { scontext: 'system_u:system_r:svirt_t:s0:c196,c974', tcontext: `system_u:system_r:virtlogd_t:${virtlogd}`, tclass: 'fifo_file', perms: ['write', 'append', 'getattr'] });
    if (!a.ok) throw new Error(a.error);
    return a;
  };

  it('the TE rule allows it; the MCS constraint refuses it against virtlogd at s0-s0:c0.c1023 and allows it at s0', () => {
    const high = ask('s0-s0:c0.c1023');
    expect(high.allowed).toBe(false);
    expect(high.denied).toEqual(['write', 'append']);
    expect(high.reason).toContain('denied by the MLS constraint on fifo_file { write append }');
    expect(high.reason).toContain('h1 dom h2');
    const low = ask('s0');
    expect(low.allowed).toBe(true);
    expect(low.reason).toContain('allow virt_domain virtlogd_t:fifo_file');
  });

  it('systemd runs virtlogd at s0: the kernel SID is kernel_t at s0 alone, and no range_transition names virtlogd_exec_t or comes from kernel_t or init_t for anything but initrc_exec_t', () => {
    if (!loaded?.ok) throw new Error('Debian policy did not load');
    const p = loaded.value;
    const type = (n: string) => p.types.byName.get(n)!.value;
    const kernel = p.ocontexts.find((o) => o.kind === 'isid' && o.key.sid === 1)!.context;
    expect(kernel.type).toBe(type('kernel_t'));
    expect([kernel.range.low.sens, kernel.range.high.sens, kernel.range.low.cats.length, kernel.range.high.cats.length]).toEqual([1, 1, 0, 0]);
    for (const exec of ['virtlogd_exec_t', 'virtd_exec_t', 'init_exec_t']) expect(p.rangeTransitions.filter((r) => r.target === type(exec))).toEqual([]);
    for (const from of ['kernel_t', 'init_t']) expect(p.rangeTransitions.filter((r) => r.source === type(from)).map((r) => r.target)).toEqual(from === 'init_t' ? [type('initrc_exec_t')] : []);
  });
});
