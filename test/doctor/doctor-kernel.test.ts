/**
 * doctor on real files: trusted.libvirt.security.* set with setfattr on ext4 (/tmp), tmpfs (/dev/shm) and
 * a ramfs (no trusted.* at all) as root, the built CLI (dist/cli/main.js) run on them, its JSON checked
 * against schemas/doctor.schema.json, and --apply's effects read back from the kernel: owners, labels
 * (security.selinux is a plain xattr on this non-SELinux kernel), the records gone or untouched, and
 * libvirt's metadata lock (fcntl, byte 1) waited for.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';

const repo = resolve(import.meta.dirname, '../..');
const cli = join(repo, 'dist/cli/main.js');
const skip = missingRequirements({ root: true, commands: ['setfattr', 'getfattr', 'unshare', 'mount'], files: ['/usr/bin/python3'] });
const QEMU = '64055:64055';

const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
const validate = ajv.compile(JSON.parse(fs.readFileSync(join(repo, 'schemas/doctor.schema.json'), 'utf8')));

const stamp = () => /^btime (\d+)/m.exec(fs.readFileSync('/proc/stat', 'utf8'))![1]!;

function setAttr(file: string, name: string, value: string | Buffer): void {
  const v = typeof value === 'string' ? value : `0x${value.toString('hex')}`;
  const r = spawnSync('setfattr', ['-n', name, '-v', v, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`setfattr ${name} ${file}: ${r.stderr}`);
}
function record(file: string, model: string, label: string | undefined, ref: string | Buffer | undefined, ts: string | undefined): void {
  if (label !== undefined) setAttr(file, `trusted.libvirt.security.${model}`, label);
  if (ref !== undefined) setAttr(file, `trusted.libvirt.security.ref_${model}`, ref);
  if (ts !== undefined) setAttr(file, `trusted.libvirt.security.timestamp_${model}`, ts);
}
function attrs(file: string): Record<string, string> {
  const r = spawnSync('getfattr', ['--absolute-names', '-d', '-m', '^trusted\\.libvirt\\.|^security\\.selinux', '-e', 'text', file], { encoding: 'utf8' });
  const out: Record<string, string> = {};
  for (const l of r.stdout.split('\n')) {
    const m = /^([^#=]+)="(.*)"$/.exec(l);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}
const owner = (f: string) => {
  const st = fs.statSync(f);
  return `${st.uid}:${st.gid}`;
};
function doctor(args: string[]): { code: number; stdout: string; stderr: string } {
  if (!fs.existsSync(cli)) throw new Error(`${cli} does not exist: npm run build first`);
  const r = spawnSync(process.execPath, [cli, 'doctor', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
function doctorJson(args: string[]) {
  const r = doctor([...args, '--json']);
  const report = JSON.parse(r.stdout);
  expect(validate(report), JSON.stringify(validate.errors, null, 2)).toBe(true);
  return { ...r, report };
}
const img = (dir: string, name: string, own: string) => {
  const f = join(dir, name);
  fs.writeFileSync(f, Buffer.alloc(4096));
  const [u, g] = own.split(':').map(Number);
  fs.chownSync(f, u!, g!);
  return f;
};

describe.skipIf(skip !== undefined)('doctor on real extended attributes (root)', { timeout: 120_000 }, () => {
  let dir = '';
  let shm = '';
  let state = '';
  beforeAll(() => {
    dir = fs.mkdtempSync('/tmp/doctor-kernel-');
    shm = fs.mkdtempSync('/dev/shm/doctor-kernel-');
    state = join(dir, 'state');
    fs.mkdirSync(state);
    fs.chownSync(dir, 4242, 4242);
  });
  afterAll(() => {
    for (const d of [dir, shm]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('every verdict on ext4 and tmpfs, decoded from real xattrs, in JSON that matches the schema', () => {
    const now = stamp();
    const files = {
      leak: img(dir, 'leak.raw', QEMU),
      reboot: img(shm, 'reboot.raw', QEMU),
      inUse: img(dir, 'in-use.raw', '4242:4242'),
      malformed: img(dir, 'malformed.raw', QEMU),
      nul: img(shm, 'nul.raw', QEMU),
      fragment: img(dir, 'fragment.raw', QEMU),
      iso: img(dir, 'left.iso', QEMU),
      sel: img(shm, 'sel.raw', '0:0'),
      clean: img(dir, 'clean.raw', '0:0'),
    };
    record(files.leak, 'dac', '+4242:+4242', '1', now);
    record(files.reboot, 'dac', '+4242:+4242', '1', '1700000000');
    record(files.inUse, 'dac', '+1000:+1000', '1', now);
    record(files.malformed, 'dac', '+4242:+4242', '99999999999999999999', now);
    record(files.nul, 'dac', '+4242:+4242', Buffer.from([0x32, 0x00, 0x37]), now);
    record(files.fragment, 'dac', '+4242:+4242', undefined, now);
    record(files.sel, 'selinux', 'system_u:object_r:virt_image_t:s0', '1', now);
    setAttr(files.sel, 'security.selinux', 'system_u:object_r:svirt_image_t:s0:c1,c2');
    const r = doctorJson(['--state-dir', state, ...Object.values(files)]);
    expect(r.code, r.stderr).toBe(1);
    const by = (f: string, model = 'dac') => r.report.findings.find((x: { path: string; model: string | null }) => x.path === f && (x.model ?? 'file') === model);
    expect(by(files.leak)).toMatchObject({ verdict: 'stale', cause: 'over-count', record: { label: '"+4242:+4242"', count: '"1"', countValue: 1, thisBoot: true }, original: { owner: { uid: 4242, gid: 4242 } } });
    expect(by(files.reboot)).toMatchObject({ verdict: 'stale', cause: 'other-boot', libvirtWillSay: `Invalid XATTR timestamp detected on ${files.reboot} secdriver=dac (a warning in the daemon's log)` });
    expect(by(files.inUse)).toMatchObject({ cause: 'over-count', libvirtWillSay: `Requested operation is not valid: Setting different DAC user or group on ${files.inUse} which is already in use` });
    expect(by(files.malformed)).toMatchObject({ cause: 'malformed-count', libvirtWillSay: `internal error: malformed refcount 99999999999999999999 on ${files.malformed}` });
    expect(by(files.nul)).toMatchObject({ cause: 'over-count', record: { count: '"2" (stored bytes 0x320037; libvirt reads up to the NUL)', countValue: 2 } });
    expect(by(files.fragment)).toMatchObject({ cause: 'fragment' });
    expect(by(files.iso)).toMatchObject({ verdict: 'left-chowned', likely: { owner: { uid: 4242, gid: 4242 } }, action: null });
    expect(by(files.sel, 'selinux')).toMatchObject({
      verdict: 'stale',
      cause: 'over-count',
      libvirtWillSay: `Requested operation is not valid: Setting different SELinux label on ${files.sel} which is already in use`,
      action: { kind: 'restore-record', model: 'selinux', restore: { label: 'system_u:object_r:virt_image_t:s0' } },
    });
    expect(r.report.findings.filter((x: { path: string }) => x.path === files.clean)).toEqual([]);
    expect(r.report.counts).toEqual({ consistent: 0, stale: 7, unrecordable: 0, 'left-chowned': 1, unknown: 0 });
    expect(r.report.bootStamp).toMatchObject({ source: 'uptime' });
  });

  it('--apply gives back what libvirt remembered, removes the records, and leaves files a running domain uses alone', () => {
    const now = stamp();
    const leak = img(dir, 'a-leak.raw', QEMU);
    const used = img(dir, 'a-used.raw', QEMU);
    const sel = img(shm, 'a-sel.raw', '0:0');
    const iso = img(dir, 'a-left.iso', QEMU);
    const link = join(dir, 'a-link.raw');
    fs.symlinkSync(leak, link);
    record(leak, 'dac', '+4242:+4242', '1', now);
    record(used, 'dac', '+4242:+4242', '2', now);
    record(sel, 'selinux', 'system_u:object_r:virt_image_t:s0', '1', '1700000000');
    setAttr(sel, 'security.selinux', 'system_u:object_r:svirt_image_t:s0:c1,c2');
    // One running domain (a status file as libvirt writes it) holds `used`.
    const st = join(dir, 'a-state');
    fs.mkdirSync(st);
    fs.writeFileSync(
      join(st, 'vm1.xml'),
      `<domstatus state='running' reason='booted' pid='${process.pid}'>\n  <rememberOwner/>\n  <domain type='qemu' id='1'>\n    <name>vm1</name>\n    <devices>\n      <disk type='file' device='disk'><source file='${used}'/><target dev='vda' bus='virtio'/></disk>\n    </devices>\n    <seclabel type='dynamic' model='dac' relabel='yes'><label>+64055:+64055</label><imagelabel>+64055:+64055</imagelabel></seclabel>\n  </domain>\n</domstatus>\n`,
    );
    const before = attrs(used);
    const r = doctorJson(['--apply', '--state-dir', st, link, used, sel, iso]);
    expect(r.code, r.stderr).toBe(1); // `used` (over-count with a holder) and the ISO remain
    expect(owner(leak)).toBe('4242:4242');
    expect(attrs(leak)).toEqual({});
    expect(attrs(sel)).toEqual({ 'security.selinux': 'system_u:object_r:virt_image_t:s0' });
    // Written as setfilecon_raw writes it: the context and its NUL.
    const raw = spawnSync('getfattr', ['--absolute-names', '-n', 'security.selinux', '-e', 'hex', sel], { encoding: 'utf8' }).stdout;
    expect(raw).toContain(`security.selinux=0x${Buffer.from('system_u:object_r:virt_image_t:s0\0').toString('hex')}`);
    expect(owner(used)).toBe(QEMU);
    expect(attrs(used)).toEqual(before);
    expect(owner(iso)).toBe(QEMU);
    const applied = r.report.applied as { action: { realPath: string }; status: string; changed: string[] }[];
    expect(applied.map((a) => [a.action.realPath, a.status, a.changed])).toEqual([
      [leak, 'applied', ['removed trusted.libvirt.security.ref_dac', 'removed trusted.libvirt.security.dac', 'removed trusted.libvirt.security.timestamp_dac', `owner ${QEMU} → 4242:4242`]],
      [sel, 'applied', ['removed trusted.libvirt.security.ref_selinux', 'removed trusted.libvirt.security.selinux', 'removed trusted.libvirt.security.timestamp_selinux', 'label system_u:object_r:svirt_image_t:s0:c1,c2 → system_u:object_r:virt_image_t:s0']],
    ]);
    const usedFinding = r.report.findings.find((f: { path: string }) => f.path === used);
    expect(usedFinding).toMatchObject({ cause: 'over-count', counted: 1, action: null, noAction: 'running domains use the file: vm1 (vda, top)' });
    // The ISO changes only when a person names the owner.
    const named = doctor(['--apply', '--state-dir', st, '--owner', '1000:1000', iso]);
    expect(named.code, named.stdout + named.stderr).toBe(0);
    expect(named.stdout).toContain(`applied: ${iso}: owner ${QEMU} → 1000:1000`);
    expect(owner(iso)).toBe('1000:1000');
  });

  it('--apply waits for libvirt\'s metadata lock (fcntl write lock on byte 1), as libvirt\'s own retry loop does', async () => {
    const f = img(dir, 'locked.raw', QEMU);
    record(f, 'dac', '+4242:+4242', '1', stamp());
    const holder = spawn('/usr/bin/python3', ['-c', `import fcntl,os,sys,time\nfd=os.open(${JSON.stringify(f)},os.O_RDWR)\nfcntl.lockf(fd,fcntl.LOCK_EX,1,1,0)\nprint('held',flush=True)\ntime.sleep(2)\n`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((ok) => holder.stdout!.once('data', () => ok()));
    const t0 = Date.now();
    const r = await new Promise<{ code: number | null; out: string }>((ok) => {
      const c = spawn(process.execPath, [cli, 'doctor', '--apply', '--state-dir', state, f], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      c.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      c.on('exit', (code) => ok({ code, out }));
    });
    expect(r.code, r.out).toBe(0);
    expect(Date.now() - t0).toBeGreaterThan(1200);
    expect(owner(f)).toBe('4242:4242');
  });

  it('symbolic links: the records live on the target, and the report names both', () => {
    const f = img(dir, 'target.raw', QEMU);
    const l = join(dir, 'via-link.raw');
    fs.symlinkSync(f, l);
    record(f, 'dac', '+4242:+4242', '1', '1700000000');
    const r = doctor(['--state-dir', state, l]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${l}: dac: stale (other-boot)`);
    expect(r.stdout).toContain(`the records live on ${f} (libvirt follows links)`);
  });

  it('--path walks a tree; a filesystem without trusted.* is "cannot be recorded" with the setting and its cost', () => {
    // The mount point lives in the suite's directory (removed afterwards); the mount itself dies with the namespace.
    const script = `set -e; d=$(mktemp -d ${dir}/ramfs-XXXX); mount -t ramfs none "$d"; : > "$d/disk.raw"; ${process.execPath} ${cli} doctor --json --state-dir ${state} --path "$d"; echo "exit=$?"`;
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script.replace('; echo', ' || true; echo')], { encoding: 'utf8' });
    const json = JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf('exit=')));
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    expect(json.findings).toHaveLength(1);
    expect(json.findings[0]).toMatchObject({ verdict: 'unrecordable', cause: 'filesystem', model: null });
    expect(json.findings[0].avoid.setting).toContain("relabel='no'");
  });

  it('user namespaces: doctor refuses to run inside one (trusted.* is hidden there); a daemon inside one is "cannot be recorded" with remember_owner = 0', async () => {
    const f = img(dir, 'ns.raw', '0:0');
    const inNs = spawnSync('unshare', ['--user', '--map-root-user', process.execPath, cli, 'doctor', '--state-dir', state, f], { encoding: 'utf8' });
    expect(inNs.status).toBe(2);
    expect(inNs.stderr).toMatch(/^virt-seclabel: doctor needs root in the initial user namespace to see libvirt's records \(trusted\.\* is hidden otherwise\): process self runs in a user namespace \(uid_map 0 0 1\)/);
    // A "daemon" in a user namespace, found by its pid file beside the state directory.
    const run = join(dir, 'ns-run');
    fs.mkdirSync(join(run, 'qemu'), { recursive: true });
    const fake = spawn('unshare', ['--user', '--map-root-user', 'sleep', '30'], { stdio: 'ignore' });
    try {
      // unshare execs sleep in the same process once the namespace is made.
      for (let i = 0; i < 50 && fs.readFileSync(`/proc/${fake.pid}/uid_map`, 'utf8').trim().split(/\s+/).join(' ') === '0 0 4294967295'; i++) await new Promise((r) => setTimeout(r, 20));
      fs.writeFileSync(join(run, 'libvirtd.pid'), `${fake.pid}\n`);
      const r = doctorJson(['--state-dir', join(run, 'qemu'), f]);
      expect(r.code).toBe(1);
      expect(r.report.findings).toMatchObject([
        {
          verdict: 'unrecordable',
          cause: 'namespace',
          libvirtWillSay: 'Unable to set XATTR trusted.libvirt.security.dac on /var/lib/libvirt/qemu/domain-ID-NAME/master-key.aes: Operation not permitted',
          avoid: { setting: expect.stringMatching(/^qemu\.conf remember_owner = 0; /) },
        },
      ]);
      expect(r.report.findings[0].summary).toContain(`process ${fake.pid} runs in a user namespace`);
    } finally {
      fake.kill();
    }
  });

  it('hostile values in real xattrs: a 60 000-byte label and an escape sequence as the count are reported, cut and escaped, never echoed raw', () => {
    const f = img(shm, 'hostile.raw', QEMU);
    record(f, 'dac', '1'.repeat(60000), Buffer.from('\u001b[2J\u009b1', 'latin1'), stamp());
    const r = doctor(['--state-dir', state, f]);
    expect(r.code).toBe(1);
    expect(r.stdout.includes('\u001b') || r.stdout.includes('\u009b')).toBe(false);
    expect(r.stdout.length).toBeLessThan(5000);
    expect(r.stdout).toContain(`libvirt will say: internal error: malformed refcount \\u001b[2J\\u009b1 on ${f}`);
    expect(r.stdout).toContain('(… 60000 bytes in all)');
    const j = doctorJson(['--state-dir', state, f]);
    expect(j.report.findings[0]).toMatchObject({ verdict: 'stale', cause: 'malformed-count' });
  });

  it('exit 0 when nothing is found; exit 2 for a usage error', () => {
    const f = img(dir, 'nothing.raw', '0:0');
    expect(doctor(['--state-dir', state, f]).code).toBe(0);
    expect(doctor([]).code).toBe(2);
    expect(doctor(['relative.raw']).code).toBe(2);
    expect(doctor(['--owner', 'alice', f]).code).toBe(2);
  });
});
