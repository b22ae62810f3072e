/**
 * The hook's look at libvirt's records (issue 25, item 3): the start libvirt will refuse with "already in
 * use", told apart from a record another running domain really holds, and the hook only adding the
 * cause (exit 0, the line logged) whatever the records say.
 */
import { describe, expect, it } from 'vitest';
import { runHookCheck } from '../../src/hook/check.js';
import type { BootStamp } from '../../src/doctor/boot-stamp.js';
import type { RawAttr, RawRecord } from '../../src/doctor/records.js';
import { checkStart, type StartFile } from '../../src/doctor/start-check.js';
import type { Holder } from '../../src/doctor/status.js';
import { readDomainXml } from '../../src/domain/read.js';
import { failure, success } from '../../src/result.js';

const STAMP = success<BootStamp>({ value: '1796476167', source: 'utmp' });
const v = (s: string): RawAttr => ({ kind: 'value', bytes: new Uint8Array(Buffer.from(s)) });
const A: RawAttr = { kind: 'absent' };
const rec = (label: string, ref: string, ts: string): RawRecord => ({ label: v(label), ref: v(ref), stamp: v(ts) });
const none: RawRecord = { label: A, ref: A, stamp: A };
const xml = (extra = '', seclabel = '') =>
  new TextEncoder().encode(`<domain type='qemu'><name>vm2</name><devices>
  <disk type='file' device='disk'><source file='/i/disk.raw'/><target dev='vda' bus='virtio'/></disk>
  <disk type='file' device='cdrom'><source file='/i/a.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>${extra}
</devices>${seclabel}</domain>`);
const dom = (bytes: Uint8Array) => {
  const r = readDomainXml(bytes);
  if (!r.ok) throw new Error(r.error.message);
  return r.value.domain;
};
const file = (dac: RawRecord, owner = { uid: 4242, gid: 4242 }, holders: Holder[] = [], selinux: RawRecord = none, label: string | null = null): StartFile => ({
  records: { kind: 'read', raw: { dac, selinux } },
  owner,
  label,
  holders,
});
const QEMU = { owner: { uid: 64055, gid: 64055 } };
const holder = (domain: string): Holder => ({ domain, role: 'top', disk: 'vda', counts: { dac: true, selinux: true }, dacLabel: undefined, imageLabel: undefined });
const SAYS = 'Requested operation is not valid: Setting different DAC user or group on /i/disk.raw which is already in use';

describe('checkStart (libvirt\'s Set, predicted)', () => {
  it('a same-boot record nobody holds, on a file not owned by this domain\'s uid:gid → stale, with the fix and libvirt\'s words', () => {
    const p = checkStart(dom(xml()), 'dac', QEMU, STAMP, (path) => (path === '/i/disk.raw' ? file(rec('+1000:+1000', '1', '1796476167')) : undefined));
    expect(p).toEqual([
      {
        path: '/i/disk.raw',
        stale: true,
        libvirtWillSay: SAYS,
        line: `stale libvirt record on /i/disk.raw: run \`virt-seclabel doctor --apply /i/disk.raw\` (trusted.libvirt.security.ref_dac = 1 but no running domain holds it, and the file is owned 4242:4242, not 64055:64055; libvirt will refuse the start: ${SAYS})`,
      },
    ]);
  });
  it('a file two disks name is said once', () => {
    const twice = xml("<disk type='file' device='disk'><source file='/i/disk.raw'/><target dev='vdb' bus='virtio'/></disk>");
    expect(checkStart(dom(twice), 'dac', QEMU, STAMP, (path) => (path === '/i/disk.raw' ? file(rec('+1000:+1000', '1', '1796476167')) : undefined))).toHaveLength(1);
  });
  it('held by a running domain with another owner → "in use", not stale', () => {
    const p = checkStart(dom(xml()), 'dac', QEMU, STAMP, () => file(rec('+1000:+1000', '1', '1796476167'), { uid: 4242, gid: 4242 }, [holder('vm1')]));
    expect(p.map((x) => [x.stale, x.line])).toEqual([[false, `/i/disk.raw is in use by vm1 and owned 4242:4242, not 64055:64055; libvirt will refuse the start: ${SAYS}`]]);
  });
  it('nothing when the start will succeed: owner already this domain\'s, another boot\'s record, no count, malformed count, read-only disk', () => {
    const cases: StartFile[] = [
      file(rec('+1000:+1000', '1', '1796476167'), { uid: 64055, gid: 64055 }),
      file(rec('+1000:+1000', '1', '1700000000')),
      file({ ...rec('+1000:+1000', '1', '1796476167'), ref: A }),
      file(rec('+1000:+1000', 'abc', '1796476167')),
      file(none),
    ];
    for (const c of cases) expect(checkStart(dom(xml()), 'dac', QEMU, STAMP, (p) => (p === '/i/disk.raw' ? c : undefined))).toEqual([]);
    expect(checkStart(dom(xml()), 'dac', QEMU, STAMP, (p) => (p === '/i/a.iso' ? file(rec('+1:+1', '1', '1796476167')) : undefined))).toEqual([]);
    expect(checkStart(dom(xml()), 'dac', QEMU, failure('no stamp'), () => file(rec('+1:+1', '1', '1796476167')))).toEqual([]);
  });
  it('a disk with a dac relabel=\'no\' is not labelled, so nothing is predicted for it', () => {
    const noRelabel = new TextEncoder().encode(`<domain type='qemu'><name>vm2</name><devices><disk type='file' device='disk'><source file='/i/disk.raw'><seclabel model='dac' relabel='no'/></source><target dev='vda' bus='virtio'/></disk></devices></domain>`);
    expect(checkStart(dom(noRelabel), 'dac', QEMU, STAMP, () => file(rec('+1:+1', '1', '1796476167')))).toEqual([]);
  });
  it('SELinux: a same-boot record and a label other than this domain\'s imagelabel → the SELinux twin', () => {
    const sel = rec('system_u:object_r:virt_image_t:s0', '1', '1796476167');
    const p = checkStart(dom(xml()), 'selinux', { label: 'system_u:object_r:svirt_image_t:s0:c3,c4' }, STAMP, (path) =>
      path === '/i/disk.raw' ? file(none, undefined, [], sel, 'system_u:object_r:svirt_image_t:s0:c1,c2') : undefined,
    );
    expect(p.map((x) => x.libvirtWillSay)).toEqual(['Requested operation is not valid: Setting different SELinux label on /i/disk.raw which is already in use']);
    expect(p[0]!.stale).toBe(true);
  });
});

