/**
 * libvirt's AppArmor driver, probed as libvirt probes it: enabled in the kernel, the daemon's own
 * profile loaded, the qemu template installed; SELinux wins when both could run and security_driver is
 * unset; qemu.conf's list decides when set. On an AppArmor host every disk gets an apparmor row that
 * never annotates, and no apparmor seclabel is ever written.
 */
import { describe, expect, it } from 'vitest';
import { detectConnection } from '../../src/decide/connection.js';
import { APPARMOR_DISK_REASON, APPARMOR_ENABLED, APPARMOR_PROFILES, APPARMOR_QEMU_TEMPLATE } from '../../src/decide/apparmor.js';
import { parseModels } from '../../src/app/host-options.js';
import { textView } from '../support/text-view.js';
import { memoryView } from '../support/memory-view.js';
import { annotate, captureIo, explain, hostOptions } from '../cli/harness.js';
import { createHostContext } from '../../src/app/host-context.js';
import { runExplain } from '../../src/commands/explain.js';
import { runAnnotate } from '../../src/commands/annotate.js';
import type { VirtAaHelper } from '../../src/apparmor/virt-aa-helper.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nlibvirt-qemu:x:64055:107:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin\n';
const GROUP = 'root:x:0:\nkvm:x:107:\nlibvirt-qemu:x:64055:\n';
const CONF = '/etc/libvirt/qemu.conf';
const APPARMOR_HOST = {
  [APPARMOR_ENABLED]: 'Y\n',
  [APPARMOR_PROFILES]: 'virt-aa-helper (enforce)\n/usr/sbin/libvirtd (enforce)\nlibvirt-1b7f (enforce)\n',
  [APPARMOR_QEMU_TEMPLATE]: 'profile LIBVIRT_TEMPLATE flags=(attach_disconnected) {\n}\n',
};

const detect = (files: Record<string, string>) => {
  const r = detectConnection(textView({ '/etc/passwd': PASSWD, ...files }), { connect: 'system', qemuConfPath: CONF });
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('AppArmor detection', () => {
  it('active on a Debian-like host: enabled, libvirtd confined, template installed, security_driver unset', () => {
    const c = detect(APPARMOR_HOST);
    expect(c.apparmor.active).toBe(true);
    expect(c.apparmor.why).toContain('/usr/sbin/libvirtd profile is loaded');
    expect(c.models).toMatchObject({ dac: { active: true }, selinux: { active: false } });
  });

  it('the modular daemon (virtqemud) counts as libvirt\'s daemon too', () => {
    expect(detect({ ...APPARMOR_HOST, [APPARMOR_PROFILES]: 'virtqemud (enforce)\n' }).apparmor.active).toBe(true);
  });

  it.each([
    ['disabled in the kernel', { [APPARMOR_ENABLED]: 'N\n' }, 'not enabled'],
    ['no libvirtd profile loaded', { [APPARMOR_PROFILES]: 'man (enforce)\n' }, 'no AppArmor profile for libvirtd'],
  ])('inactive when %s', (_, change, why) => {
    const c = detect({ ...APPARMOR_HOST, ...change });
    expect(c.apparmor).toMatchObject({ active: false });
    expect(c.apparmor.why).toContain(why);
  });

  it('inactive without the qemu template', () => {
    const { [APPARMOR_QEMU_TEMPLATE]: _, ...rest } = APPARMOR_HOST;
    expect(detect(rest).apparmor.why).toContain('TEMPLATE.qemu is missing');
  });

  it('SELinux is probed first: with both available and security_driver unset, only SELinux runs', () => {
    const c = detect({ ...APPARMOR_HOST, '/sys/fs/selinux/enforce': '1' });
    expect(c.models.selinux.active).toBe(true);
    expect(c.apparmor).toEqual({ active: false, why: 'libvirt probes SELinux first, and SELinux is enabled' });
  });

  it("qemu.conf's security_driver list decides when set", () => {
    expect(detect({ [CONF]: 'security_driver = "apparmor"\n' }).apparmor.active).toBe(true);
    expect(detect({ ...APPARMOR_HOST, [CONF]: 'security_driver = "none"\n' }).apparmor.active).toBe(false);
    expect(detect({ ...APPARMOR_HOST, [CONF]: 'security_driver = [ "selinux" ]\n' }).apparmor.active).toBe(false);
  });

  it('--models accepts apparmor', () => {
    expect(parseModels('dac,apparmor')).toEqual(['dac', 'apparmor']);
    expect(parseModels('dac,smack')).toMatch(/expected dac, selinux, apparmor or none/);
  });
});

describe('explain and annotate on an AppArmor host', () => {
  const view = memoryView(
    {
      '/srv/iso': { type: 'dir', mode: 0o755 },
      '/srv/iso/shared.iso': { type: 'file', mode: 0o644 },
      [APPARMOR_QEMU_TEMPLATE]: { type: 'file', mode: 0o644 },
    },
    { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP, ...APPARMOR_HOST } },
  );
  const xml = "<domain type='kvm'>\n  <name>aa</name>\n  <devices>\n    <disk type='file' device='cdrom'>\n      <source file='/srv/iso/shared.iso'/>\n      <target dev='hdc'/>\n      <readonly/>\n    </disk>\n  </devices>\n</domain>\n";

  // Changed with the AppArmor engine: the row was always "n/a ?" with one fixed sentence; it now holds the
  // profile's verdict. This domain has no <uuid>, so the profile libvirt would load cannot be named: unknown.
  it('an apparmor row per disk, n/a, with the reason; JSON keeps dac and selinux as they were', async () => {
    const c = captureIo(xml);
    const ctx = createHostContext(view, hostOptions());
    if (!ctx.ok) throw new Error(ctx.error);
    expect(await runExplain(['-'], { json: false }, ctx.value, c.io)).toBe(0);
    await c.settle();
    expect(c.stdout()).toMatch(/hdc +\/srv\/iso\/shared\.iso +read +apparmor +n\/a +\? +the domain XML has no <uuid>/);
    const { report } = await explain(view, ['-'], {}, xml);
    expect(report.connection.models.apparmor).toMatchObject({ active: true });
    const models = report.files[0].disks[0].models;
    expect(models.apparmor).toMatchObject({ action: 'n/a', accessible: null });
    expect(models.apparmor.reason).toMatch(/no <uuid>: libvirt generates one when it defines the domain and names the AppArmor profile after it/);
    expect(models.dac).toMatchObject({ action: 'annotate', accessible: true });
    expect(models.selinux).toMatchObject({ action: 'n/a' });
  });

  it('annotate writes the dac seclabel only, never an apparmor one', async () => {
    const r = await annotate(view, ['-'], {}, {}, xml);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("<seclabel model='dac' relabel='no'/>");
    expect(r.stdout).not.toContain('apparmor');
    expect(APPARMOR_DISK_REASON).toContain('nothing to annotate');
  });
});

