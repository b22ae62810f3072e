/**
 * `hook install` on an SELinux host (src/hook/selinux-install.ts): libvirt's daemon must be able to run the
 * script in its own domain, or libvirt fails every start. Against Debian's real policy (the kernel's own
 * answers for the same questions are in ../selinux-kernel/libvirt-enforcing.test.ts): the label Debian's
 * file contexts give /etc/libvirt/hooks/** (virt_etc_rw_t) is refused with the bin_t rule as the fix; bin_t
 * runs, with the note that virtd_t may not read the policy. Then the install flow over recording fakes:
 * nothing written on a refusal, the script labelled after it is written, removed again when it cannot be.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runHookInstall } from '../../src/commands/hook.js';
import type { HookFiles, HookProbe, HookSelinuxHost } from '../../src/hook/effects.js';
import type { ExistingHook } from '../../src/hook/install.js';
import { judgeHookUnderSelinux } from '../../src/hook/selinux-install.js';
import { loadPolicy } from '../../src/selinux/policy/load.js';
import { policyOracle } from '../../src/selinux/policy-oracle.js';
import type { SelinuxOracle } from '../../src/selinux/oracle.js';
import { captureIo } from '../cli/harness.js';

const POLICY = '/etc/selinux/default/policy/policy.33';
const PATH = '/etc/libvirt/hooks/qemu.d/virt-seclabel';
const obj = (t: string) => `system_u:object_r:${t}:s0`;
const VIRTD = { context: 'system_u:system_r:virtd_t:s0-s0:c0.c1023', source: 'the running libvirtd, pid 812' };
const SECURITY = obj('security_t');

const debian = (): SelinuxOracle => {
  const p = loadPolicy(readFileSync(POLICY));
  if (!p.ok) throw new Error(String(p.error));
  return policyOracle(p.value);
};

describe.skipIf(!existsSync(POLICY))('hook install under Debian\'s SELinux policy: can libvirtd run the script?', () => {
  const oracle = debian();

  it('virt_etc_rw_t (what Debian\'s file contexts give /etc/libvirt/hooks/**): refused, with the denial and the bin_t rule', () => {
    const v = judgeHookUnderSelinux(oracle, [VIRTD], { context: obj('virt_etc_rw_t'), source: 'its file-context label' }, PATH, SECURITY);
    expect(v.kind).toBe('refuse');
    if (v.kind !== 'refuse') return;
    expect(v.why).toContain(`libvirt's daemon (${VIRTD.context}; the running libvirtd, pid 812) may not run ${PATH} labelled ${obj('virt_etc_rw_t')}`);
    expect(v.why).toContain('no allow rule for virtd_t on virt_etc_rw_t:file');
    expect(v.why).toContain('Hook script execution failed');
    expect(v.fix).toBe("give the script a label that domain may execute, persistently: `semanage fcontext -a -t bin_t '/etc/libvirt/hooks/qemu\\.d/virt-seclabel'`, then run `hook install` again (it writes the script with its file-context label)");
    // The fix is what the same engine allows.
    expect(oracle.compute({ scontext: VIRTD.context, tcontext: obj('bin_t'), tclass: 'file', perms: ['read', 'open', 'getattr', 'execute', 'execute_no_trans'] })).toMatchObject({ ok: true, allowed: true });
  });

  it('virt_etc_t (the classic /etc/libvirt/hooks/qemu file\'s directory sibling label) is refused too', () => {
    expect(judgeHookUnderSelinux(oracle, [VIRTD], { context: obj('virt_etc_t'), source: 'x' }, PATH, SECURITY).kind).toBe('refuse');
  });

  it('bin_t: runs; the note says SELinux annotations are not re-checked, because virtd_t may not read the policy', () => {
    const v = judgeHookUnderSelinux(oracle, [VIRTD], { context: obj('bin_t'), source: 'its file-context label' }, PATH, SECURITY);
    expect(v.kind).toBe('runs');
    if (v.kind !== 'runs') return;
    expect(v.notes).toHaveLength(1);
    expect(v.notes[0]).toContain('the hook runs in virtd_t (the running libvirtd, pid 812), which may not read the loaded policy');
    expect(v.notes[0]).toContain('only against the copy of the policy `hook install` stores, and only while the kernel keeps that policy');
    expect(v.notes[0]).toContain('read_policy');
  });

  it('a daemon that may do both (unconfined_t): runs, no note', () => {
    const v = judgeHookUnderSelinux(oracle, [{ context: 'unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023', source: 'a session daemon' }], { context: obj('bin_t'), source: 'x' }, PATH, SECURITY);
    expect(v).toEqual({ kind: 'runs', notes: [] });
  });

  it('every daemon is asked: one that may not run it refuses the install', () => {
    const unconfined = { context: 'unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023', source: 'a session daemon' };
    expect(judgeHookUnderSelinux(oracle, [unconfined, VIRTD], { context: obj('virt_etc_rw_t'), source: 'x' }, PATH, SECURITY).kind).toBe('refuse');
  });

  it('a context the policy cannot resolve is a refusal, never a pass', () => {
    const v = judgeHookUnderSelinux(oracle, [{ context: 'system_u:system_r:no_such_t:s0', source: 'x' }], { context: obj('bin_t'), source: 'x' }, PATH, SECURITY);
    expect(v.kind).toBe('refuse');
    if (v.kind === 'refuse') expect(v.why).toContain('the policy cannot answer');
  });
});

// ---- the install flow over fakes --------------------------------------------------------------------

function fakeFiles(initial: Record<string, ExistingHook> = {}) {
  const state = new Map(Object.entries(initial));
  const done: string[] = [];
  const files: HookFiles = {
    inspect: (p) => state.get(p) ?? { kind: 'absent' },
    writeExecutable: (p, text) => { done.push(`write ${p}`); state.set(p, { kind: 'file', text }); },
    remove: (p) => { done.push(`remove ${p}`); state.delete(p); },
  };
  return { files, done };
}
const okProbe: HookProbe = { runShell: () => ({ status: 0, signal: null, stdout: '', stderr: '' }) };

/** A host whose answers are given: the file-context label, the directory's label, and a policy's answers. */
function fakeSelinux(opts: { fileContext?: string; inherited: string; oracle: SelinuxOracle; failSet?: string }) {
  const labels = new Map<string, string>();
  const done: string[] = [];
  const host: HookSelinuxHost = {
    oracle: () => ({ ok: true, value: opts.oracle }),
    daemonContexts: () => [VIRTD],
    fileContextLabel: () => opts.fileContext,
    inheritedLabel: () => opts.inherited,
    securityContext: () => SECURITY,
    label: (p) => labels.get(p) ?? opts.inherited,
    setLabel: (p, c) => {
      if (opts.failSet) throw new Error(opts.failSet);
      done.push(`label ${p} ${c}`);
      labels.set(p, c);
    },
  };
  return { host, done };
}

