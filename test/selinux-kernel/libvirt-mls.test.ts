/**
 * libvirt and QEMU under Debian's `mls` policy (issue 11 item 6), permissive, libvirtd as virtd_t at
 * s0-s15:c0.c1023 as on a real host (libvirt draws a VM's level from its own low level). The dynamic
 * domain of the permissive case: the tool's live decisions under MLS, libvirt's labelling, and the kernel.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { annotated, bootLibvirt, checkStartedTwice, levelOf, obj, requirementsMissing, svirtDenials, T, type Booted } from './libvirt-guest.js';

const skip = requirementsMissing();
const QEMU_UID = skip ? -1 : Number(execFileSync('id', ['-u', 'libvirt-qemu'], { encoding: 'utf8' }).trim());

describe.skipIf(skip !== undefined)('libvirt + QEMU on a real SELinux kernel with Debian\'s mls policy (permissive)', () => {
  let b: Booted;
  let first: Map<string, { ctx: string; uid: number }>;
  beforeAll(async () => {
    b = await bootLibvirt('/etc/selinux/mls/policy/policy.33', 'mls');
    first = new Map(b.result.setup.map((s) => [s.path, { ctx: s.want, uid: (s as { uid?: number }).uid ?? -1 }]));
  }, 1_600_000);

  it('read-only media, the block device and the chain: annotated, kept and not denied; QEMU at s0 with two categories', () => {
    expect(b.result.errors, b.log).toEqual([]);
    const c = b.result.cases['vsl-mls']!;
    checkStartedTwice('vsl-mls', c, first, b.result.labelsProcess!.context, QEMU_UID, b.log);
    for (const s of [c.original, c.annotatedStart]) expect(levelOf(s.qemuContext)).toMatch(/^s0:c\d+,c\d+$/);
    const loop = c.explain!.files[0]!.disks.find((d) => d.source.startsWith('/dev/loop'))!.source;
    expect(annotated(c, 'selinux').sort()).toEqual([`${T}/pub.iso`, `${T}/top.qcow2`, loop].sort());
  });

  it('the shareable svirt_image_t:s0 disk: the tool refuses (MLS write constraint) and the kernel denies QEMU\'s write, even with libvirt\'s own label', () => {
    const c = b.result.cases['vsl-mls']!;
    const shared = c.explain!.files[0]!.disks.find((d) => d.source === `${T}/shared.raw`)!;
    expect(shared.models.selinux!.action).toBe('keep');
    expect(shared.models.selinux!.reason).toContain('MLS constraint');
    for (const s of [c.original, c.annotatedStart]) {
      expect(s.files[`${T}/shared.raw`]!.label).toBe(obj('svirt_image_t'));
      expect(svirtDenials(s, `${T}/shared.raw`).filter((d) => d.fromQemu).map((d) => d.perms)).toContain('write');
    }
  });
});
