/**
 * Files beyond disks, decided end to end over an in-memory host: which get an annotation (nvram's and
 * chardevs' <source>, DAC only, on proof), which are only explained (libvirt relabels with no opt-out, or
 * never labels and QEMU must open them as they are), and that the output stays schema-valid.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { annotate, DEBIAN_POLICY, explain, GROUP, PASSWD, withRealPolicy } from '../cli/harness.js';
import { memoryView, type MemoryNode } from '../support/memory-view.js';
import { qcow2 } from '../images/builders.js';

const dir = mkdtempSync(join(tmpdir(), 'vsl-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const QEMU = 64055;

function xml(extraOs = '', extraDevices = '', commandline = ''): string {
  return `<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>files</name>
  <memory unit='KiB'>65536</memory>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
${extraOs}    <kernel>/srv/boot/vmlinuz</kernel>
    <initrd>/srv/boot/initrd.img</initrd>
  </os>
  <devices>
    <serial type='file'>
      <source path='/srv/log/serial.log'/>
      <target port='0'/>
    </serial>
    <serial type='dev'>
      <source path='/dev/ttyS9'/>
      <target port='1'/>
    </serial>
${extraDevices}  </devices>
${commandline}</domain>
`;
}

const NVRAM_SOURCE = `    <nvram type='file'>
      <source file='/home/alice/vm/VARS.fd'/>
    </nvram>
`;
const IGNITION = `  <qemu:commandline>
    <qemu:arg value='-fw_cfg'/>
    <qemu:arg value='name=opt/com.coreos/config,file=/srv/ign/vm.ign'/>
  </qemu:commandline>
`;

function host(over: Record<string, MemoryNode> = {}) {
  return memoryView(
    {
      '/usr/share/OVMF': { type: 'dir', mode: 0o755 },
      '/usr/share/OVMF/OVMF_CODE_4M.fd': { type: 'file', mode: 0o644 },
      '/srv': { type: 'dir', mode: 0o755 },
      '/srv/boot': { type: 'dir', mode: 0o755 },
      '/srv/boot/vmlinuz': { type: 'file', mode: 0o644 },
      '/srv/boot/initrd.img': { type: 'file', mode: 0o644 },
      '/srv/log': { type: 'dir', mode: 0o755 },
      '/dev': { type: 'dir', mode: 0o755 },
      '/dev/ttyS9': { type: 'char', mode: 0o660, gid: QEMU },
      '/home': { type: 'dir', mode: 0o755 },
      '/home/alice': { type: 'dir', mode: 0o755, uid: 1000, gid: 1000 },
      '/home/alice/vm': { type: 'dir', mode: 0o755, uid: 1000, gid: 1000 },
      '/home/alice/vm/VARS.fd': { type: 'file', mode: 0o660, uid: 1000, gid: 1000, acl: 'u::rw-,u:64055:rw-,g::rw-,m::rw-,o::---' },
      '/srv/ign': { type: 'dir', mode: 0o755 },
      '/srv/ign/vm.ign': { type: 'file', mode: 0o600 },
      ...over,
    },
    { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } },
  );
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

type Decision = { action: string; accessible: boolean | null; reason: string };
type Row = { element: string; path: string | null; models: { dac: Decision; selinux: Decision } };
const byElement = (report: { files: { otherFiles?: Row[] }[] }) => Object.fromEntries((report.files[0]!.otherFiles ?? []).map((r) => [r.element, r]));

describe('files beyond disks', () => {
  it('annotates DAC on the nvram <source> and the dev chardev where proven, never SELinux, and explains the rest', async () => {
    const p = file('all.xml', xml(NVRAM_SOURCE, '', IGNITION));
    const r = await explain(host(), [p], { models: ['dac'] });
    const rows = byElement(r.report);
    expect(rows['os/loader']!.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    expect(rows['os/nvram']!.models.dac).toMatchObject({ action: 'annotate', accessible: true });
    expect(rows['os/kernel']!.models.dac).toMatchObject({ action: 'relabel', accessible: true });
    expect(rows['os/kernel']!.models.dac.reason).toContain('no per-element opt-out');
    expect(rows['devices/serial[1]']!.models.dac).toMatchObject({ action: 'n/a' });
    expect(rows['devices/serial[1]']!.models.dac.reason).toContain('virtlogd');
    expect(rows['devices/serial[2]']!.models.dac).toMatchObject({ action: 'annotate' });
    expect(rows['qemu:commandline/arg[2] -fw_cfg']!.models.dac).toMatchObject({ action: 'as-is', accessible: false });

    const a = await annotate(host(), [p], {}, { models: ['dac'] });
    expect(a.stderr).toMatch(/all\.xml:\d+:\d+: error: qemu:commandline\/arg\[2\] -fw_cfg \(\/srv\/ign\/vm\.ign\): dac: .*QEMU cannot open it, the VM fails to start/);
    expect(a.stdout).toContain("<source file='/home/alice/vm/VARS.fd'>\n        <seclabel model='dac' relabel='no'/>\n      </source>");
    expect(a.stdout).toContain("<source path='/dev/ttyS9'>\n        <seclabel model='dac' relabel='no'/>\n      </source>");
    expect(a.stdout).not.toContain("path='/srv/log/serial.log'>");
    expect(a.stdout.match(/<seclabel/g)).toHaveLength(2);
    // Nothing inside <qemu:commandline>, and the rest byte for byte.
    expect(a.stdout.replace(/>\n\s*<seclabel model='dac' relabel='no'\/>\n\s*<\/source>/g, '/>')).toBe(xml(NVRAM_SOURCE, '', IGNITION));
    // Idempotent.
    const again = await annotate(host(), [file('again.xml', a.stdout)], {}, { models: ['dac'] });
    expect(again.stdout).toBe(a.stdout);
    try {
      execFileSync('virt-xml-validate', [file('out.xml', a.stdout), 'domain'], { stdio: 'pipe' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(String((e as { stderr?: Buffer }).stderr));
    }
  });

  it('the readable Ignition file is used as it is; the legacy nvram form is only relabelled', async () => {
    const p = file('legacy.xml', xml("    <nvram>/home/alice/vm/VARS.fd</nvram>\n", '', IGNITION));
    const r = await explain(host({ '/srv/ign/vm.ign': { type: 'file', mode: 0o644 } }), [p], { models: ['dac'] });
    const rows = byElement(r.report);
    expect(rows['qemu:commandline/arg[2] -fw_cfg']!.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    expect(rows['os/nvram']!.models.dac).toMatchObject({ action: 'relabel', accessible: true });
    expect(r.code).toBe(0);
  });

  it('keeps the nvram when the qemu user cannot write it, and when it does not exist yet', async () => {
    const p = file('nvram.xml', xml(NVRAM_SOURCE));
    const denied = await explain(host({ '/home/alice/vm/VARS.fd': { type: 'file', mode: 0o600, uid: 1000, gid: 1000 } }), [p], { models: ['dac'] });
    expect(byElement(denied.report)['os/nvram']!.models.dac).toMatchObject({ action: 'keep', accessible: false });
    const missing = memoryView({ ...{} }, { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } });
    const m = await explain(missing, [p], { models: ['dac'] });
    expect(byElement(m.report)['os/nvram']!.models.dac).toMatchObject({ action: 'keep', accessible: null });
    expect(byElement(m.report)['os/nvram']!.models.dac.reason).toContain('creates it from the template');
  });

  it('a stale relabel=no on a chardev source is reported and --prune-stale removes it', async () => {
    const dev = "    <serial type='dev'>\n      <source path='/dev/ttyS8'>\n        <seclabel model='dac' relabel='no'/>\n      </source>\n    </serial>\n";
    const p = file('stale.xml', xml('', dev));
    const h = host({ '/dev/ttyS8': { type: 'char', mode: 0o600 } });
    const r = await explain(h, [p], { models: ['dac'] });
    expect(byElement(r.report)['devices/serial[3]']!.models.dac).toMatchObject({ action: 'existing', accessible: false });
    const pruned = await annotate(h, [p], { pruneStale: true }, { models: ['dac'] });
    expect(pruned.stdout).toContain("<source path='/dev/ttyS8'>\n      </source>");
    expect(pruned.stdout).not.toContain("ttyS8'>\n        <seclabel");
  });

  it('SELinux never annotates the writable nvram or chardevs (their svirt categories are the isolation)', async () => {
    const p = file('sel.xml', xml(NVRAM_SOURCE));
    const r = await explain(host(), [p], { models: ['dac', 'selinux'] });
    const rows = byElement(r.report);
    expect(rows['os/nvram']!.models.selinux).toMatchObject({ action: 'keep', accessible: null });
    expect(rows['devices/serial[2]']!.models.selinux).toMatchObject({ action: 'keep', accessible: null });
    expect(rows['os/kernel']!.models.selinux).toMatchObject({ action: 'relabel' });
  });

  // Under the enforcing SELinux guest (test/selinux-kernel/files-doctor-enforcing.test.ts) QEMU was refused
  // `map` on the initrd labelled virt_content_t and exited before the monitor: it maps the initrd
  // (x86_load_linux, g_mapped_file_new) and only reads the kernel; Debian's policy gives svirt_t no map there.
  it.skipIf(!existsSync(DEBIAN_POLICY))('SELinux, Debian\'s policy: the initrd is mapped, and svirt_t may not map virt_content_t, so the relabelled initrd still fails the start; the kernel is only read', async () => {
    const L = (t: string) => `system_u:object_r:${t}:s0`;
    const labelled = withRealPolicy(
      memoryView(
        {
          '/': { type: 'dir', mode: 0o755, label: L('root_t') },
          '/usr': { type: 'dir', mode: 0o755, label: L('usr_t') },
          '/usr/share': { type: 'dir', mode: 0o755, label: L('usr_t') },
          '/usr/share/OVMF': { type: 'dir', mode: 0o755, label: L('usr_t') },
          '/usr/share/OVMF/OVMF_CODE_4M.fd': { type: 'file', mode: 0o644, label: L('usr_t') },
          '/srv': { type: 'dir', mode: 0o755, label: L('var_t') },
          '/srv/boot': { type: 'dir', mode: 0o755, label: L('boot_t') },
          '/srv/boot/vmlinuz': { type: 'file', mode: 0o644, label: L('boot_t') },
          '/srv/boot/initrd.img': { type: 'file', mode: 0o644, label: L('boot_t') },
          '/srv/log': { type: 'dir', mode: 0o755, label: L('var_t') },
          '/dev': { type: 'dir', mode: 0o755, label: L('device_t') },
          '/dev/ttyS9': { type: 'char', mode: 0o660, gid: QEMU, label: L('tty_device_t') },
        },
        { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } },
      ),
    );
    const p = file('initrd-map.xml', xml());
    const rows = byElement((await explain(labelled, [p], { models: ['dac', 'selinux'], policy: DEBIAN_POLICY })).report);
    expect(rows['os/kernel']!.models.selinux).toMatchObject({ action: 'relabel', accessible: true });
    expect(rows['os/initrd']!.models.selinux).toMatchObject({ action: 'relabel', accessible: false });
    expect(rows['os/initrd']!.models.selinux.reason).toContain('even then QEMU cannot read it, the VM fails to start');
    expect(rows['os/initrd']!.models.selinux.reason).toMatch(/virt_content_t.*\bmap\b/);
    // DAC asks read only: mapping without PROT_EXEC needs no more.
    expect(rows['os/initrd']!.models.dac).toMatchObject({ action: 'relabel', accessible: true });
    // The same QEMU code maps an -initrd from <qemu:commandline>, which libvirt never labels: a
    // virt_content_t initrd is refused there too, while a -kernel of that label is readable.
    const content = L('virt_content_t');
    const h = withRealPolicy(
      memoryView(
        {
          '/': { type: 'dir', mode: 0o755, label: L('root_t') },
          '/srv': { type: 'dir', mode: 0o755, label: L('var_t') },
          '/srv/k': { type: 'file', mode: 0o644, label: content },
          '/srv/i': { type: 'file', mode: 0o644, label: content },
        },
        { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } },
      ),
    );
    const cl = `  <qemu:commandline>\n    <qemu:arg value='-kernel'/>\n    <qemu:arg value='/srv/k'/>\n    <qemu:arg value='-initrd'/>\n    <qemu:arg value='/srv/i'/>\n  </qemu:commandline>\n`;
    const args = byElement((await explain(h, [file('initrd-arg.xml', `<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n  <name>a</name>\n  <memory unit='KiB'>65536</memory>\n  <os>\n    <type arch='x86_64'>hvm</type>\n  </os>\n${cl}</domain>\n`)], { models: ['dac', 'selinux'], policy: DEBIAN_POLICY })).report);
    expect(args['qemu:commandline/arg[2] -kernel']!.models.selinux).toMatchObject({ action: 'as-is', accessible: true });
    expect(args['qemu:commandline/arg[4] -initrd']!.models.selinux).toMatchObject({ action: 'as-is', accessible: false });
  });

  // Under the enforcing SELinux guest (test/selinux-kernel/files-doctor-enforcing.test.ts) swtpm, labelled
  // bin_t as Debian's file contexts give /usr/bin/swtpm, could not be executed under the VM's svirt_t label
  // libvirt runs it with: Debian's policy lets svirt_t be entered only through qemu_exec_t.
  it.skipIf(!existsSync(DEBIAN_POLICY))('SELinux, Debian\'s policy: a TPM emulator fails the start, swtpm (bin_t) is no entrypoint of svirt_t; a binary the domain may be entered through is not refused', async () => {
    const L = (t: string) => `system_u:object_r:${t}:s0`;
    const h = (swtpm: string) =>
      withRealPolicy(
        memoryView(
          {
            '/': { type: 'dir', mode: 0o755, label: L('root_t') },
            '/usr': { type: 'dir', mode: 0o755, label: L('usr_t') },
            '/usr/bin': { type: 'dir', mode: 0o755, label: L('bin_t') },
            '/usr/bin/swtpm': { type: 'file', mode: 0o755, label: L(swtpm) },
          },
          { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } },
        ),
      );
    const tpm = `<domain type='qemu'>\n  <name>t</name>\n  <memory unit='KiB'>65536</memory>\n  <os>\n    <type arch='x86_64'>hvm</type>\n  </os>\n  <devices>\n    <tpm model='tpm-crb'>\n      <backend type='emulator' version='2.0'/>\n    </tpm>\n  </devices>\n</domain>\n`;
    const p = file('tpm-se.xml', tpm);
    const refused = byElement((await explain(h('bin_t'), [p], { models: ['dac', 'selinux'], policy: DEBIAN_POLICY })).report)['devices/tpm[1]']!;
    expect(refused.models.selinux).toMatchObject({ action: 'as-is', accessible: false });
    expect(refused.models.selinux.reason).toContain('bin_t:file { entrypoint }');
    expect(refused.models.selinux.reason).toContain('the VM fails to start');
    expect(refused.models.dac).toMatchObject({ action: 'n/a', accessible: null });
    const entered = byElement((await explain(h('qemu_exec_t'), [p], { models: ['dac', 'selinux'], policy: DEBIAN_POLICY })).report)['devices/tpm[1]']!;
    expect(entered.models.selinux).toMatchObject({ action: 'n/a', accessible: null });
    expect(entered.models.selinux.reason).toContain('the policy allows it');
  });

  it('a -drive with a qcow2 format is decided over its backing chain: an unreadable backing file fails the start', async () => {
    const drive = (ro: string) => `  <qemu:commandline>
    <qemu:arg value='-drive'/>
    <qemu:arg value='if=none,id=x,file=/srv/img/top.qcow2,format=qcow2${ro}'/>
  </qemu:commandline>
`;
    const top = { type: 'file', mode: 0o644, content: qcow2({ backingName: '/srv/img/base.raw', extensions: [[0xe2792aca, 'raw']] }) } as const;
    const h = (baseMode: number) => host({ '/srv/img': { type: 'dir', mode: 0o755 }, '/srv/img/top.qcow2': top, '/srv/img/base.raw': { type: 'file', mode: baseMode } });
    const p = file('drive.xml', xml('', '', drive(',readonly=on')));
    const ok = byElement((await explain(h(0o644), [p], { models: ['dac'] })).report)['qemu:commandline/arg[2] -drive']!;
    expect(ok.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    expect(ok.models.dac.reason).toContain('backing file');
    const denied = byElement((await explain(h(0o600), [p], { models: ['dac'] })).report)['qemu:commandline/arg[2] -drive']!;
    expect(denied.models.dac).toMatchObject({ action: 'as-is', accessible: false });
    expect(denied.models.dac.reason).toContain('/srv/img/base.raw');
    // Without readonly=on QEMU opens the top read-write: 0644 root is not writable by the qemu user.
    const rw = byElement((await explain(h(0o644), [file('drive-rw.xml', xml('', '', drive('')))], { models: ['dac'] })).report)['qemu:commandline/arg[2] -drive']!;
    expect(rw.models.dac).toMatchObject({ action: 'as-is', accessible: false });
  });

  // QEMU probes a -drive without format= (and then opens the backing file the probed header names); libvirt
  // is not involved, so its refusal of probed backing images does not apply. A raw file stays one file.
  it('a -drive without format= is probed as QEMU does: a qcow2 is decided over its backing chain, a raw file alone', async () => {
    const drive = (img: string) => `  <qemu:commandline>
    <qemu:arg value='-drive'/>
    <qemu:arg value='if=none,id=x,file=${img},readonly=on'/>
  </qemu:commandline>
`;
    const top = { type: 'file', mode: 0o644, content: qcow2({ backingName: '/srv/img/base.raw', extensions: [[0xe2792aca, 'raw']] }) } as const;
    const h = (baseMode: number) =>
      host({ '/srv/img': { type: 'dir', mode: 0o755 }, '/srv/img/top.img': top, '/srv/img/base.raw': { type: 'file', mode: baseMode }, '/srv/img/plain.img': { type: 'file', mode: 0o644 } });
    const row = async (baseMode: number, img: string) =>
      byElement((await explain(h(baseMode), [file(`probe-${baseMode}-${img.length}.xml`, xml('', '', drive(img)))], { models: ['dac'] })).report)['qemu:commandline/arg[2] -drive']!;
    const denied = await row(0o600, '/srv/img/top.img');
    expect(denied.models.dac).toMatchObject({ action: 'as-is', accessible: false });
    expect(denied.models.dac.reason).toContain('/srv/img/base.raw');
    const ok = await row(0o644, '/srv/img/top.img');
    expect(ok.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    expect(ok.models.dac.reason).toContain('backing file');
    const plain = await row(0o600, '/srv/img/plain.img');
    expect(plain.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    expect(plain.models.dac.reason).not.toContain('backing');
  });

  it('a romfile set through <qemu:override> is decided like a commandline file, and nothing is written there', async () => {
    const override = `  <qemu:override>
    <qemu:device alias='net0'>
      <qemu:frontend>
        <qemu:property name='romfile' type='string' value='/srv/ign/vm.ign'/>
      </qemu:frontend>
    </qemu:device>
  </qemu:override>
`;
    const p = file('override.xml', xml('', '', override));
    const row = byElement((await explain(host(), [p], { models: ['dac'] })).report)['qemu:override/device[net0] romfile']!;
    expect(row.models.dac).toMatchObject({ action: 'as-is', accessible: false });
    const a = await annotate(host(), [p], {}, { models: ['dac'] });
    expect(a.stdout).toContain(override);
  });

  it('a unix connect chardev is annotated when the qemu user may write the socket, a pipe when it may use its FIFO', async () => {
    const chardevs = `    <channel type='unix'>
      <source mode='connect' path='/srv/sock/agent.sock'/>
      <target type='virtio' name='org.example.0'/>
    </channel>
    <serial type='pipe'>
      <source path='/srv/sock/pipe'/>
    </serial>
`;
    const p = file('sock.xml', xml('', chardevs));
    const h = (mode: number) => host({ '/srv/sock': { type: 'dir', mode: 0o755 }, '/srv/sock/agent.sock': { type: 'socket', mode, uid: 1000, gid: 1000 }, '/srv/sock/pipe': { type: 'fifo', mode: 0o666 } });
    const open = byElement((await explain(h(0o777), [p], { models: ['dac'] })).report);
    expect(open['devices/channel[1]']!.models.dac).toMatchObject({ action: 'annotate', accessible: true });
    // The pipe: no .in/.out, so QEMU opens the path itself, a FIFO the qemu user may read and write.
    expect(open['devices/serial[3]']!.models.dac).toMatchObject({ action: 'annotate', accessible: true });
    const closed = byElement((await explain(h(0o755), [p], { models: ['dac'] })).report);
    expect(closed['devices/channel[1]']!.models.dac).toMatchObject({ action: 'keep', accessible: false });
    const a = await annotate(h(0o777), [p], {}, { models: ['dac'] });
    expect(a.stdout).toContain("<source mode='connect' path='/srv/sock/agent.sock'>\n        <seclabel model='dac' relabel='no'/>\n      </source>");
  });

  it('with DAC labelling off by a static domain label, files libvirt would chown are opened as they are by that uid:gid', async () => {
    const label = "  <seclabel type='static' model='dac' relabel='no'>\n    <label>+1000:+1000</label>\n  </seclabel>\n";
    const p = file('static.xml', xml(NVRAM_SOURCE, '', label));
    const rows = byElement((await explain(host({ '/srv/boot/vmlinuz': { type: 'file', mode: 0o600, uid: 1000, gid: 1000 } }), [p], { models: ['dac'] })).report);
    // The vars are 0660 alice:alice plus an ACL for the qemu user: uid 1000 is their owner.
    expect(rows['os/nvram']!.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    expect(rows['os/kernel']!.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    expect(rows['os/initrd']!.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    expect(rows['os/nvram']!.models.dac.reason).toContain("without relabel='yes'");
  });

  it('every report above validates against schemas/report.schema.json, firmware autoselection included', async () => {
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(readFileSync('schemas/report.schema.json', 'utf8')));
    const auto = file('auto.xml', "<domain type='kvm'>\n  <name>auto</name>\n  <os firmware='efi'>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n</domain>\n");
    const consoleAlias = "    <console type='file'>\n      <source path='/srv/log/serial.log'/>\n      <target type='serial' port='0'/>\n    </console>\n";
    const fs9p = "    <filesystem type='mount'>\n      <source dir='/srv/log'/>\n      <target dir='log'/>\n    </filesystem>\n    <filesystem type='mount'>\n      <driver type='virtiofs'/>\n      <source dir='/srv/log'/>\n      <target dir='log2'/>\n    </filesystem>\n";
    const tpm = "    <tpm model='tpm-crb'>\n      <backend type='emulator' version='2.0'/>\n    </tpm>\n    <tpm model='tpm-tis'>\n      <backend type='passthrough'>\n        <device path='/dev/tpm0'/>\n      </backend>\n    </tpm>\n";
    const devs = "    <rng model='virtio'>\n      <backend model='random'>/dev/ttyS9</backend>\n    </rng>\n    <input type='evdev'>\n      <source dev='/dev/ttyS9'/>\n    </input>\n    <memory model='virtio-pmem'>\n      <source>\n        <path>/srv/boot/initrd.img</path>\n      </source>\n      <target>\n        <size unit='MiB'>16</size>\n      </target>\n    </memory>\n";
    const hostdev = "    <hostdev mode='subsys' type='usb'>\n      <source>\n        <vendor id='0x1234'/>\n        <product id='0xbeef'/>\n      </source>\n    </hostdev>\n";
    const sysinfo = "  <sysinfo type='fwcfg'>\n    <entry name='opt/com.coreos/config' file='/srv/ign/vm.ign'/>\n    <entry name='opt/x' file='/srv/ign/vm.ign'>text</entry>\n  </sysinfo>\n";
    const inputs = [file('v1.xml', xml(NVRAM_SOURCE, "    <serial type='unix'>\n      <source mode='bind' path='/srv/x.sock'/>\n    </serial>\n", IGNITION)), file('v2.xml', xml('    <nvram>/x/VARS.fd</nvram>\n')), auto, file('v3.xml', xml('', consoleAlias + fs9p + tpm + devs + hostdev, sysinfo))];
    for (const models of [['dac'], ['dac', 'selinux']] as const) {
      const r = await explain(host(), inputs, { models: [...models] });
      expect(validate(r.report), JSON.stringify(validate.errors, null, 2)).toBe(true);
      expect(r.report.files[2].firmwareAuto).toContain('chosen by libvirt at start');
      expect(r.report.files[0].otherFiles.length).toBe(8);
      // The console mirroring serial[0] is not a file of its own (libvirt's console back-compat); the fw_cfg entries are.
      const v3 = (r.report.files[3].otherFiles as { element: string; kind: string }[]).map((f) => `${f.kind} ${f.element}`);
      expect(v3.filter((x) => !/^(loader|kernel|initrd) /.test(x))).toEqual([
        'chardev devices/serial[1]',
        'chardev devices/serial[2]',
        'tpm devices/tpm[1]',
        'tpm devices/tpm[2]',
        'filesystem devices/filesystem[1]',
        'filesystem devices/filesystem[2]',
        'rng devices/rng[1]',
        'input devices/input[1]',
        'hostdev devices/hostdev[1] usb',
        'memory devices/memory[1] virtio-pmem',
        'fwcfg sysinfo[1]/entry[1] opt/com.coreos/config',
        'fwcfg sysinfo[1]/entry[2] opt/x',
      ]);
      const fsRow = (r.report.files[3].otherFiles as { element: string; models: { dac: { action: string; accessible: boolean | null } } }[]).find((f) => f.element === 'devices/filesystem[1]')!;
      expect(fsRow.models.dac).toMatchObject({ action: 'as-is', accessible: true });
      const hostdevRow = (r.report.files[3].otherFiles as { element: string; models: { dac: { action: string; reason: string } } }[]).find((f) => f.element === 'devices/hostdev[1] usb')!;
      expect(hostdevRow.models.dac).toMatchObject({ action: 'relabel', accessible: null });
      expect(hostdevRow.models.dac.reason).toContain('/dev/bus/usb/');
    }
  });

  // qemuDomainDeviceBackendChardevForeachOne opens these like a serial's; security_dac.c labels none of them,
  // security_selinux.c only the passthrough smartcard's, and the parser drops a <seclabel> in their <source>.
  it('the chardevs behind a passthrough smartcard, a redirdev and an egd rng: used as they are for DAC, never annotated, a seclabel there is reported as dropped', async () => {
    const devs = `    <smartcard mode='passthrough' type='unix'>
      <source mode='connect' path='/srv/sock/card.sock'/>
    </smartcard>
    <redirdev bus='usb' type='unix'>
      <source mode='connect' path='/srv/sock/usb.sock'>
        <seclabel model='dac' relabel='no'/>
      </source>
    </redirdev>
    <rng model='virtio'>
      <backend model='egd' type='unix'>
        <source mode='connect' path='/srv/sock/egd.sock'/>
      </backend>
    </rng>
    <redirdev bus='usb' type='spicevmc'/>
    <smartcard mode='passthrough' type='file'>
      <source path='/srv/log/card.log'/>
    </smartcard>
`;
    const p = file('hosted.xml', xml('', devs));
    const h = (mode: number) =>
      host({
        '/srv/sock': { type: 'dir', mode: 0o755 },
        '/srv/sock/card.sock': { type: 'socket', mode, uid: 1000, gid: 1000 },
        '/srv/sock/usb.sock': { type: 'socket', mode, uid: 1000, gid: 1000 },
        '/srv/sock/egd.sock': { type: 'socket', mode, uid: 1000, gid: 1000 },
      });
    const r = await explain(h(0o777), [p], { models: ['dac', 'selinux'] });
    const rows = byElement(r.report);
    expect(Object.keys(rows).filter((k) => /smartcard|redirdev|rng/.test(k)).sort()).toEqual(['devices/redirdev[1]', 'devices/rng[1]', 'devices/smartcard[1]', 'devices/smartcard[2]']);
    for (const k of ['devices/smartcard[1]', 'devices/redirdev[1]', 'devices/rng[1]']) {
      expect(rows[k]!.models.dac, k).toMatchObject({ action: 'as-is', accessible: true });
      expect(rows[k]!.models.dac.reason, k).toContain('never labels it');
    }
    // SELinux labels the smartcard's socket with the VM's image label, no opt-out; the others never.
    expect(rows['devices/smartcard[1]']!.models.selinux).toMatchObject({ action: 'relabel', accessible: null });
    expect(rows['devices/redirdev[1]']!.models.selinux.action).toBe('as-is');
    // A file backend: virtlogd opens it; SELinux still labels the smartcard's path (chardevStdioLogd false).
    expect(rows['devices/smartcard[2]']!.models.dac).toMatchObject({ action: 'n/a', accessible: null });
    expect(rows['devices/smartcard[2]']!.models.selinux).toMatchObject({ action: 'relabel', accessible: null });
    const findings = (r.report.files[0]!.otherFiles as { element: string; findings: { code: string; message: string }[] }[]).find((f) => f.element === 'devices/redirdev[1]')!.findings;
    expect(findings.map((f) => f.code)).toContain('seclabel-dropped');

    const closed = byElement((await explain(h(0o755), [p], { models: ['dac'] })).report);
    for (const k of ['devices/smartcard[1]', 'devices/redirdev[1]', 'devices/rng[1]']) expect(closed[k]!.models.dac, k).toMatchObject({ action: 'as-is', accessible: false });
    // Nothing is written for them: only the proven dev serial gets a seclabel.
    const a = await annotate(h(0o777), [p], {}, { models: ['dac'] });
    expect(a.stdout.match(/<seclabel/g)).toHaveLength(2);
    expect(a.stdout.replace("<source path='/dev/ttyS9'>\n        <seclabel model='dac' relabel='no'/>\n      </source>", "<source path='/dev/ttyS9'/>")).toBe(xml('', devs));
  });

  // virSecurityDACSetOwnership changes owner and group only: the owner bits of the mode then decide.
  it('DAC after libvirt\'s chown: a kernel of mode 0000 or 0200 stays unreadable (the start fails, --check says so), a 0600 root one is fine, a 0044 one readable today is lost', async () => {
    const p = file('after-chown.xml', xml(NVRAM_SOURCE));
    const kernelMode = async (mode: number, vars?: MemoryNode) => {
      const r = await explain(host({ '/srv/boot/vmlinuz': { type: 'file', mode }, ...(vars && { '/home/alice/vm/VARS.fd': vars }) }), [p], { models: ['dac'] });
      return { rows: byElement(r.report), report: r.report };
    };
    type After = Decision & { afterChown?: boolean | null };
    const k = async (mode: number) => (await kernelMode(mode)).rows['os/kernel']!.models.dac as After;
    expect(await k(0o000)).toMatchObject({ action: 'relabel', accessible: false, afterChown: false });
    expect((await k(0o000)).reason).toContain("even after libvirt's chown to the qemu user (mode and ACL unchanged) QEMU cannot use it, the VM fails to start");
    expect((await k(0o000)).reason).toContain("fix: give the file's owner read (chmod u+r /srv/boot/vmlinuz)");
    expect(await k(0o200)).toMatchObject({ action: 'relabel', accessible: false, afterChown: false });
    expect(await k(0o600)).toMatchObject({ action: 'relabel', accessible: false, afterChown: true });
    expect(await k(0o044)).toMatchObject({ action: 'relabel', accessible: true, afterChown: false });
    expect(await k(0o644)).toMatchObject({ action: 'relabel', accessible: true, afterChown: true });
    // The nvram libvirt chowns (no seclabel proven): 0000 alice-owned stays unwritable after the chown.
    const nv = (await kernelMode(0o644, { type: 'file', mode: 0o000, uid: 1000, gid: 1000 })).rows['os/nvram']!.models.dac as After;
    expect(nv).toMatchObject({ action: 'keep', accessible: false, afterChown: false });
    const nvOk = (await kernelMode(0o644, { type: 'file', mode: 0o600, uid: 1000, gid: 1000 })).rows['os/nvram']!.models.dac as After;
    expect(nvOk).toMatchObject({ action: 'keep', accessible: false, afterChown: true });
    const check = await annotate(host({ '/srv/boot/vmlinuz': { type: 'file', mode: 0o000 } }), [p], { check: true }, { models: ['dac'] });
    expect(check.stderr).toMatch(/error: os\/kernel \(\/srv\/boot\/vmlinuz\): dac: .*even after libvirt's chown/);
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(readFileSync('schemas/report.schema.json', 'utf8')));
    const { report } = await kernelMode(0o000, { type: 'file', mode: 0o000, uid: 1000, gid: 1000 });
    expect(validate(report), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('<shmem> and <graphics> sockets, never labelled: /dev/shm/NAME opened or created by QEMU, a doorbell server socket connected to, a VNC socket created in its directory (sticky rules included)', async () => {
    const devs = `    <shmem name='plain0'>
      <model type='ivshmem-plain'/>
      <size unit='M'>4</size>
    </shmem>
    <shmem name='taken'>
      <model type='ivshmem-plain'/>
    </shmem>
    <shmem name='bell'>
      <model type='ivshmem-doorbell'/>
      <server path='/srv/sock/ivshmem.sock'/>
    </shmem>
    <graphics type='vnc'>
      <listen type='socket' socket='/srv/vnc/vnc.sock'/>
    </graphics>
    <graphics type='spice'>
      <listen type='socket' socket='/tmp/spice.sock'/>
    </graphics>
    <graphics type='vnc'>
      <listen type='socket' socket='/var/lib/libvirt/qemu/domain-1-x/vnc.sock' autoGenerated='yes'/>
    </graphics>
`;
    const p = file('shmem.xml', xml('', devs));
    const h = (vncDir: number, tmpOwner: number) =>
      host({
        '/dev/shm': { type: 'dir', mode: 0o1777 },
        '/dev/shm/taken': { type: 'file', mode: 0o600 },
        '/srv/sock': { type: 'dir', mode: 0o755 },
        '/srv/sock/ivshmem.sock': { type: 'socket', mode: 0o777 },
        '/srv/vnc': { type: 'dir', mode: vncDir, gid: QEMU },
        '/tmp': { type: 'dir', mode: 0o1777 },
        '/tmp/spice.sock': { type: 'socket', mode: 0o755, uid: tmpOwner, gid: tmpOwner },
      });
    const rows = byElement((await explain(h(0o770, QEMU), [p], { models: ['dac', 'selinux'] })).report);
    expect(Object.keys(rows).filter((k) => /shmem|graphics/.test(k))).toEqual(['devices/shmem[1] plain0', 'devices/shmem[2] taken', 'devices/shmem[3] bell', 'devices/graphics[1] vnc', 'devices/graphics[2] spice']);
    expect(rows['devices/shmem[1] plain0']!.path).toBe('/dev/shm/plain0');
    expect(rows['devices/shmem[1] plain0']!.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    expect(rows['devices/shmem[2] taken']!.models.dac).toMatchObject({ action: 'as-is', accessible: false });
    expect(rows['devices/shmem[3] bell']!.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    expect(rows['devices/graphics[1] vnc']!.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    expect(rows['devices/graphics[2] spice']!.models.dac).toMatchObject({ action: 'as-is', accessible: true });
    expect(rows['devices/graphics[1] vnc']!.models.selinux).toMatchObject({ action: 'as-is', accessible: null });
    const denied = byElement((await explain(h(0o750, 1000), [p], { models: ['dac'] })).report);
    expect(denied['devices/graphics[1] vnc']!.models.dac).toMatchObject({ action: 'as-is', accessible: false });
    expect(denied['devices/graphics[1] vnc']!.models.dac.reason).toContain('cannot create files in it');
    // An old socket owned by someone else in sticky /tmp: QEMU cannot remove it to bind its own.
    expect(denied['devices/graphics[2] spice']!.models.dac).toMatchObject({ action: 'as-is', accessible: false });
    expect(denied['devices/graphics[2] spice']!.models.dac.reason).toContain('sticky');
    const a = await annotate(h(0o770, QEMU), [p], {}, { models: ['dac'] });
    expect(a.stdout.match(/<seclabel/g)).toHaveLength(1);
  });

  it('a pipe with .in and .out is judged on both (libvirt labels both, QEMU opens both)', async () => {
    const pipe = "    <serial type='pipe'>\n      <source path='/srv/p/pipe'/>\n    </serial>\n";
    const p = file('pipe.xml', xml('', pipe));
    const h = (outMode: number) => host({ '/srv/p': { type: 'dir', mode: 0o755 }, '/srv/p/pipe.in': { type: 'fifo', mode: 0o666 }, '/srv/p/pipe.out': { type: 'fifo', mode: outMode } });
    expect(byElement((await explain(h(0o666), [p], { models: ['dac'] })).report)['devices/serial[3]']!.models.dac).toMatchObject({ action: 'annotate', accessible: true });
    const denied = byElement((await explain(h(0o600), [p], { models: ['dac'] })).report)['devices/serial[3]']!.models.dac;
    expect(denied).toMatchObject({ action: 'keep', accessible: false });
    expect(denied.reason).toContain('/srv/p/pipe.out');
  });
});