describe('the hook adds the cause and still lets libvirt decide', () => {
  it('logs the line (stderr and syslog) and exits 0', async () => {
    const lines: { line: string; syslog: boolean }[] = [];
    const code = await runHookCheck(['vm2', 'prepare', 'begin', '-'], {
      readStdin: async () => Buffer.from(xml()),
      log: { say: (line, { syslog }) => void lines.push({ line, syslog }) },
      readConfig: () => undefined,
      openContext: () => failure('not opened: no relabel=no disk'),
      startRecords: async (vm, _bytes, model) => [`stale libvirt record on /i/disk.raw (${vm}, ${model})`],
    });
    expect(code).toBe(0);
    expect(lines).toEqual([{ line: 'virt-seclabel: vm2: stale libvirt record on /i/disk.raw (vm2, dac)', syslog: true }]);
  });
  it('a failure reading the records is a note, never a refusal', async () => {
    const lines: string[] = [];
    const code = await runHookCheck(['vm2', 'start', 'begin', '-'], {
      readStdin: async () => Buffer.from(xml()),
      log: { say: (line) => void lines.push(line) },
      readConfig: () => undefined,
      openContext: () => failure('x'),
      startRecords: async () => {
        throw new Error('EIO');
      },
    });
    expect(code).toBe(0);
    expect(lines).toEqual(["virt-seclabel: vm2: cannot read libvirt's records: EIO"]);
  });
});

describe('checkStart beyond the disks', () => {
  const uefi = new TextEncoder().encode(`<domain type='qemu'><name>vm2</name><os><type>hvm</type><loader readonly='yes' type='pflash'>/fw/CODE.fd</loader><nvram>/n/vm2_VARS.fd</nvram><kernel>/b/vmlinuz</kernel></os><devices/></domain>`);
  it('a stale record on the nvram is named as on a disk; the loader (never labelled) is not looked at', () => {
    const asked: string[] = [];
    const p = checkStart(dom(uefi), 'dac', QEMU, STAMP, (path) => {
      asked.push(path);
      return path === '/n/vm2_VARS.fd' ? file(rec('+0:+0', '1', '1796476167')) : undefined;
    });
    expect(asked).toEqual(['/n/vm2_VARS.fd', '/b/vmlinuz']);
    expect(p.map((x) => x.line)).toEqual([
      'stale libvirt record on /n/vm2_VARS.fd: run `virt-seclabel doctor --apply /n/vm2_VARS.fd` (trusted.libvirt.security.ref_dac = 1 but no running domain holds it, and the file is owned 4242:4242, not 64055:64055; libvirt will refuse the start: Requested operation is not valid: Setting different DAC user or group on /n/vm2_VARS.fd which is already in use)',
    ]);
  });
  it('SELinux: a kernel is compared with the content label libvirt gives it, not the VM\'s imagelabel', () => {
    const content = 'system_u:object_r:virt_content_t:s0';
    const sel = (label: string) => (path: string) => (path === '/b/vmlinuz' ? file(none, undefined, [], rec(content, '1', '1796476167'), label) : undefined);
    const img = { label: 'system_u:object_r:svirt_image_t:s0:c1,c2' };
    expect(checkStart(dom(uefi), 'selinux', img, STAMP, sel(content))).toEqual([]);
    expect(checkStart(dom(uefi), 'selinux', img, STAMP, sel('system_u:object_r:boot_t:s0')).map((x) => x.libvirtWillSay)).toEqual([
      'Requested operation is not valid: Setting different SELinux label on /b/vmlinuz which is already in use',
    ]);
  });
});
