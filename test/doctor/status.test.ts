/** libvirt's status files: the running domain, <rememberOwner/>, and which of its files count in a record. */
import { describe, expect, it } from 'vitest';
import { diskFileUses, domainFileUses, holderOf, parseDomainStatus } from '../../src/doctor/status.js';

const status = (remember: boolean, disks: string, seclabels = "<seclabel type='dynamic' model='dac' relabel='yes'><label>+64055:+64055</label><imagelabel>+64055:+64055</imagelabel></seclabel>") =>
  new TextEncoder().encode(`<domstatus state='running' reason='booted' pid='4321'>
  <taint flag='high-privileges'/>
  ${remember ? '<rememberOwner/>' : ''}
  <domain type='qemu' id='3'>
    <name>vm1</name>
    <devices>${disks}</devices>
    ${seclabels}
  </domain>
</domstatus>`);

const disks = `
  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/i/top.qcow2' index='2'/>
    <backingStore type='file' index='1'><format type='raw'/><source file='/i/base.raw'/><backingStore/></backingStore>
    <target dev='vda' bus='virtio'/></disk>
  <disk type='file' device='cdrom'><source file='/i/a.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>
  <disk type='file' device='disk'><source file='/i/shared.raw'/><target dev='vdb' bus='virtio'/><shareable/></disk>
  <disk type='file' device='disk'><source file='/i/norelabel.raw'><seclabel model='dac' relabel='no'/></source><target dev='vdc' bus='virtio'/></disk>
  <disk type='network' device='disk'><source protocol='nbd' name='x'><host name='h'/></source><target dev='vdd' bus='virtio'/></disk>`;

describe('domain status files', () => {
  it('reads name, pid, <rememberOwner/> and the live disks with their chains', () => {
    const st = parseDomainStatus(status(true, disks));
    expect(st.ok).toBe(true);
    if (!st.ok) return;
    expect(st.value).toMatchObject({ name: 'vm1', pid: 4321, state: 'running', rememberOwner: true });
    const uses = diskFileUses(st.value.domain);
    expect(uses.map((u) => [u.path, u.role, u.labelled.dac])).toEqual([
      ['/i/top.qcow2', 'top', true],
      ['/i/base.raw', 'backing', true],
      ['/i/a.iso', 'readonly', true],
      ['/i/shared.raw', 'shareable', true],
      ['/i/norelabel.raw', 'top', false],
    ]);
    const counts = uses.map((u) => holderOf(st.value, u).counts.dac);
    expect(counts).toEqual([true, false, false, false, false]);
    expect(holderOf(st.value, uses[0]!).dacLabel).toBe('+64055:+64055');
  });
  it('without <rememberOwner/> nothing counts', () => {
    const st = parseDomainStatus(status(false, disks));
    if (!st.ok) throw new Error(st.error);
    expect(diskFileUses(st.value.domain).some((u) => holderOf(st.value, u).counts.dac)).toBe(false);
  });
  it('SELinux counts only with a labelling selinux seclabel in the live XML', () => {
    const withSel = parseDomainStatus(status(true, disks, "<seclabel type='dynamic' model='selinux' relabel='yes'><label>system_u:system_r:svirt_t:s0:c1,c2</label><imagelabel>system_u:object_r:svirt_image_t:s0:c1,c2</imagelabel></seclabel>"));
    if (!withSel.ok) throw new Error(withSel.error);
    const u = diskFileUses(withSel.value.domain)[0]!;
    expect(holderOf(withSel.value, u)).toMatchObject({ counts: { dac: true, selinux: true }, imageLabel: 'system_u:object_r:svirt_image_t:s0:c1,c2' });
    const without = parseDomainStatus(status(true, disks));
    if (!without.ok) throw new Error(without.error);
    expect(holderOf(without.value, diskFileUses(without.value.domain)[0]!).counts.selinux).toBe(false);
  });
  it('refuses what is not a <domstatus>', () => {
    expect(parseDomainStatus(new TextEncoder().encode('<domain type="qemu"><name>x</name></domain>'))).toEqual({ ok: false, error: 'the root element is <domain>, not <domstatus>' });
    expect(parseDomainStatus(new TextEncoder().encode('<domstatus pid="1"/>'))).toEqual({ ok: false, error: 'no <domain> inside <domstatus>' });
    expect(parseDomainStatus(new TextEncoder().encode('<domstatus')).ok).toBe(false);
  });
  it('the files beyond the disks libvirt labels: nvram and kernel remembered (counted), a unix connect socket labelled without a record, loader and <qemu:commandline> files not at all', () => {
    const os = `<os><type>hvm</type><loader readonly='yes' type='pflash'>/fw/CODE.fd</loader><nvram template='/fw/VARS.fd'>/n/vm1_VARS.fd</nvram><kernel>/b/vmlinuz</kernel><initrd>/b/initrd</initrd></os>`;
    const devs = `<serial type='unix'><source mode='connect' path='/s/sock'/></serial><serial type='dev'><source path='/dev/ttyS9'/></serial>
      <serial type='file'><source path='/l/log'/></serial><channel type='unix'><source mode='connect' path='/s/opt'><seclabel model='dac' relabel='no'/></source></channel>`;
    const bytes = new TextDecoder().decode(status(true, devs)).replace('<devices>', `${os}<devices>`).replace("<domain type='qemu' id='3'>", "<domain type='qemu' id='3' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>").replace('</domain>', "<qemu:commandline><qemu:arg value='-fw_cfg'/><qemu:arg value='name=opt/x,file=/q/blob'/></qemu:commandline></domain>");
    const st = parseDomainStatus(new TextEncoder().encode(bytes));
    if (!st.ok) throw new Error(st.error);
    const uses = domainFileUses(st.value.domain);
    expect(uses.map((u) => [u.path, u.role, u.disk, u.labelled.dac, u.selinuxLabel])).toEqual([
      ['/n/vm1_VARS.fd', 'remembered-file', 'os/nvram', true, 'image'],
      ['/b/vmlinuz', 'remembered-file', 'os/kernel', true, 'content'],
      ['/b/initrd', 'remembered-file', 'os/initrd', true, 'content'],
      ['/s/sock', 'unremembered-file', 'devices/serial[1]', true, 'image'],
      ['/dev/ttyS9', 'remembered-file', 'devices/serial[2]', true, 'image'],
      // devices/serial[3] type='file' under stdio_handler "logd": virtlogd opens it, libvirt labels nothing.
      ['/s/opt', 'unremembered-file', 'devices/channel[1]', false, 'image'],
    ]);
    expect(uses.map((u) => holderOf(st.value, u).counts.dac)).toEqual([true, true, true, false, true, false]);
    // stdio_handler = "file": libvirtd labels the file chardev's path and remembers it.
    expect(domainFileUses(st.value.domain, { stdioHandler: 'file' }).find((u) => u.path === '/l/log')).toMatchObject({ role: 'remembered-file', remembered: true });
  });
});
