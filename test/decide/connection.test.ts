import { describe, expect, it } from 'vitest';
import { detectConnection } from '../../src/decide/connection.js';
import { textView } from '../support/text-view.js';

const PASSWD_DEBIAN = 'root:x:0:0:root:/root:/bin/bash\nlibvirt-qemu:x:64055:107:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin\n';
const PASSWD_FEDORA = 'root:x:0:0:root:/root:/bin/bash\nqemu:x:107:107:qemu user:/:/sbin/nologin\n';
const CONF = '/etc/libvirt/qemu.conf';
const SELINUX_ON = { '/sys/fs/selinux/enforce': '1' };

const detect = (files: Record<string, string>, opts: Partial<Parameters<typeof detectConnection>[1]> = {}) =>
  detectConnection(textView(files), { connect: 'system', qemuConfPath: CONF, ...opts });

describe('detectConnection', () => {
  it('system mode stacks DAC; SELinux only where the host has it enabled', () => {
    const off = detect({ '/etc/passwd': PASSWD_DEBIAN });
    const on = detect({ '/etc/passwd': PASSWD_DEBIAN, ...SELINUX_ON });
    expect(off.ok && off.value.models).toMatchObject({ dac: { active: true }, selinux: { active: false } });
    expect(on.ok && on.value.models).toMatchObject({ dac: { active: true }, selinux: { active: true } });
  });

  it('session mode has no DAC driver and runs QEMU as the invoker', () => {
    const r = detect({ '/etc/passwd': PASSWD_DEBIAN, ...SELINUX_ON }, { connect: 'session', invoker: { uid: 1000, gid: 1000 } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.models.dac.active).toBe(false);
    expect(r.value.models.dac.why).toContain('session');
    expect(r.value.models.selinux.active).toBe(true);
    expect([r.value.user, r.value.group]).toEqual(['+1000', '+1000']);
    expect(r.value.dynamicOwnership).toBe(false);
  });

  it("security_driver without selinux keeps SELinux inactive even on an SELinux host", () => {
    for (const drv of ['"none"', '[ "apparmor" ]']) {
      const r = detect({ '/etc/passwd': PASSWD_DEBIAN, ...SELINUX_ON, [CONF]: `security_driver = ${drv}\n` });
      expect(r.ok && r.value.models.selinux.active).toBe(false);
    }
    const listed = detect({ '/etc/passwd': PASSWD_DEBIAN, ...SELINUX_ON, [CONF]: 'security_driver = [ "selinux" ]\n' });
    expect(listed.ok && listed.value.models.selinux.active).toBe(true);
  });

  // Seen on a real libvirtd 9.0 under an AppArmor kernel (test/apparmor-kernel): with "dac" it refuses to start.
  it('a security_driver libvirt does not know by name (dac, stack) is a qemu.conf error, as libvirtd makes it', () => {
    for (const drv of ['"dac"', '[ "apparmor", "dac" ]', '"stack"']) {
      const r = detect({ '/etc/passwd': PASSWD_DEBIAN, [CONF]: `security_driver = ${drv}\n` });
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error).toMatch(/security_driver names "(dac|stack)": libvirt knows only "selinux", "apparmor" and "none" .*Security driver (dac|stack) not found/);
    }
  });

  it('reads user, group, dynamic_ownership and security_default_confined from qemu.conf', () => {
    const r = detect({ '/etc/passwd': PASSWD_DEBIAN, [CONF]: 'user = "+0"\ngroup = "kvm"\ndynamic_ownership = 0\nsecurity_default_confined = 0\n' });
    expect(r.ok && [r.value.user, r.value.group, r.value.dynamicOwnership, r.value.defaultConfined]).toEqual(['+0', 'kvm', false, false]);
  });

  it("falls back to the distribution's built-in qemu identity", () => {
    const deb = detect({ '/etc/passwd': PASSWD_DEBIAN });
    const fed = detect({ '/etc/passwd': PASSWD_FEDORA });
    expect(deb.ok && [deb.value.user, deb.value.group]).toEqual(['libvirt-qemu', 'libvirt-qemu']);
    expect(fed.ok && [fed.value.user, fed.value.group]).toEqual(['qemu', 'qemu']);
    expect(detect({ '/etc/passwd': 'root:x:0:0::/root:/bin/sh\n' }).ok).toBe(false);
  });

  it('command-line user/group and --models override everything', () => {
    const r = detect({ '/etc/passwd': PASSWD_DEBIAN, [CONF]: 'user = "qemu"\n' }, { user: 'alice', group: '+100', models: ['selinux'] });
    expect(r.ok && [r.value.user, r.value.group, r.value.models.dac.active, r.value.models.selinux.active]).toEqual(['alice', '+100', false, true]);
  });

  it('a syntax error in qemu.conf is an error naming file and line', () => {
    const r = detect({ '/etc/passwd': PASSWD_DEBIAN, [CONF]: 'user = "x"\ngroup = \n' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^\/etc\/libvirt\/qemu\.conf:2: /);
    const typed = detect({ '/etc/passwd': PASSWD_DEBIAN, [CONF]: 'user = 5\n' });
    expect(typed.ok).toBe(false);
  });
});
