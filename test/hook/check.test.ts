/**
 * `virt-seclabel hook` in-process: the real engines on an in-memory host with Debian's real policy,
 * a recording log. The SELinux half (start begin, the generated <label>) is judged against --policy
 * here: no SELinux-kernel guest suite exists yet.
 */
import { describe, expect, it } from 'vitest';
import { createHostContext } from '../../src/app/host-context.js';
import { hostOptionsUnusable, runHookCheck } from '../../src/hook/check.js';
import type { HookLog } from '../../src/hook/effects.js';
import { HOOK_REFUSE_EXIT } from '../../src/hook/script.js';
import type { HostView } from '../../src/host/view.js';
import { DEBIAN_POLICY, GROUP, PASSWD, hostOptions, withRealPolicy } from '../cli/harness.js';
import { memoryView } from '../support/memory-view.js';
import { missingRequirements } from '../support/requirements.js';

const L = (t: string, level = 's0') => `system_u:object_r:${t}:${level}`;

const host = () =>
  withRealPolicy(
    memoryView(
      {
        '/': { type: 'dir', mode: 0o755, label: L('root_t') },
        '/srv': { type: 'dir', mode: 0o755, label: L('var_t') },
        '/srv/iso': { type: 'dir', mode: 0o755, label: L('public_content_t') },
        '/srv/iso/ok.iso': { type: 'file', mode: 0o644, label: L('public_content_t') },
        '/srv/iso/f.iso': { type: 'file', mode: 0o600, label: L('public_content_t') },
        '/srv/img': { type: 'dir', mode: 0o755, label: L('virt_image_t') },
        // Labelled for one VM's categories: only a process at exactly s0:c10,c20 may write it.
        '/srv/img/vm1.img': { type: 'file', mode: 0o666, label: L('svirt_image_t', 's0:c10,c20') },
      },
      { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } },
    ),
  );

const disk = (file: string, target: string, model: 'dac' | 'selinux', extra = '<readonly/>') => `    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='${file}'>
        <seclabel model='${model}' relabel='no'/>
      </source>
      <target dev='${target}' bus='virtio'/>
      ${extra}
    </disk>
`;

const domain = (disks: string, seclabel = '') => `<domain type='kvm'>
  <name>vm1</name>
  <devices>
${disks}  </devices>
${seclabel}</domain>
`;

/** The seclabel libvirt has put in the XML by `start begin`. */
const generated = (label: string) => `  <seclabel type='dynamic' model='selinux' relabel='yes'>
    <label>${label}</label>
    <imagelabel>${label.replace('system_r:svirt_t', 'object_r:svirt_image_t')}</imagelabel>
  </seclabel>
`;

function recordingLog() {
  const lines: { line: string; syslog: boolean }[] = [];
  const log: HookLog = { say: (line, { syslog }) => void lines.push({ line, syslog }) };
  return { log, lines };
}

async function hook(args: string[], xml: string, opts: { view?: HostView; config?: string; opened?: { count: number } } = {}) {
  const rec = recordingLog();
  const view = opts.view ?? host();
  const code = await runHookCheck(args, {
    readStdin: () => Promise.resolve(Buffer.from(xml)),
    log: rec.log,
    readConfig: () => (opts.config === undefined ? undefined : { text: opts.config, file: '/etc/virt-seclabel/hook.conf' }),
    openContext: (svirtLabel) => {
      if (opts.opened) opts.opened.count++;
      return createHostContext(view, hostOptions({ models: ['dac', 'selinux'], policy: DEBIAN_POLICY }), { invoker: { uid: 0, gid: 0 }, svirtLabel });
    },
  });
  return { code, lines: rec.lines };
}

const skip = missingRequirements({ files: [DEBIAN_POLICY] });

describe.skipIf(skip !== undefined)('hook: prepare begin re-proves DAC', () => {
  it('refuses a start whose relabel=no file became unreadable, naming the disk, the file and the fix', async () => {
    const r = await hook(['vm1', 'prepare', 'begin', '-'], domain(disk('/srv/iso/ok.iso', 'vda', 'dac') + disk('/srv/iso/f.iso', 'vdb', 'dac')));
    expect(r.code).toBe(HOOK_REFUSE_EXIT);
    expect(r.lines).toEqual([
      {
        line: "virt-seclabel: vm1: disk vdb (/srv/iso/f.iso): qemu (libvirt-qemu) can no longer access it: /srv/iso/f.iso (-rw------- root:root): libvirt-qemu cannot read (other ---); run virt-seclabel --prune-stale on its definition, or fix the file",
        syslog: true,
      },
    ]);
  });

  it('lets a start go on when every relabel=no file is still accessible, silently', async () => {
    const r = await hook(['vm1', 'prepare', 'begin', '-'], domain(disk('/srv/iso/ok.iso', 'vda', 'dac')));
    expect(r).toEqual({ code: 0, lines: [] });
  });

  it('does not judge SELinux at prepare begin (no label is generated yet)', async () => {
    const r = await hook(['vm1', 'prepare', 'begin', '-'], domain(disk('/srv/img/vm1.img', 'vda', 'selinux', '<shareable/>')));
    expect(r).toEqual({ code: 0, lines: [] });
  });

  it('opens no host context when no disk carries relabel=no for the phase (the fast path)', async () => {
    const opened = { count: 0 };
    const plain = domain(`    <disk type='file' device='disk'><source file='/srv/iso/f.iso'/><target dev='vda' bus='virtio'/></disk>\n`);
    expect(await hook(['vm1', 'prepare', 'begin', '-'], plain, { opened })).toEqual({ code: 0, lines: [] });
    expect(opened.count).toBe(0);
  });

  it('fail_on = never logs the stale disk and lets the start go on', async () => {
    const r = await hook(['vm1', 'prepare', 'begin', '-'], domain(disk('/srv/iso/f.iso', 'vdb', 'dac')), { config: 'fail_on = never # for now\n' });
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]!.line).toMatch(/^virt-seclabel: vm1: disk vdb \(\/srv\/iso\/f\.iso\): .* \(fail_on = never: start allowed\)$/);
  });

  it('a config it cannot read as written keeps fail_on = stale and says which line', async () => {
    const r = await hook(['vm1', 'prepare', 'begin', '-'], domain(disk('/srv/iso/f.iso', 'vdb', 'dac')), { config: 'fail_on = nevr\n' });
    expect(r.code).toBe(HOOK_REFUSE_EXIT);
    expect(r.lines[0]!.line).toBe('virt-seclabel: /etc/virt-seclabel/hook.conf:1: fail_on = nevr: expected stale or never; using stale');
  });
});