describe('the apparmor row decided, with virt-aa-helper replaced by a test double', () => {
  const UUID = '0d0e0000-0000-4000-8000-00000000000a';
  const f = (content: string) => ({ type: 'file' as const, mode: 0o644, content });
  const view = memoryView(
    {
      '/srv/iso': { type: 'dir', mode: 0o755 },
      '/srv/iso/shared.iso': { type: 'file', mode: 0o644 },
      '/srv/vm/disk.img': { type: 'file', mode: 0o600, uid: 64055 },
      [APPARMOR_QEMU_TEMPLATE]: f('#include <tunables/global>\n\nprofile LIBVIRT_TEMPLATE flags=(attach_disconnected) {\n  #include <abstractions/libvirt-qemu>\n}\n'),
      '/etc/apparmor.d/tunables/global': f('@{HOME}=/root/\n'),
      '/etc/apparmor.d/abstractions/libvirt-qemu': f('  deny /srv/iso/shared.iso k,\n  include if exists <local/abstractions/libvirt-qemu>\n'),
    },
    { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP, [APPARMOR_ENABLED]: APPARMOR_HOST[APPARMOR_ENABLED], [APPARMOR_PROFILES]: APPARMOR_HOST[APPARMOR_PROFILES] } },
  );
  const xml = `<domain type='kvm'>\n  <name>aa</name>\n  <uuid>${UUID.toUpperCase()}</uuid>\n  <devices>\n    <disk type='file' device='cdrom'>\n      <source file='/srv/iso/shared.iso'/>\n      <target dev='hdc'/>\n      <readonly/>\n    </disk>\n    <disk type='file' device='disk'>\n      <source file='/srv/vm/disk.img'/>\n      <target dev='vda'/>\n    </disk>\n  </devices>\n</domain>\n`;
  const asked: string[] = [];
  const helper: VirtAaHelper = {
    run(req) {
      asked.push(`${req.mode} ${req.uuid}`);
      const files = `/etc/apparmor.d/libvirt/libvirt-${req.uuid}.files`;
      return { kind: 'ran', status: 0, stderr: `virt-aa-helper:\n${files}\nvirt-aa-helper:\n  "/srv/iso/shared.iso" rk,\n  "/srv/vm/disk.img" rwk,\n\n` };
    },
  };

  it('a deny in the abstraction beats the generated allow: no, with the deny rule; DAC yes is flagged', async () => {
    const ctx = createHostContext(view, hostOptions(), { virtAaHelper: helper });
    if (!ctx.ok) throw new Error(ctx.error);
    const c = captureIo(xml);
    expect(await runExplain(['-'], { json: true }, ctx.value, c.io)).toBe(0);
    await c.settle();
    const report = JSON.parse(c.stdout()) as { files: { disks: { target: string; models: Record<string, { accessible: unknown; rule?: string; reason: string }>; findings: { code: string; message: string }[] }[] }[] };
    const [hdc, vda] = report.files[0]!.disks;
    expect(hdc!.models.dac).toMatchObject({ accessible: true });
    expect(hdc!.models.apparmor).toEqual({ action: 'n/a', accessible: false, reason: expect.stringContaining('denies k on /srv/iso/shared.iso'), rule: '/etc/apparmor.d/abstractions/libvirt-qemu:1: deny /srv/iso/shared.iso k,' });
    expect(hdc!.findings.map((x) => x.message)).toContainEqual(expect.stringMatching(/^DAC lets QEMU open it, but AppArmor does not: /));
    expect(vda!.models.apparmor).toEqual({ action: 'n/a', accessible: true, reason: expect.any(String), rule: `/etc/apparmor.d/libvirt/libvirt-${UUID}.files:2: "/srv/vm/disk.img" rwk,` });
    // libvirt's uuid form (lowercase), and -c since the profile does not exist yet; asked once per domain.
    expect(asked).toEqual([`create ${UUID}`]);

    const t = captureIo(xml);
    expect(await runExplain(['-'], { json: false }, ctx.value, t.io)).toBe(0);
    await t.settle();
    expect(t.stdout()).toMatch(/hdc +\/srv\/iso\/shared\.iso +read +apparmor +n\/a +no +profile libvirt-0d0e.* denies k on \/srv\/iso\/shared\.iso/);
  });

  it('annotate --check: a proven AppArmor refusal needs attention (exit 1), with the warning at the disk', async () => {
    const ctx = createHostContext(view, hostOptions(), { virtAaHelper: helper });
    if (!ctx.ok) throw new Error(ctx.error);
    const c = captureIo(xml);
    const code = await runAnnotate(['-'], { inPlace: false, check: true, diff: false, pruneStale: false }, ctx.value, c.io);
    await c.settle();
    expect(code).toBe(1);
    expect(c.stderr()).toMatch(/<stdin>:6:7: warning: disk hdc \(\/srv\/iso\/shared\.iso\): DAC lets QEMU open it, but AppArmor does not/);
  });

  it('virt-aa-helper refusing the domain: the element it names cannot be opened (the start fails), the others unknown, in its own words', async () => {
    const refusing: VirtAaHelper = { run: () => ({ kind: 'ran', status: 1, stderr: 'virt-aa-helper: error: /srv/vm/disk.img\nvirt-aa-helper: error: skipped restricted file\nvirt-aa-helper: error: invalid VM definition\n' }) };
    const ctx = createHostContext(view, hostOptions(), { virtAaHelper: refusing });
    if (!ctx.ok) throw new Error(ctx.error);
    const { report } = await explainWith(ctx.value, xml);
    const vda = report.files[0].disks[1].models.apparmor;
    expect(vda.accessible).toBe(false);
    expect(vda.reason).toContain('"skipped restricted file"');
    expect(vda.reason).toContain('this element names /srv/vm/disk.img');
    expect(report.files[0].disks[0].models.apparmor.reason).toContain('named by another element');
    expect(report.files[0].disks[0].models.apparmor.accessible).toBeNull();
  });
});