async function install(files: HookFiles, selinux: HookSelinuxHost, dryRun = false) {
  const c = captureIo();
  const code = runHookInstall({ hooksDir: '/etc/libvirt/hooks', binary: '/usr/bin/virt-seclabel', running: undefined, dryRun }, { files, probe: okProbe, selinux }, c.io);
  await c.settle();
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

describe.skipIf(!existsSync(POLICY))('hook install\'s SELinux steps (fakes over Debian\'s policy)', () => {
  const oracle = debian();

  it('refused: exit 2, nothing written, nothing labelled, the fix named', async () => {
    const f = fakeFiles();
    const s = fakeSelinux({ fileContext: obj('virt_etc_rw_t'), inherited: obj('virt_etc_rw_t'), oracle });
    const r = await install(f.files, s.host);
    expect(r.code).toBe(2);
    expect(f.done).toEqual([]);
    expect(s.done).toEqual([]);
    expect(r.stderr).toContain('virt-seclabel: hook install: nothing written: libvirt\'s daemon');
    expect(r.stderr).toContain('semanage fcontext -a -t bin_t');
  });

  it('with the bin_t rule: the plan names the label, the script is written and labelled, the note is printed', async () => {
    const f = fakeFiles();
    const s = fakeSelinux({ fileContext: obj('bin_t'), inherited: obj('virt_etc_rw_t'), oracle });
    const r = await install(f.files, s.host);
    expect(r.code, r.stderr).toBe(0);
    expect(f.done).toEqual([`write ${PATH}`]);
    expect(s.done).toEqual([`label ${PATH} ${obj('bin_t')}`]);
    expect(r.stdout).toContain(`virt-seclabel: plan: label ${PATH} ${obj('bin_t')} (now ${obj('virt_etc_rw_t')})`);
    expect(r.stdout).toContain(`virt-seclabel: labelled ${PATH} ${obj('bin_t')} (was ${obj('virt_etc_rw_t')})`);
    expect(r.stdout).toContain('which may not read the loaded policy');
    // Run again: the same script with the right label is left alone.
    const again = await install(f.files, s.host);
    expect(again.stdout).toContain(`${PATH} is already this hook; nothing changed`);
    expect(s.done).toHaveLength(1);
  });

  it('dry run: the plan with the label, nothing written or labelled', async () => {
    const f = fakeFiles();
    const s = fakeSelinux({ fileContext: obj('bin_t'), inherited: obj('virt_etc_rw_t'), oracle });
    const r = await install(f.files, s.host, true);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`plan: label ${PATH} ${obj('bin_t')}`);
    expect(f.done).toEqual([]);
    expect(s.done).toEqual([]);
  });

  it('the label cannot be set: the script is removed again and install fails', async () => {
    const f = fakeFiles();
    const s = fakeSelinux({ fileContext: obj('bin_t'), inherited: obj('virt_etc_rw_t'), oracle, failSet: 'chcon: Operation not supported' });
    const r = await install(f.files, s.host);
    expect(r.code).toBe(2);
    expect(f.done).toEqual([`write ${PATH}`, `remove ${PATH}`]);
    expect(r.stderr).toContain(`${PATH}: not labelled ${obj('bin_t')}: chcon: Operation not supported`);
    expect(r.stderr).toContain(`removed ${PATH} again`);
  });
});
