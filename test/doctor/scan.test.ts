/**
 * The doctor's flow over fakes (no root, no libvirt): which files each target names (a definition's disks
 * and its backing chain, --all-domains, direct files), who holds them (status files), the exit codes, the
 * JSON against the schema, and refusals (not root, unknown domain).
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { runDoctor, type DoctorRequest } from '../../src/commands/doctor.js';
import type { DoctorReader, StatFollowed } from '../../src/doctor/ports.js';
import type { RawAttr, RawRecord, RecordRead } from '../../src/doctor/records.js';
import type { DomainRead, LibvirtClient } from '../../src/libvirt/client.js';
import { missing, ok } from '../../src/host/view.js';
import { failure, success } from '../../src/result.js';
import { memoryView } from '../support/memory-view.js';
import { GROUP, PASSWD, captureIo, hostOptions } from '../cli/harness.js';

const validate = new Ajv2020({ strict: true, strictRequired: false, allErrors: true }).compile(JSON.parse(readFileSync('schemas/doctor.schema.json', 'utf8')));
const NOW_MS = 1_796_480_000_999;
const UPTIME = '3833.40 1\n'; // stamp 1796476167
const v = (s: string): RawAttr => ({ kind: 'value', bytes: new Uint8Array(Buffer.from(s)) });
const A: RawAttr = { kind: 'absent' };
const none: RawRecord = { label: A, ref: A, stamp: A };
const leak: RawRecord = { label: v('+4242:+4242'), ref: v('1'), stamp: v('1796476167') };

interface FakeFile {
  st: StatFollowed;
  dac?: RawRecord;
  link?: string;
}

function reader(files: Record<string, FakeFile>, status: Record<string, string> = {}, self = true): DoctorReader {
  return {
    realPath: (p) => (files[p]?.link ? ok(files[p]!.link!) : files[p] ? ok(p) : missing()),
    stat: (p) => (files[p] ? ok(files[p]!.st) : missing()),
    records: (p): RecordRead => ({ kind: 'read', raw: { dac: files[p]?.dac ?? none, selinux: none } }),
    selinuxLabel: () => ok(null),
    listDir: (d) => ok(Object.keys(files).filter((p) => p.startsWith(`${d}/`) && !p.slice(d.length + 1).includes('/')).map((p) => p.slice(d.length + 1))),
    statusFiles: () => ok(Object.entries(status).map(([file, text]) => ({ file, bytes: new TextEncoder().encode(text) }))),
    qemuAlive: () => true,
    bootStampInputs: () => ({ utmp: undefined, nowMs: NOW_MS, uptime: UPTIME }),
    selfXattrs: () => (self ? { ok: true } : { ok: false, why: 'process self has no CAP_SYS_ADMIN' }),
    daemonXattrs: () => undefined,
  };
}
const file = (uid: number, dac?: RawRecord): FakeFile => ({ st: { type: 'file', uid, gid: uid, dev: 1, ino: uid + 7 }, ...(dac ? { dac } : {}) });
const dir = (uid = 0): FakeFile => ({ st: { type: 'dir', uid, gid: uid, dev: 1, ino: 1 } });

const def = (name: string, disks: string) => `<domain type='qemu'><name>${name}</name><devices>${disks}</devices></domain>`;
const diskXml = (p: string, extra = '', backing = '') => `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${p}'/>${backing}<target dev='vda' bus='virtio'/>${extra}</disk>`;

function client(defs: Record<string, string>): LibvirtClient {
  return {
    readDefinitions: (names) =>
      success(
        (names ?? Object.keys(defs)).map((name): DomainRead =>
          defs[name] ? { name, kind: 'persistent', ref: name, running: false, xml: new TextEncoder().encode(defs[name]!) } : { name, kind: 'failed', why: `failed to get domain '${name}'` },
        ),
      ),
    dumpInactive: (n) => (defs[n] ? success(new TextEncoder().encode(defs[n]!)) : failure(`failed to get domain '${n}'`)),
    define: () => failure('not here'),
  };
}

const view = memoryView({}, { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } });
async function doctor(req: Partial<DoctorRequest>, r: DoctorReader, c: LibvirtClient = client({})) {
  const io = captureIo();
  const code = await runDoctor({ targets: [], stateDir: '/run/libvirt/qemu', host: hostOptions(), options: {}, apply: false, json: false, ...req }, { view, reader: r, client: () => c }, io.io);
  await io.settle();
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('doctor over fakes', () => {
  const files = {
    '/i': dir(),
    '/i/top.raw': file(64055, leak),
    '/i/base.raw': file(0),
    '/i/ro.iso': file(64055),
    '/i/ok.raw': file(0),
  };
  const defs = {
    vm1: def('vm1', diskXml('/i/top.raw', '', "<backingStore type='file'><format type='raw'/><source file='/i/base.raw'/><backingStore/></backingStore>") + diskXml('/i/ro.iso', '<readonly/>').replace("dev='vda'", "dev='hdc'")),
    vm2: def('vm2', diskXml('/i/ok.raw') + diskXml('/i/gone.raw').replace("dev='vda'", "dev='vdb'")),
  };

  it('--domain: the disks and chain of the definition; the stale top and the ISO left chowned are found (exit 1), the JSON matches the schema', async () => {
    const r = await doctor({ targets: [{ kind: 'domain', name: 'vm1' }], json: true }, reader(files), client(defs));
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(validate(j), JSON.stringify(validate.errors)).toBe(true);
    expect(j.files).toBe(3);
    expect(j.findings.map((f: { path: string; verdict: string; cause: string }) => [f.path, f.verdict, f.cause])).toEqual([
      ['/i/top.raw', 'stale', 'over-count'],
      ['/i/ro.iso', 'left-chowned', 'nothing-remembered'],
    ]);
    expect(j.bootStamp).toEqual({ value: '1796476167', source: 'uptime' });
  });

  it('--all-domains: every definition; a file a definition names that does not exist is a note, not an error', async () => {
    const r = await doctor({ targets: [{ kind: 'all-domains' }] }, reader(files), client(defs));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('note: /i/gone.raw: does not exist');
    expect(r.stdout).toContain('4 files checked: 0 consistent, 1 stale, 0 cannot be recorded, 1 left chowned, 0 cannot tell');
  });

  it('a running domain\'s status file makes the same record consistent (exit 0)', async () => {
    const status = `<domstatus state='running' pid='99'><rememberOwner/><domain type='qemu' id='1'><name>vm1</name><devices>${diskXml('/i/top.raw')}</devices></domain></domstatus>`;
    const r = await doctor({ targets: [{ kind: 'file', path: '/i/top.raw' }] }, reader(files, { '/run/libvirt/qemu/vm1.xml': status }));
    expect(r.stdout).toContain('running domains (status files in /run/libvirt/qemu): vm1 (pid 99)');
    expect(r.stdout).toContain('1 file checked: 1 consistent');
    expect(r.code).toBe(0);
  });

  it('a link named on the command line is checked on its target, once', async () => {
    const r = await doctor({ targets: [{ kind: 'file', path: '/l/top.raw' }, { kind: 'file', path: '/i/top.raw' }], json: true }, reader({ ...files, '/l/top.raw': { ...files['/i/top.raw'], link: '/i/top.raw' } }));
    const j = JSON.parse(r.stdout);
    expect(j.files).toBe(1);
    expect(j.findings[0]).toMatchObject({ path: '/l/top.raw', realPath: '/i/top.raw' });
  });

  it('an unknown domain is an error (exit 2), the others are still reported', async () => {
    const r = await doctor({ targets: [{ kind: 'domain', name: 'nope' }, { kind: 'domain', name: 'vm1' }] }, reader(files), client(defs));
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("error: domain nope: failed to get domain 'nope'");
    expect(r.stdout).toContain('/i/top.raw: dac: stale (over-count)');
  });

  it('reads the named domains in one batch; a transient domain is a note, no client at all an error', async () => {
    const asked: (readonly string[] | undefined)[] = [];
    const c = client(defs);
    const counting: LibvirtClient = {
      ...c,
      readDefinitions: (names) => {
        asked.push(names);
        return names === undefined ? success([{ name: 'tr', kind: 'transient' } as DomainRead]) : c.readDefinitions(names);
      },
    };
    const r = await doctor({ targets: [{ kind: 'domain', name: 'vm1' }, { kind: 'file', path: '/i/ok.raw' }, { kind: 'domain', name: 'vm2' }, { kind: 'all-domains' }] }, reader(files), counting);
    expect(asked).toEqual([['vm1', 'vm2'], undefined]);
    expect(r.stdout).toContain('note: domain tr: transient (no persistent definition to read); name its files to check them');
    const down: LibvirtClient = { ...c, readDefinitions: () => failure('virsh: failed to connect to the hypervisor') };
    const d = await doctor({ targets: [{ kind: 'all-domains' }] }, reader(files), down);
    expect(d.code).toBe(2);
    expect(d.stdout).toContain('error: virsh: failed to connect to the hypervisor');
  });

  it('refuses to run where trusted.* is hidden: nothing found would prove nothing', async () => {
    const r = await doctor({ targets: [{ kind: 'file', path: '/i/top.raw' }] }, reader(files, {}, false));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('virt-seclabel: doctor needs root in the initial user namespace to see libvirt\'s records (trusted.* is hidden otherwise): process self has no CAP_SYS_ADMIN\n');
    expect(r.stdout).toBe('');
  });

  it('a definition\'s static DAC label is an owner libvirt sets: a record on a file it owns is given back', async () => {
    const staticDef = { vm3: def('vm3', diskXml('/i/st.raw')).replace('</devices>', "</devices><seclabel type='static' model='dac' relabel='yes'><label>+64055:+4343</label></seclabel>") };
    const fs2 = { ...files, '/i/st.raw': { st: { type: 'file' as const, uid: 64055, gid: 4343, dev: 1, ino: 50 }, dac: leak } };
    const r = await doctor({ targets: [{ kind: 'domain', name: 'vm3' }], json: true }, reader(fs2), client(staticDef));
    expect(JSON.parse(r.stdout).findings[0].action).toMatchObject({ restore: { owner: { uid: 4242, gid: 4242 } }, from: { owner: { uid: 64055, gid: 4343 } } });
    const direct = await doctor({ targets: [{ kind: 'file', path: '/i/st.raw' }], json: true }, reader(fs2));
    expect(JSON.parse(direct.stdout).findings[0].action.restore).toBeUndefined();
  });

  it('--path walks the tree (files only)', async () => {
    const r = await doctor({ targets: [{ kind: 'path', path: '/i' }], json: true }, reader(files));
    expect(JSON.parse(r.stdout).files).toBe(4);
  });
});
