/**
 * The annotate filter end to end, in-process, on an in-memory host with the real Debian policy:
 * what gets inserted, that nothing else changes, idempotence, --check/--diff/--in-place, and errors.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ok } from '../../src/host/view.js';
import { memoryView } from '../support/memory-view.js';
import { missingRequirements } from '../support/requirements.js';
import { annotate, DEBIAN_POLICY, GROUP, PASSWD, withRealPolicy } from './harness.js';

const L = (t: string, level = 's0') => `system_u:object_r:${t}:${level}`;

export const host = () =>
  withRealPolicy(
    memoryView(
      {
        '/': { type: 'dir', mode: 0o755, label: L('root_t') },
        '/srv': { type: 'dir', mode: 0o755, label: L('var_t') },
        '/srv/iso': { type: 'dir', mode: 0o755, label: L('public_content_t') },
        '/srv/iso/debian.iso': { type: 'file', mode: 0o644, label: L('public_content_t') },
        '/srv/iso/private.iso': { type: 'file', mode: 0o600, label: L('public_content_t') },
        '/var': { type: 'dir', mode: 0o755, label: L('var_t') },
        '/var/lib': { type: 'dir', mode: 0o755, label: L('var_lib_t') },
        '/var/lib/libvirt': { type: 'dir', mode: 0o755, label: L('virt_var_lib_t') },
        '/var/lib/libvirt/images': { type: 'dir', mode: 0o711, label: L('virt_image_t') },
        '/var/lib/libvirt/images/vm.img': { type: 'file', mode: 0o660, uid: 0, gid: 64055, label: L('virt_image_t') },
        '/home': { type: 'dir', mode: 0o755, label: L('home_root_t') },
        '/home/alice': { type: 'dir', mode: 0o700, uid: 1000, gid: 1000, label: L('user_home_dir_t') },
        '/home/alice/x.iso': { type: 'file', mode: 0o644, uid: 1000, gid: 1000, label: L('user_home_t') },
      },
      { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } },
    ),
  );

const DOMAIN = `<domain type='kvm'>
  <name>web01</name>
  <devices>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/srv/iso/debian.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/libvirt/images/vm.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/home/alice/x.iso'/>
      <target dev='sdb' bus='sata'/>
      <readonly/>
    </disk>
  </devices>
</domain>
`;

const skip = missingRequirements({ files: [DEBIAN_POLICY] });

function tmpFile(name: string, content: string | Buffer) {
  const dir = mkdtempSync(join(tmpdir(), 'vsl-cli-'));
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe.skipIf(skip)('annotate (in-process, Debian default policy)', () => {
  const both = { models: ['dac', 'selinux'] as ('dac' | 'selinux')[], policy: DEBIAN_POLICY };

  it('adds seclabels only where proven, and changes nothing else', async () => {
    const r = await annotate(host(), [], {}, both, DOMAIN);
    expect(r.code).toBe(0);
    const added = `      <source file='/srv/iso/debian.iso'>\n        <seclabel model='dac' relabel='no'/>\n        <seclabel model='selinux' relabel='no'/>\n      </source>\n`;
    expect(r.stdout).toBe(DOMAIN.replace(`      <source file='/srv/iso/debian.iso'/>\n`, added).replace(
      `      <source file='/var/lib/libvirt/images/vm.img'/>\n`,
      `      <source file='/var/lib/libvirt/images/vm.img'>\n        <seclabel model='dac' relabel='no'/>\n      </source>\n`,
    ));
    // The home directory blocks: no annotation, and a warning with the smallest fix.
    expect(r.stderr).toMatch(/<stdin>:\d+:\d+: warning: disk sdb \(\/home\/alice\/x\.iso\): .*\/home\/alice.*setfacl -m u:libvirt-qemu:x \/home\/alice/);
  });

  it('is idempotent: a second run changes nothing', async () => {
    const once = await annotate(host(), [], {}, both, DOMAIN);
    const twice = await annotate(host(), [], {}, both, once.stdout);
    expect(twice.code).toBe(0);
    expect(twice.stdout).toBe(once.stdout);
  });

  it('session mode never writes a dac seclabel; SELinux uses the session user and role, or proves nothing', async () => {
    const withContext = (ctx: string) => {
      const base = host();
      return { ...base, readText: (p: string) => (p === '/proc/self/attr/current' ? ok(ctx) : base.readText(p)) };
    };
    // A user and role Debian's policy authorises for svirt_t: the ISO's label may stay.
    const r = await annotate(withContext('unconfined_u:system_r:unconfined_t:s0-s0:c0.c1023'), [], {}, { ...both, connect: 'session', models: ['selinux'] }, DOMAIN);
    expect(r.stdout).not.toContain("model='dac'");
    expect(r.stdout).toContain("<seclabel model='selinux' relabel='no'/>");
    // unconfined_r is not authorised for svirt_t in Debian's policy: libvirt's label would be invalid, so no proof.
    const invalid = await annotate(withContext('unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023'), [], {}, { ...both, connect: 'session', models: ['selinux'] }, DOMAIN);
    expect(invalid.stdout).toBe(DOMAIN);
    // Without this process's context (no SELinux here), the session daemon's user is unknown: no proof either.
    const unknown = await annotate(host(), [], {}, { ...both, connect: 'session', models: ['selinux'] }, DOMAIN);
    expect(unknown.stdout).toBe(DOMAIN);
  });

  it('--check exits 1 and says what it would add; exits 0 once applied', async () => {
    const f = tmpFile('web01.xml', DOMAIN);
    const r = await annotate(host(), [f], { check: true }, both);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${f}:6:7: warning: disk sda (/srv/iso/debian.iso): add <seclabel model='dac' relabel='no'/>`);
    expect(r.stderr).toContain(`${f}:6:7: warning: disk sda (/srv/iso/debian.iso): add <seclabel model='selinux' relabel='no'/>`);
    expect(readFileSync(f, 'utf8')).toBe(DOMAIN);
    const fixed = await annotate(host(), [f], { inPlace: true }, both);
    expect(fixed.code).toBe(0);
    expect((await annotate(host(), [f], { check: true }, both)).code).toBe(0);
  });

  it('--in-place keeps the mode and leaves unchanged files untouched', async () => {
    const f = tmpFile('web01.xml', DOMAIN);
    chmodSync(f, 0o640);
    await annotate(host(), [f], { inPlace: true }, both);
    expect(statSync(f).mode & 0o777).toBe(0o640);
    const mtime = statSync(f).mtimeMs;
    const again = await annotate(host(), [f], { inPlace: true }, both);
    expect(again.code).toBe(0);
    expect(statSync(f).mtimeMs).toBe(mtime);
  });

  it('--diff prints a unified diff of the insertions', async () => {
    const f = tmpFile('web01.xml', DOMAIN);
    const r = await annotate(host(), [f], { diff: true }, both);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`-      <source file='/srv/iso/debian.iso'/>\n+      <source file='/srv/iso/debian.iso'>\n+        <seclabel model='dac' relabel='no'/>`);
    // As git diff --no-index names an absolute path: a/tmp/..., so patch -p1 in / applies it.
    const rel = f.replace(/^\/+/, '');
    expect(r.stdout.startsWith(`--- a/${rel}\n+++ b/${rel}\n@@ -3,`)).toBe(true);
  });

  it('a bad file gets FILE:LINE:COL, exit 2 and nothing on stdout; with -i the good files are still fixed', async () => {
    const bad = tmpFile('bad.xml', "<domain>\n  <devices>\n    <disk type='file'>\n  </devices>\n</domain>\n");
    const good = tmpFile('good.xml', DOMAIN);
    const r = await annotate(host(), [bad], {}, both);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:\\d+: error: `));
    const multi = await annotate(host(), [bad, good], { inPlace: true }, both);
    expect(multi.code).toBe(2);
    expect(readFileSync(bad, 'utf8')).toContain("<disk type='file'>\n  </devices>");
    expect(readFileSync(good, 'utf8')).toContain("<seclabel model='dac' relabel='no'/>");
  });

  it('a DOCTYPE is refused before anything is expanded', async () => {
    const evil = `<?xml version="1.0"?>\n<!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/shadow">]>\n<domain><name>&x;</name></domain>\n`;
    const r = await annotate(host(), [], {}, both, evil);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^<stdin>:2:1: error: .*DOCTYPE/);
  });

  it('a stale relabel=no is reported by --check and removed by --prune-stale', async () => {
    const stale = DOMAIN.replace(
      `<source file='/home/alice/x.iso'/>`,
      `<source file='/srv/iso/private.iso'>\n        <seclabel model='dac' relabel='no'/>\n      </source>`,
    );
    const f = tmpFile('stale.xml', stale);
    const check = await annotate(host(), [f], { check: true }, both);
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/warning: disk sdb \(\/srv\/iso\/private\.iso\): dac: stale relabel='no'/);
    const pruned = await annotate(host(), [], { pruneStale: true }, both, stale);
    // The stale DAC seclabel is gone; SELinux (which ignores mode bits) may still keep the label.
    expect(pruned.stdout).toContain(`<source file='/srv/iso/private.iso'>\n        <seclabel model='selinux' relabel='no'/>\n      </source>`);
    expect(pruned.stdout.match(/model='dac'/g)).toHaveLength(2);
    const check2 = await annotate(host(), [], { check: true }, both, pruned.stdout);
    expect(check2.code).toBe(0);
  });
});