describe.skipIf(skip !== undefined)('hook: start begin re-proves SELinux with the generated label (Debian policy via --policy)', () => {
  const img = disk('/srv/img/vm1.img', 'vda', 'selinux', '<shareable/>');

  it('allows the label libvirt generated when the policy lets exactly that label access the file', async () => {
    const r = await hook(['vm1', 'start', 'begin', '-'], domain(img, generated('system_u:system_r:svirt_t:s0:c10,c20')));
    expect(r).toEqual({ code: 0, lines: [] });
  });

  it('refuses when the generated categories cannot access it (MCS constraint), naming the label', async () => {
    const r = await hook(['vm1', 'start', 'begin', '-'], domain(img, generated('system_u:system_r:svirt_t:s0:c11,c20')));
    expect(r.code).toBe(HOOK_REFUSE_EXIT);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]!.line).toMatch(
      /^virt-seclabel: vm1: disk vda \(\/srv\/img\/vm1\.img\): QEMU \(system_u:system_r:svirt_t:s0:c11,c20\) can no longer access it: \/srv\/img\/vm1\.img \(system_u:object_r:svirt_image_t:s0:c10,c20\): .*constraint.*; run virt-seclabel --prune-stale on its definition, or fix the file$/,
    );
  });

  it('without a generated <label> it cannot judge: start allowed, reason logged', async () => {
    const r = await hook(['vm1', 'start', 'begin', '-'], domain(img, "  <seclabel type='dynamic' model='selinux' relabel='yes'/>\n"));
    expect(r.code).toBe(0);
    expect(r.lines.map((l) => l.line)).toEqual([
      "virt-seclabel: vm1: disk vda (/srv/img/vm1.img): cannot re-check its selinux relabel='no' (relabel='no' already present; cannot re-check: start begin: the dynamic SELinux seclabel carries no generated <label>); start allowed",
    ]);
  });

  it('does not judge DAC at start begin (prepare begin did)', async () => {
    const r = await hook(['vm1', 'start', 'begin', '-'], domain(disk('/srv/iso/f.iso', 'vdb', 'dac'), generated('system_u:system_r:svirt_t:s0:c1,c2')));
    expect(r).toEqual({ code: 0, lines: [] });
  });
});

describe('hook: everything but a proven-stale annotation lets the start go on', () => {
  it('ignores the other operations libvirt runs hooks for, without a word', async () => {
    for (const op of [['stopped', 'end'], ['release', 'end'], ['started', 'begin'], ['migrate', 'begin'], ['restore', 'begin'], ['prepare', 'end']])
      expect(await hook(['vm1', ...op, '-'], domain(disk('/srv/iso/f.iso', 'vdb', 'dac')))).toEqual({ code: 0, lines: [] });
  });

  it('host options it cannot use (a bad option in the script) let the start go on, with the reason', () => {
    const rec = recordingLog();
    expect(hostOptionsUnusable('--models: unknown model frob', rec.log)).toBe(0);
    expect(rec.lines).toEqual([{ line: 'virt-seclabel: hook: --models: unknown model frob; start allowed unchecked', syslog: true }]);
  });

  it('logs an operation libvirt does not document', async () => {
    const r = await hook(['vm1', 'frobnicate', 'begin', '-'], '<domain/>');
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([{ line: 'virt-seclabel: hook called with "vm1 frobnicate begin -": operation \'frobnicate begin\' is not one libvirt documents; nothing checked', syslog: true }]);
  });

  it('unreadable XML (a DTD, an entity) is logged with its position, never parsed further', async () => {
    const r = await hook(['vm1', 'prepare', 'begin', '-'], '<!DOCTYPE d [<!ENTITY x "y">]>\n<domain>&x;</domain>');
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]!.line).toMatch(/^virt-seclabel: vm1: prepare begin: cannot check: domain XML line 1 column \d+: .*; start allowed unchecked$/);
  });

  it('a host it cannot read (no passwd) means a start allowed unchecked, with the reason', async () => {
    const view = memoryView({ '/srv/a.iso': { type: 'file', mode: 0o600 } }, { text: { '/etc/passwd': null } });
    const r = await hook(['vm1', 'prepare', 'begin', '-'], domain(disk('/srv/a.iso', 'vda', 'dac')), { view });
    expect(r.code).toBe(0);
    expect(r.lines[0]!.line).toMatch(/^virt-seclabel: vm1: prepare begin: cannot check: .*; start allowed unchecked$/);
  });

  it('an internal error (a throwing host) is logged and the start goes on', async () => {
    const base = host();
    const view: HostView = { ...base, lstat: () => { throw new Error('simulated crash'); } };
    const r = await hook(['vm1', 'prepare', 'begin', '-'], domain(disk('/srv/iso/f.iso', 'vdb', 'dac')), { view });
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([{ line: 'virt-seclabel: vm1: internal error: simulated crash; start allowed unchecked', syslog: true }]);
  });
});