async function explainWith(ctx: Parameters<typeof runExplain>[2], xml: string) {
  const c = captureIo(xml);
  await runExplain(['-'], { json: true }, ctx, c.io);
  await c.settle();
  return { report: JSON.parse(c.stdout()) };
}

describe('chardevs and the apparmor row', () => {
  const UUID = '0d0e0000-0000-4000-8000-00000000000b';
  const f = (content: string) => ({ type: 'file' as const, mode: 0o644, content });
  const view = memoryView(
    {
      '/run/vm/sock': { type: 'socket', mode: 0o666 },
      '/run/vm/p.in': { type: 'fifo', mode: 0o666 },
      '/run/vm/p.out': { type: 'fifo', mode: 0o666 },
      '/var/log/vm/serial.log': { type: 'file', mode: 0o644 },
      [APPARMOR_QEMU_TEMPLATE]: f('\nprofile LIBVIRT_TEMPLATE {\n  /run/vm/p.in rw,\n}\n'),
    },
    { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP, [APPARMOR_ENABLED]: 'Y\n', [APPARMOR_PROFILES]: 'libvirtd (enforce)\n' } },
  );
  const helper: VirtAaHelper = { run: (req) => ({ kind: 'ran', status: 0, stderr: `virt-aa-helper:\n/etc/apparmor.d/libvirt/libvirt-${req.uuid}.files\nvirt-aa-helper:\n\n` }) };
  const xml = `<domain type='kvm'>\n  <name>c</name>\n  <uuid>${UUID}</uuid>\n  <devices>\n    <serial type='unix'><source mode='connect' path='/run/vm/sock'/></serial>\n    <channel type='pipe'><source path='/run/vm/p'/></channel>\n    <serial type='file'><source path='/var/log/vm/serial.log'/></serial>\n  </devices>\n</domain>\n`;

  it('a unix socket without a rule is "cannot tell"; a pipe needs .in and .out; a logd file is never asked', async () => {
    const ctx = createHostContext(view, hostOptions(), { virtAaHelper: helper });
    if (!ctx.ok) throw new Error(ctx.error);
    const { report } = await explainWith(ctx.value, xml);
    const rows = Object.fromEntries(report.files[0].otherFiles.map((o: { element: string; models: { apparmor: unknown } }) => [o.element, o.models.apparmor]));
    expect(rows['devices/serial[1]']).toMatchObject({ accessible: null, reason: expect.stringContaining('af_unix mediation') });
    expect(rows['devices/channel[1]']).toMatchObject({ accessible: false, reason: expect.stringContaining('allows rw on /run/vm/p.out') });
    expect(rows['devices/serial[2]']).toMatchObject({ accessible: null, reason: expect.stringContaining('virtlogd opens the file') });
  });
});

