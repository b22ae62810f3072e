/**
 * libvirt's SELinux driver and QEMU on a real SELinux kernel, permissive, Debian's default policy as
 * shipped (issue 11 item 3). See libvirt-guest.ts for the evidence each start gives. Cases: a dynamic
 * domain with a read-only public_content_t ISO, a shareable svirt_image_t:s0 disk, an exclusive writable
 * disk, a loop device labelled removable_device_t and a qcow2 chain whose backing file is
 * public_content_t; a static-label domain; a stale annotation.
 */
import { describe, expect, it } from 'vitest';
import { annotated, checkStartedTwice, levelOf, obj, requirementsMissing, svirtDenials, T, typeOf, useLibvirtGuest } from './libvirt-guest.js';

const skip = requirementsMissing();

describe.skipIf(skip !== undefined)('libvirt + QEMU on a real SELinux kernel (permissive, Debian default policy)', () => {
  const g = useLibvirtGuest(() => '/etc/selinux/default/policy/policy.33', 'permissive');

  it('the guest set every label, and libvirt runs its SELinux driver with svirt_t as the tool reasons', () => {
    expect(g.booted.result.errors, g.booted.log).toEqual([]);
    for (const s of g.booted.result.setup) expect(s.got, s.path).toBe(s.want);
    expect(g.booted.result.capabilities).toContain('<model>selinux</model>');
    expect(g.booted.result.labelsProcess?.context).toBe('system_u:system_r:svirt_t');
  });

  it('dynamic domain: what the tool annotates keeps label and owner with no denial; libvirt relabels and chowns it otherwise', () => {
    const c = g.booted.result.cases['vsl-dynamic']!;
    checkStartedTwice('vsl-dynamic', c, g.first, g.booted.result.labelsProcess!.context, g.qemuUid, g.booted.log);
    const loop = c.explain!.files[0]!.disks.find((d) => d.source.startsWith('/dev/loop'))!.source;
    // The tool's live decisions: everything readable is annotated, the exclusive disk never for SELinux.
    expect(annotated(c, 'selinux').sort()).toEqual([`${T}/pub.iso`, `${T}/shared.raw`, `${T}/top.qcow2`, loop].sort());
    expect(annotated(c, 'dac').sort()).toEqual([`${T}/pub.iso`, `${T}/shared.raw`, `${T}/excl.raw`, `${T}/top.qcow2`, loop].sort());
    // Without the annotation: read-only media and the whole chain become virt_content_t, owned by qemu.
    for (const f of [`${T}/pub.iso`, `${T}/top.qcow2`, `${T}/base.raw`, loop]) {
      expect(c.original.files[f]!.label, f).toBe(obj('virt_content_t'));
      expect(c.original.files[f]!.uid, f).toBe(g.qemuUid);
    }
    // The exclusive writable disk gets this VM's own categories, in both starts.
    for (const s of [c.original, c.annotatedStart]) {
      expect(levelOf(s.qemuContext)).toMatch(/^s0:c\d+,c\d+$/);
      expect(s.files[`${T}/excl.raw`]!.label).toBe(`system_u:object_r:svirt_image_t:${levelOf(s.qemuContext)}`);
    }
  });

  it('static label domain: QEMU runs with the static label; the annotated ISO keeps label and owner', () => {
    const c = g.booted.result.cases['vsl-static']!;
    const STATIC = 'system_u:system_r:svirt_t:s0:c10,c20';
    checkStartedTwice('vsl-static', c, g.first, STATIC, g.qemuUid, g.booted.log);
    for (const s of [c.original, c.annotatedStart]) expect(s.qemuContext).toBe(STATIC);
    expect(annotated(c, 'selinux')).toEqual([`${T}/pub.iso`]);
  });

  it('stale annotation: --check reports it; libvirt leaves the file alone and QEMU draws the denial', () => {
    const c = g.booted.result.cases['vsl-stale']!;
    expect(c.staleCheck!.exit, c.staleCheck!.stderr).toBe(1);
    expect(c.staleCheck!.stderr).toMatch(/stale\.iso.*selinux: stale relabel='no'.*user_home_t/);
    const s = c.annotatedStart;
    expect(s.files[`${T}/stale.iso`]!.label).toBe(obj('user_home_t'));
    const denied = svirtDenials(s, `${T}/stale.iso`);
    expect(denied.filter((d) => d.fromQemu && d.tcontext === obj('user_home_t')).map((d) => d.perms), g.booted.log).toContain('read');
    expect(svirtDenials(c.original, `${T}/stale.iso`)).toEqual([]);
    expect(typeOf(c.original.files[`${T}/stale.iso`]!.label)).toBe('virt_content_t');
  });
});
