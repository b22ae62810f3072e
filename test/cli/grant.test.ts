/**
 * `grant` in-process against an in-memory host: the plan as a shell script and as JSON (validated
 * against schemas/grant.schema.json), refusals with their reasons, the exit codes, and --apply through
 * a recording fake (the live effects are tested against the kernel in test/dac/grant-kernel.test.ts).
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { createHostContext } from '../../src/app/host-context.js';
import { runGrant, type GrantDeps } from '../../src/commands/grant.js';
import { memoryView, type MemoryNode } from '../support/memory-view.js';
import { missingRequirements } from '../support/requirements.js';
import { captureIo, DEBIAN_POLICY, GROUP, hostOptions, PASSWD, withRealPolicy } from './harness.js';

const DOMAIN = `<domain type='kvm'>
  <name>demo</name>
  <devices>
    <disk type='file' device='cdrom'>
      <source file='/home/alice/Downloads/debian.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/srv/nfs/data.img'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/var/lib/libvirt/images/ok.img'/>
      <target dev='vdc' bus='virtio'/>
      <shareable/>
    </disk>
  </devices>
</domain>
`;

// /home/alice's mask is r--, so its mode's group bits are r-- too.
const TREE: Record<string, MemoryNode> = {
  '/home/alice': { type: 'dir', mode: 0o740, uid: 1000, gid: 1000, acl: 'u::rwx,u:2000:rwx,g::r-x,m::r--,o::---' },
  '/home/alice/Downloads': { type: 'dir', mode: 0o700, uid: 1000, gid: 1000 },
  '/home/alice/Downloads/debian.iso': { type: 'file', mode: 0o640, uid: 1000, gid: 1000 },
  '/srv/nfs/data.img': { type: 'file', mode: 0o600, uid: 1000, gid: 1000 },
  '/var/lib/libvirt/images/ok.img': { type: 'file', mode: 0o666 },
};
const MOUNTS = '1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 0:50 / /srv/nfs rw - nfs4 server:/export rw\n';

async function grant(args: { apply?: boolean; json?: boolean }, deps: GrantDeps) {
  const view = memoryView(TREE, { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP, '/proc/self/mountinfo': MOUNTS } });
  const ctx = createHostContext(view, hostOptions({ models: ['dac'] }));
  if (!ctx.ok) throw new Error(ctx.error);
  const c = captureIo(DOMAIN);
  const code = await runGrant([], { apply: args.apply ?? false, json: args.json ?? false }, ctx.value, c.io, deps);
  await c.settle();
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

const yes: GrantDeps = { probe: () => ({ kind: 'yes' }) };

describe('grant', () => {
  it('prints the plan as reviewable setfacl commands, with refusals and widened entries named', async () => {
    const r = await grant({}, yes);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1); // vdb is refused
    expect(r.stdout).toBe(`# virt-seclabel grant: the ACL changes that let QEMU open these disks (review, then run with --apply)
# <stdin>: domain demo, disk sda /home/alice/Downloads/debian.iso (read-only): planned
#   /home/alice (drwxr-----+ alice:alice): libvirt-qemu cannot search (ACL other::---)
setfacl -n -m u:libvirt-qemu:--x,m::r-x /home/alice
#   note: the wider mask on /home/alice also widens user:2000:rwx from r-- to r-x in effect
#   note: the wider mask on /home/alice also widens group::r-x from r-- to r-x in effect
setfacl -n -m u:libvirt-qemu:--x,m::--x /home/alice/Downloads
setfacl -n -m u:libvirt-qemu:r--,m::r-- /home/alice/Downloads/debian.iso
# <stdin>: domain demo, disk vdb /srv/nfs/data.img (read-write): refused
#   the DAC engine cannot judge it: /srv/nfs is on nfs4 (/srv/nfs), whose permission checks are not the local kernel's (the NFS server decides) and this view cannot ask the kernel
# <stdin>: domain demo, disk vdc /var/lib/libvirt/images/ok.img (read-write): accessible
#   libvirt-qemu can read and write /var/lib/libvirt/images/ok.img: read+write on /var/lib/libvirt/images/ok.img by other rw-; every directory on the way is searchable
`);
  });

  it('--json validates against schemas/grant.schema.json', async () => {
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(readFileSync('schemas/grant.schema.json', 'utf8')));
    const r = await grant({ json: true }, yes);
    const doc = JSON.parse(r.stdout);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.changes.map((c: { path: string }) => c.path)).toEqual(['/home/alice', '/home/alice/Downloads', '/home/alice/Downloads/debian.iso']);
    expect(doc.disks.map((d: { status: string }) => d.status)).toEqual(['planned', 'refused', 'accessible']);
  });

  it('refuses where the filesystem has no ACL support, saying so', async () => {
    const r = await grant({}, { probe: (p) => (p.startsWith('/home') ? { kind: 'no', why: 'reading system.posix_acl_access fails with EOPNOTSUPP' } : { kind: 'yes' }) });
    expect(r.stdout).toMatch(/sda .*: refused\n# {3}.*does not support POSIX ACLs: reading system.posix_acl_access fails with EOPNOTSUPP/);
    expect(r.stdout).not.toMatch(/^setfacl/m);
  });

  it('--apply goes through the effects and reports each change; --json with applied validates', async () => {
    const calls: string[] = [];
    const deps: GrantDeps = {
      probe: () => ({ kind: 'yes' }),
      effects: {
        open: (p) => ({ ok: true, value: p }),
        stat: () => ({ ok: true, value: { type: 'dir', mode: 0o777, uid: 9, gid: 9, dev: 1, ino: 1 } }),
        readAcl: () => ({ ok: true, value: null }),
        modifyAcl: (h, spec) => {
          calls.push(`${String(h)} ${spec}`);
          return { ok: true, value: undefined };
        },
        close: () => undefined,
      },
    };
    const r = await grant({ apply: true }, deps);
    // The fake's inode is not the planned one: refused before any change, and the run says so.
    expect(r.code).toBe(2);
    expect(calls).toEqual([]);
    expect(r.stdout).toMatch(/^refused \/home\/alice: changed since the plan: it is now a dir.*|^refused \/home\/alice: changed since the plan: its owner is now 9:9/m);
    expect(r.stdout).toMatch(/^not attempted \/home\/alice\/Downloads /m);
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(readFileSync('schemas/grant.schema.json', 'utf8')));
    const j = await grant({ apply: true, json: true }, deps);
    expect(validate(JSON.parse(j.stdout)), JSON.stringify(validate.errors)).toBe(true);
  });
});

describe.skipIf(missingRequirements({ files: [DEBIAN_POLICY] }) !== undefined)('grant with SELinux (Debian default policy)', () => {
  it('names the persistent labelling fix only as the engine proves it, and changes no label', async () => {
    const L = (t: string) => `system_u:object_r:${t}:s0`;
    const view = withRealPolicy(
      memoryView(
        {
          '/': { type: 'dir', mode: 0o755, label: L('root_t') },
          '/home': { type: 'dir', mode: 0o755, label: L('home_root_t') },
          '/home/alice': { type: 'dir', mode: 0o700, uid: 1000, gid: 1000, label: L('user_home_dir_t') },
          '/home/alice/x.iso': { type: 'file', mode: 0o644, uid: 1000, gid: 1000, label: L('user_home_t') },
        },
        { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } },
      ),
    );
    const ctx = createHostContext(view, hostOptions({ models: ['dac', 'selinux'], policy: DEBIAN_POLICY }));
    if (!ctx.ok) throw new Error(ctx.error);
    const c = captureIo(`<domain type='kvm'><name>sel</name><devices><disk type='file' device='cdrom'><source file='/home/alice/x.iso'/><target dev='sda' bus='sata'/><readonly/></disk></devices></domain>`);
    const code = await runGrant([], { apply: false, json: false }, ctx.value, c.io, yes);
    await c.settle();
    expect(code).toBe(0);
    expect(c.stdout()).toContain(`setfacl -n -m u:libvirt-qemu:--x,m::--x /home/alice\n`);
    expect(c.stdout()).toContain(`#     semanage fcontext -a -t virt_content_t '/home/alice(/.*)?'\n#     restorecon -Rv /home/alice\n`);
    expect(c.stdout()).toMatch(/or leave libvirt's relabel in place/);
  });
});