describe("a domain whose profile already exists (it is running or was started before)", () => {
  const UUID = '0d0e0000-0000-4000-8000-00000000000c';
  const f = (content: string) => ({ type: 'file' as const, mode: 0o644, content });
  const base = {
    '/srv/a.img': { type: 'file' as const, mode: 0o644 },
    [APPARMOR_QEMU_TEMPLATE]: f('\nprofile LIBVIRT_TEMPLATE {\n  /srv/a.img r,\n}\n'),
  };
  const text = { '/etc/passwd': PASSWD, '/etc/group': GROUP, [APPARMOR_ENABLED]: 'Y\n', [APPARMOR_PROFILES]: 'libvirtd (enforce)\n' };
  const xml = `<domain type='kvm'>\n  <name>e</name>\n  <uuid>${UUID}</uuid>\n  <devices>\n    <disk type='file' device='cdrom'><source file='/srv/a.img'/><target dev='hdc'/><readonly/></disk>\n  </devices>\n</domain>\n`;
  const asked: string[] = [];
  const helper: VirtAaHelper = { run: (req) => (asked.push(req.mode), { kind: 'ran', status: 0, stderr: `virt-aa-helper:\n/etc/apparmor.d/libvirt/libvirt-${req.uuid}.files\nvirt-aa-helper:\n\n` }) };

  it('libvirt keeps it and only regenerates the .files (-r): its rules, not the template\'s, decide', async () => {
    const view = memoryView({ ...base, [`/etc/apparmor.d/libvirt/libvirt-${UUID}`]: f(`profile libvirt-${UUID} {\n  /srv/a.img rk,\n  #include <libvirt/libvirt-${UUID}.files>\n}\n`) }, { text });
    const ctx = createHostContext(view, hostOptions(), { virtAaHelper: helper });
    if (!ctx.ok) throw new Error(ctx.error);
    const { report } = await explainWith(ctx.value, xml);
    expect(asked).toEqual(['replace']);
    expect(report.files[0].disks[0].models.apparmor).toMatchObject({ accessible: true, rule: `/etc/apparmor.d/libvirt/libvirt-${UUID}:2: /srv/a.img rk,` });
  });

  it('an empty one is not run at all (virt-aa-helper -r would delete it even in dry-run mode): unknown', async () => {
    asked.length = 0;
    const view = memoryView({ ...base, [`/etc/apparmor.d/libvirt/libvirt-${UUID}`]: f('') }, { text });
    const ctx = createHostContext(view, hostOptions(), { virtAaHelper: helper });
    if (!ctx.ok) throw new Error(ctx.error);
    const { report } = await explainWith(ctx.value, xml);
    expect(asked).toEqual([]);
    expect(report.files[0].disks[0].models.apparmor).toMatchObject({ accessible: null, reason: expect.stringContaining('is empty') });
  });

  it('from the template instead, the template\'s rule lacks k: no, with the rule to add', async () => {
    asked.length = 0;
    const ctx = createHostContext(memoryView(base, { text }), hostOptions(), { virtAaHelper: helper });
    if (!ctx.ok) throw new Error(ctx.error);
    const { report } = await explainWith(ctx.value, xml);
    expect(asked).toEqual(['create']);
    expect(report.files[0].disks[0].models.apparmor).toMatchObject({ accessible: false, reason: expect.stringContaining('allows k on /srv/a.img (only r from') });
  });
});
