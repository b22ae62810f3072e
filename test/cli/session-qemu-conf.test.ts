/**
 * qemu:///session reads its user's own qemu.conf, not /etc/libvirt/qemu.conf (found in the SELinux guest:
 * a session user's run failed with EACCES on Debian's 0600 /etc/libvirt/qemu.conf, a file that daemon
 * never reads). The built CLI, as a person runs it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultQemuConf } from '../../src/app/host-options.js';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');

describe('the qemu.conf each connection reads', () => {
  it('system: /etc/libvirt/qemu.conf; session: $XDG_CONFIG_HOME, else ~/.config, then libvirt/qemu.conf', () => {
    expect(defaultQemuConf('system', { HOME: '/home/u', XDG_CONFIG_HOME: '/x' })).toBe('/etc/libvirt/qemu.conf');
    expect(defaultQemuConf('session', { HOME: '/home/u' })).toBe('/home/u/.config/libvirt/qemu.conf');
    expect(defaultQemuConf('session', { HOME: '/home/u', XDG_CONFIG_HOME: '/x' })).toBe('/x/libvirt/qemu.conf');
    expect(defaultQemuConf('session', { HOME: '/home/u', XDG_CONFIG_HOME: '' })).toBe('/home/u/.config/libvirt/qemu.conf');
  });

  it('a session explain reports the security_driver of the user\'s own qemu.conf', () => {
    const home = mkdtempSync(join(tmpdir(), 'vsl-session-conf-'));
    mkdirSync(join(home, '.config/libvirt'), { recursive: true });
    writeFileSync(join(home, '.config/libvirt/qemu.conf'), 'security_driver = "none"\n');
    const xml = join(home, 'vm.xml');
    writeFileSync(xml, "<domain type='kvm'><name>v</name><devices><disk type='file' device='cdrom'><source file='/nonexistent.iso'/><target dev='hdc' bus='ide'/><readonly/></disk></devices></domain>\n");
    const run = (env: Record<string, string>) => spawnSync(process.execPath, [CLI, 'explain', '--json', '--connect', 'qemu:///session', xml], { encoding: 'utf8', env: { ...process.env, ...env } });
    const mine = JSON.parse(run({ HOME: home, XDG_CONFIG_HOME: '' }).stdout) as { connection: { models: Record<string, { active: boolean; why: string }> } };
    expect(mine.connection.models.selinux!.active).toBe(false);
    expect(mine.connection.models.selinux!.why).toContain('security_driver');
    expect(mine.connection.models.selinux!.why).toBe('qemu.conf security_driver = ["none"]');
  });
});
