/** QEMU's credentials as libvirt computes them; the group lists are checked against the real getgrouplist. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDacLabel, parseUserSpec, resolveIdentity, resolveSessionIdentity } from '../../src/dac/identity.js';
import { parseGroup, parsePasswd } from '../../src/host/accounts.js';
import { missingRequirements } from '../support/requirements.js';

const passwd = parsePasswd(
  [
    'root:x:0:0:root:/root:/bin/bash',
    'libvirt-qemu:x:64055:107:Libvirt Qemu,,,:/var/lib/libvirt:/usr/sbin/nologin',
    'alice:x:1000:1000::/home/alice:/bin/bash',
    '1234:x:77:77::/:/bin/false',
  ].join('\n'),
);
const groups = parseGroup(['root:x:0:', 'disk:x:6:alice', 'kvm:x:107:alice', 'alice:x:1000:', 'libvirt-qemu:x:64055:libvirt-qemu', 'storage:x:3000:libvirt-qemu,alice'].join('\n'));

describe('resolveIdentity (libvirt virGetUserID/virGetGroupID/virGetGroupList)', () => {
  it('Debian defaults: user and group libvirt-qemu, groups from getgrouplist(user, passwd gid) plus the group', () => {
    expect(resolveIdentity({ user: 'libvirt-qemu', group: 'libvirt-qemu' }, passwd, groups)).toEqual({
      ok: true,
      value: { uid: 64055, gid: 64055, groups: [107, 64055, 3000], userName: 'libvirt-qemu', groupName: 'libvirt-qemu' },
    });
  });

  it('the configured group is appended when the user is not a member of it', () => {
    expect(resolveIdentity({ user: 'alice', group: 'root' }, passwd, groups)).toMatchObject({ ok: true, value: { gid: 0, groups: [1000, 6, 107, 3000, 0] } });
  });

  it('+N is a number without lookup; a uid without a passwd entry gets only the configured gid', () => {
    expect(resolveIdentity({ user: '+5000', group: '+5001' }, passwd, groups)).toEqual({ ok: true, value: { uid: 5000, gid: 5001, groups: [5001] } });
    // +1000 still has alice's passwd entry, so alice's groups apply (virGetUserEnt by uid).
    expect(resolveIdentity({ user: '+1000', group: '+107' }, passwd, groups)).toMatchObject({ ok: true, value: { userName: 'alice', groups: [1000, 6, 107, 3000] } });
  });

  it('a name wins over a number; an unknown name falls back to a number', () => {
    expect(resolveIdentity({ user: '1234', group: '0' }, passwd, groups)).toMatchObject({ ok: true, value: { uid: 77, gid: 0 } });
    expect(resolveIdentity({ user: '+1234', group: '0' }, passwd, groups)).toMatchObject({ ok: true, value: { uid: 1234 } });
    expect(resolveIdentity({ user: '4321', group: '999' }, passwd, groups)).toMatchObject({ ok: true, value: { uid: 4321, gid: 999 } });
  });

  it('an unknown user or group is a clear error, not a guess', () => {
    expect(resolveIdentity({ user: 'qemu', group: 'qemu' }, passwd, groups)).toEqual({ ok: false, error: "unknown user 'qemu': no such entry in /etc/passwd" });
    expect(resolveIdentity({ user: 'root', group: 'qemu' }, passwd, groups)).toEqual({ ok: false, error: "unknown group 'qemu': no such entry in /etc/group" });
    for (const bad of ['+', '+x', '+-1', '+4294967295', '', 'a:b']) expect(parseUserSpec(bad).ok, bad).toBe(false);
    expect(resolveIdentity({ user: '+abc', group: 'root' }, passwd, groups).ok).toBe(false);
  });

  it('session mode: the invoking user with its primary group', () => {
    expect(resolveSessionIdentity(1000, { passwd, groups })).toMatchObject({ ok: true, value: { uid: 1000, gid: 1000, groups: [1000, 6, 107, 3000] } });
    expect(resolveSessionIdentity(4242, { passwd, groups }).ok).toBe(false);
  });

  it('parses a static DAC label USER:GROUP', () => {
    expect(parseDacLabel('+107:+107')).toEqual({ ok: true, value: { user: '+107', group: '+107' } });
    expect(parseDacLabel('qemu:kvm')).toEqual({ ok: true, value: { user: 'qemu', group: 'kvm' } });
    for (const bad of ['qemu', ':kvm', 'qemu:']) expect(parseDacLabel(bad).ok).toBe(false);
  });
});

const skip = missingRequirements({ commands: ['id'], files: ['/etc/passwd', '/etc/group'] });

describe.skipIf(skip !== undefined)('group lists against this host (glibc getgrouplist via id -G)', () => {
  it('matches `id -G USER` for every user in /etc/passwd', () => {
    const realPasswd = parsePasswd(readFileSync('/etc/passwd', 'utf8'));
    const realGroups = parseGroup(readFileSync('/etc/group', 'utf8'));
    expect(realPasswd.length).toBeGreaterThan(5);
    for (const p of realPasswd) {
      const r = resolveIdentity({ user: p.name, group: `+${p.gid}` }, realPasswd, realGroups);
      if (!r.ok) throw new Error(r.error);
      const expected = execFileSync('id', ['-G', p.name], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
      expect([...r.value.groups].sort((a, b) => a - b), p.name).toEqual([...new Set(expected)].sort((a, b) => a - b));
    }
  });
});
