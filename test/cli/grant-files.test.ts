/**
 * `grant` over files beyond disks: the Ignition file a <qemu:commandline> -fw_cfg names (libvirt never
 * labels it, so without access the VM fails) and a user's nvram (then annotated); a kernel libvirt chowns
 * anyway is left out. The plan validates against schemas/grant.schema.json.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { createHostContext } from '../../src/app/host-context.js';
import { runGrant } from '../../src/commands/grant.js';
import { memoryView } from '../support/memory-view.js';
import { captureIo, GROUP, hostOptions, PASSWD } from './harness.js';

const DOMAIN = `<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>coreos</name>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <nvram type='file'>
      <source file='/home/alice/vm/VARS.fd'/>
    </nvram>
    <kernel>/srv/boot/vmlinuz</kernel>
  </os>
  <qemu:commandline>
    <qemu:arg value='-fw_cfg'/>
    <qemu:arg value='name=opt/com.coreos/config,file=/srv/ign/vm.ign'/>
  </qemu:commandline>
</domain>
`;

const view = () =>
  memoryView(
    {
      '/home/alice': { type: 'dir', mode: 0o755, uid: 1000, gid: 1000 },
      '/home/alice/vm': { type: 'dir', mode: 0o755, uid: 1000, gid: 1000 },
      '/home/alice/vm/VARS.fd': { type: 'file', mode: 0o600, uid: 1000, gid: 1000 },
      '/srv/boot/vmlinuz': { type: 'file', mode: 0o600 },
      '/srv/ign/vm.ign': { type: 'file', mode: 0o600 },
    },
    { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } },
  );

async function grant(json: boolean) {
  const ctx = createHostContext(view(), hostOptions({ models: ['dac'] }));
  if (!ctx.ok) throw new Error(ctx.error);
  const c = captureIo(DOMAIN);
  const code = await runGrant([], { apply: false, json }, ctx.value, c.io, { probe: () => ({ kind: 'yes' }) });
  await c.settle();
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

describe('grant: files beyond disks', () => {
  it('plans ACLs for the nvram and the -fw_cfg file, not for the kernel libvirt chowns anyway', async () => {
    const r = await grant(false);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('# <stdin>: domain coreos, os/nvram /home/alice/vm/VARS.fd (read-write): planned');
    expect(r.stdout).toContain('setfacl -n -m u:libvirt-qemu:rw-,m::rw- /home/alice/vm/VARS.fd');
    expect(r.stdout).toContain('# <stdin>: domain coreos, qemu:commandline/arg[2] -fw_cfg /srv/ign/vm.ign (read-only): planned');
    expect(r.stdout).toContain('setfacl -n -m u:libvirt-qemu:r--,m::r-- /srv/ign/vm.ign');
    expect(r.stdout).not.toContain('vmlinuz');
  });

  it('the JSON plan validates', async () => {
    const r = await grant(true);
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(readFileSync('schemas/grant.schema.json', 'utf8')));
    const doc = JSON.parse(r.stdout);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.disks.map((d: { target: string }) => d.target)).toEqual(['os/nvram', 'qemu:commandline/arg[2] -fw_cfg']);
  });

  it('a VNC socket QEMU must create: plans write and search on its directory; an old socket there is refused, not granted', async () => {
    const xml = (dir: string) => `<domain type='kvm'>\n  <name>vnc</name>\n  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n  <devices>\n    <graphics type='vnc'>\n      <listen type='socket' socket='${dir}/vnc.sock'/>\n    </graphics>\n  </devices>\n</domain>\n`;
    const v = memoryView(
      { '/srv/vnc': { type: 'dir', mode: 0o755 }, '/srv/old': { type: 'dir', mode: 0o755 }, '/srv/old/vnc.sock': { type: 'socket', mode: 0o755 } },
      { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } },
    );
    const ctx = createHostContext(v, hostOptions({ models: ['dac'] }));
    if (!ctx.ok) throw new Error(ctx.error);
    const run = async (dir: string) => {
      const c = captureIo(xml(dir));
      await runGrant([], { apply: false, json: true }, ctx.value, c.io, { probe: () => ({ kind: 'yes' }) });
      await c.settle();
      return JSON.parse(c.stdout()) as { disks: { target: string; status: string; files: { path: string; access: string; outcome: string; changes?: string[] }[] }[] };
    };
    const ok = (await run('/srv/vnc')).disks[0]!;
    expect(ok).toMatchObject({ target: 'devices/graphics[1] vnc', status: 'planned' });
    expect(ok.files[0]).toMatchObject({ path: '/srv/vnc/.', access: 'create', outcome: 'grant' });
    const old = (await run('/srv/old')).disks[0]!;
    expect(old.status).toBe('refused');
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(readFileSync('schemas/grant.schema.json', 'utf8')));
    expect(validate(await run('/srv/vnc')), JSON.stringify(validate.errors)).toBe(true);
  });
});
