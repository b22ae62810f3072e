/**
 * Files beyond disks replay from a facts snapshot: what their decisions read (the nvram, kernel, chardev
 * and -fw_cfg paths, their labels, qemu.conf's stdio_handler) is recorded by the same recorder, so
 * explain --json and annotate --check from the snapshot equal the live ones byte for byte, annotations,
 * relabel explanations and the predicted start failure of an unreadable -fw_cfg file included.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { HostOptions } from '../../src/app/host-options.js';
import { memoryView } from '../support/memory-view.js';
import { missingRequirements } from '../support/requirements.js';
import { DEBIAN_POLICY, GROUP, PASSWD, withRealPolicy } from '../cli/harness.js';
import { live, offline, record, removeScratch, writeDomains } from './harness.js';

afterAll(removeScratch);

const skip = missingRequirements({ files: [DEBIAN_POLICY] });
const L = (t: string) => `system_u:object_r:${t}:s0`;

const TREE = {
  '/': { type: 'dir', mode: 0o755, label: L('root_t') },
  '/usr': { type: 'dir', mode: 0o755, label: L('usr_t') },
  '/usr/share': { type: 'dir', mode: 0o755, label: L('usr_t') },
  '/usr/share/OVMF': { type: 'dir', mode: 0o755, label: L('usr_t') },
  '/usr/share/OVMF/OVMF_CODE_4M.fd': { type: 'file', mode: 0o644, label: L('usr_t') },
  '/srv': { type: 'dir', mode: 0o755, label: L('var_t') },
  '/srv/vm': { type: 'dir', mode: 0o755, uid: 1000, gid: 1000, label: L('virt_image_t') },
  '/srv/vm/VARS.fd': { type: 'file', mode: 0o660, uid: 1000, gid: 64055, label: L('virt_image_t') },
  // Not readable by svirt as it is: only the label libvirt gives it makes it readable.
  '/srv/vm/vmlinuz': { type: 'file', mode: 0o644, label: L('user_home_t') },
  '/srv/vm/ok.ign': { type: 'file', mode: 0o644, label: L('virt_content_t') },
  '/srv/vm/denied.ign': { type: 'file', mode: 0o600, label: L('virt_content_t') },
  '/srv/share': { type: 'dir', mode: 0o700, label: L('var_t') },
  '/srv/vm/nv.img': { type: 'file', mode: 0o600, uid: 1000, gid: 1000, label: L('virt_image_t') },
  '/dev': { type: 'dir', mode: 0o755, label: L('device_t') },
  '/dev/ttyS9': { type: 'char', mode: 0o660, gid: 64055, label: L('tty_device_t') },
} as const;

const DOMAIN = `<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>files</name>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
    <nvram type='file'>
      <source file='/srv/vm/VARS.fd'/>
    </nvram>
    <kernel>/srv/vm/vmlinuz</kernel>
  </os>
  <devices>
    <serial type='dev'>
      <source path='/dev/ttyS9'/>
    </serial>
    <serial type='file'>
      <source path='/srv/vm/serial.log'/>
    </serial>
    <filesystem type='mount'>
      <source dir='/srv/share'/>
      <target dir='share'/>
    </filesystem>
    <memory model='nvdimm'>
      <source>
        <path>/srv/vm/nv.img</path>
      </source>
      <target>
        <size unit='MiB'>16</size>
      </target>
    </memory>
  </devices>
  <sysinfo type='fwcfg'>
    <entry name='opt/com.coreos/config' file='/srv/vm/denied.ign'/>
  </sysinfo>
  <qemu:commandline>
    <qemu:arg value='-fw_cfg'/>
    <qemu:arg value='name=opt/ok,file=/srv/vm/ok.ign'/>
    <qemu:arg value='-fw_cfg'/>
    <qemu:arg value='opt/denied,file=/srv/vm/denied.ign'/>
  </qemu:commandline>
</domain>
`;

const opts = (over: Partial<HostOptions> = {}): HostOptions => ({ connect: 'system', qemuConf: '/etc/libvirt/qemu.conf', models: ['dac', 'selinux'], policy: DEBIAN_POLICY, booleans: {}, ...over });

describe.skipIf(skip)('files beyond disks: offline equals live', () => {
  for (const [name, conf] of [['stdio_handler unset', ''], ['stdio_handler = "file"', 'stdio_handler = "file"\n']] as const)
    it(name, async () => {
      const view = withRealPolicy(memoryView(TREE, { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP, '/etc/libvirt/qemu.conf': `user = "libvirt-qemu"\ngroup = "kvm"\n${conf}` } }));
      const files = writeDomains({ 'files.xml': DOMAIN });
      const liveOut = await live(view, opts(), files);
      const { facts } = await record(view, opts(), files);
      const off = await offline(facts, files);
      expect(off.explain).toBe(liveOut.explain);
      expect(off.check).toBe(liveOut.check);
      expect(off.checkCode).toBe(liveOut.checkCode);
      expect(off.warnings).toEqual([]);
      const report = JSON.parse(liveOut.explain) as { files: { otherFiles: { element: string; models: Record<string, { action: string; accessible: boolean | null }> }[] }[] };
      const rows = Object.fromEntries(report.files[0]!.otherFiles.map((f) => [f.element, f.models]));
      expect(Object.keys(rows)).toHaveLength(10);
      // <sysinfo> fw_cfg: libvirt relabels it (virt_content_t), unlike the same file through <qemu:commandline>.
      expect(rows['sysinfo[1]/entry[1] opt/com.coreos/config']!.dac).toMatchObject({ action: 'relabel', accessible: false });
      expect(rows['sysinfo[1]/entry[1] opt/com.coreos/config']!.selinux).toMatchObject({ action: 'relabel', accessible: true });
      expect(rows['devices/filesystem[1]']!.dac).toMatchObject({ action: 'as-is', accessible: false });
      expect(rows['devices/memory[1] nvdimm']!.dac).toMatchObject({ action: 'relabel', accessible: false });
      expect(liveOut.check).toMatch(/error: devices\/filesystem\[1\] \(\/srv\/share\): dac: libvirt never labels it; QEMU cannot open it/);
      expect(rows['os/nvram']!.dac!.action).toBe('annotate');
      expect(rows['os/kernel']!.dac!.action).toBe('relabel');
      // Judged with the label libvirt gives it (virt_content_t:s0), by Debian's policy.
      expect(rows['os/kernel']!.selinux).toMatchObject({ action: 'relabel', accessible: true });
      expect(rows['os/nvram']!.selinux).toMatchObject({ action: 'keep', accessible: null });
      expect(rows['devices/serial[1]']!.dac!.action).toBe('annotate');
      expect(rows['devices/serial[2]']!.dac!.action).toBe(conf ? 'keep' : 'n/a');
      expect(rows['qemu:commandline/arg[2] -fw_cfg']!.dac).toMatchObject({ action: 'as-is', accessible: true });
      expect(liveOut.check).toContain("add <seclabel model='dac' relabel='no'/>");
      expect(liveOut.check).toMatch(/error: qemu:commandline\/arg\[\d\] -fw_cfg \(\/srv\/vm\/denied\.ign\): dac: /);
      expect(liveOut.checkCode).toBe(1);
    });
});
