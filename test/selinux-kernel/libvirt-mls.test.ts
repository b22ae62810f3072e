/**
 * libvirt and QEMU under Debian's `mls` policy (issue 11 item 6), permissive, libvirtd as virtd_t at
 * s0-s15:c0.c1023 as on a real host (libvirt draws a VM's level from its own low level). The dynamic
 * domain of the permissive case: the tool's live decisions under MLS, libvirt's labelling, and the kernel.
 */
import { describe, expect, it } from 'vitest';
import { annotated, checkStartedTwice, levelOf, obj, requirementsMissing, svirtDenials, T, useLibvirtGuest } from './libvirt-guest.js';

const skip = requirementsMissing();

describe.skipIf(skip !== undefined)('libvirt + QEMU on a real SELinux kernel with Debian\'s mls policy (permissive)', () => {
  const g = useLibvirtGuest(() => '/etc/selinux/mls/policy/policy.33', 'mls');

  it('read-only media, the block device and the chain: annotated, kept and not denied; QEMU at s0 with two categories', () => {
    expect(g.booted.result.errors, g.booted.log).toEqual([]);
    const c = g.booted.result.cases['vsl-mls']!;
    checkStartedTwice('vsl-mls', c, g.first, g.booted.result.labelsProcess!.context, g.qemuUid, g.booted.log);
    for (const s of [c.original, c.annotatedStart]) expect(levelOf(s.qemuContext)).toMatch(/^s0:c\d+,c\d+$/);
    const loop = c.explain!.files[0]!.disks.find((d) => d.source.startsWith('/dev/loop'))!.source;
    expect(annotated(c, 'selinux').sort()).toEqual([`${T}/pub.iso`, `${T}/top.qcow2`, loop].sort());
  });

  it('the shareable svirt_image_t:s0 disk: the tool refuses (MLS write constraint) and the kernel denies QEMU\'s write, even with libvirt\'s own label', () => {
    const c = g.booted.result.cases['vsl-mls']!;
    const shared = c.explain!.files[0]!.disks.find((d) => d.source === `${T}/shared.raw`)!;
    expect(shared.models.selinux!.action).toBe('keep');
    expect(shared.models.selinux!.reason).toContain('MLS constraint');
    for (const s of [c.original, c.annotatedStart]) {
      expect(s.files[`${T}/shared.raw`]!.label).toBe(obj('svirt_image_t'));
      expect(svirtDenials(s, `${T}/shared.raw`).filter((d) => d.fromQemu).map((d) => d.perms)).toContain('write');
    }
  });
});
