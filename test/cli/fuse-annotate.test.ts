/**
 * The shipped build on FUSE: annotate writes relabel='no' exactly where the kernel, asked as QEMU's
 * identity, lets QEMU open the file and libvirt does not refuse the start as root first, and leaves every
 * other disk as it was, whatever the mode bits say:
 * a bindfs mirror (default_permissions), and a daemon that decides by uid and primary gid only
 * (test/dac/support/deciding-fuse.py, no default_permissions), where a file whose group bits let
 * libvirt-qemu's supplementary group read it is still refused. Each decision is checked against a real
 * open through setpriv as the same identity.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';
import { runCli } from '../hardening/support/cli.js';

const skip = missingRequirements({
  root: true,
  commands: ['setpriv', 'bindfs', 'fusermount'],
  files: ['/usr/bin/python3', '/dev/fuse', '/usr/lib/python3/dist-packages/fusepy.py'],
});
const DAEMON = new URL('../dac/support/deciding-fuse.py', import.meta.url).pathname;
const QEMU = { uid: 64055, gid: 64055, groups: [107, 64055] };
const HOST = ['--models', 'dac', '--user', 'libvirt-qemu', '--group', 'libvirt-qemu', '--qemu-conf', '/nonexistent/qemu.conf'];

function mounted(mnt: string): boolean {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mnt);
}

/** The kernel's own answer: QEMU's open (O_RDONLY for a read-only disk, O_RDWR otherwise) as its identity. */
function qemuOpens(path: string, readonly: boolean): boolean {
  const r = spawnSync(
    'setpriv',
    [`--reuid=${QEMU.uid}`, `--regid=${QEMU.gid}`, `--groups=${QEMU.groups.join(',')}`, '--inh-caps=-all', '--bounding-set=-all', '--', '/usr/bin/python3', '-I', '-S', '-c', `import os,sys\nos.close(os.open(sys.argv[1], os.O_RDONLY if sys.argv[2] == 'r' else os.O_RDWR))`, path, readonly ? 'r' : 'rw'],
    { encoding: 'utf8' },
  );
  return r.status === 0;
}

const disk = (path: string, dev: string, readonly: boolean) =>
  `    <disk type='file' device='${readonly ? 'cdrom' : 'disk'}'>\n      <driver name='qemu' type='raw'/>\n      <source file='${path}'/>\n      <target dev='${dev}' bus='${readonly ? 'ide' : 'virtio'}'/>\n${readonly ? '      <readonly/>\n' : ''}    </disk>\n`;

describe.skipIf(skip !== undefined)('annotate on FUSE (the shipped build, the kernel asked as libvirt-qemu)', () => {
  const src = fs.mkdtempSync('/tmp/vsl-fuse-src-');
  const bind = fs.mkdtempSync('/tmp/vsl-fuse-bind-');
  const deciding = fs.mkdtempSync('/tmp/vsl-fuse-deciding-');
  const squash = fs.mkdtempSync('/tmp/vsl-fuse-squash-');
  let daemon: ChildProcess | undefined;
  let squashDaemon: ChildProcess | undefined;

  beforeAll(async () => {
    for (const d of [src, bind, deciding, squash]) fs.chmodSync(d, 0o755);
    const files: [string, number, number, number][] = [
      ['world.iso', 0o644, 0, 0],
      ['private.iso', 0o600, 0, 0],
      ['kvm-group.iso', 0o640, 0, 107],
      ['rw.img', 0o666, 0, 0],
    ];
    for (const [name, mode, uid, gid] of files) {
      fs.writeFileSync(`${src}/${name}`, 'x');
      fs.chownSync(`${src}/${name}`, uid, gid);
      fs.chmodSync(`${src}/${name}`, mode);
    }
    // A qcow2 overlay and its backing file only QEMU's user may read: root, squashed, cannot.
    expect(spawnSync('qemu-img', ['create', '-q', '-f', 'raw', `${src}/base.raw`, '1M']).status).toBe(0);
    expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', `${src}/top.qcow2`]).status).toBe(0);
    for (const f of ['base.raw', 'top.qcow2']) {
      fs.chownSync(`${src}/${f}`, 64055, 64055);
      fs.chmodSync(`${src}/${f}`, 0o600);
    }
    expect(spawnSync('bindfs', [src, bind]).status).toBe(0);
    daemon = spawn('/usr/bin/python3', ['-I', DAEMON, src, deciding], { stdio: 'ignore' });
    squashDaemon = spawn('/usr/bin/python3', ['-I', DAEMON, '--squash-root', src, squash], { stdio: 'ignore' });
    for (let t = 0; !mounted(deciding) || !mounted(squash); t++) {
      if (t > 200) throw new Error('the deciding daemons did not mount');
      await new Promise((r) => setTimeout(r, 25));
    }
  }, 30_000);

  afterAll(() => {
    for (const m of [bind, deciding, squash]) spawnSync('fusermount', ['-u', '-z', m]);
    daemon?.kill();
    squashDaemon?.kill();
    for (const d of [src, bind, deciding, squash]) fs.rmSync(d, { recursive: true, force: true });
  });

  it('annotates exactly the disks the kernel lets QEMU open, and says why for each', async () => {
    const dir = fs.mkdtempSync('/tmp/vsl-fuse-xml-');
    try {
      const cases: { path: string; readonly: boolean }[] = [];
      for (const m of [bind, deciding]) for (const f of ['world.iso', 'private.iso', 'kvm-group.iso']) cases.push({ path: `${m}/${f}`, readonly: true });
      cases.push({ path: `${bind}/rw.img`, readonly: false });
      cases.push({ path: `${squash}/top.qcow2`, readonly: true });
      const xml = `<domain type='kvm'>\n  <name>fuse</name>\n  <devices>\n${cases
        .map((c, i) => disk(c.path, `${c.readonly ? 'hd' : 'vd'}${'abcdefghij'[i]}`, c.readonly).replace("type='raw'", `type='${c.path.endsWith('.qcow2') ? 'qcow2' : 'raw'}'`))
        .join('')}  </devices>\n</domain>\n`;
      fs.writeFileSync(`${dir}/vm.xml`, xml);
      const r = await runCli([...HOST, 'annotate', `${dir}/vm.xml`], { timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);
      const out = Buffer.from(r.stdout).toString('utf8');
      const explained = await runCli([...HOST, 'explain', '--json', `${dir}/vm.xml`], { timeoutMs: 120_000 });
      const report = Buffer.from(explained.stdout).toString('utf8');
      const annotated = (path: string) => out.includes(`<source file='${path}'>\n        <seclabel model='dac' relabel='no'/>\n      </source>`);
      const summary: string[] = [];
      for (const c of cases) {
        const kernel = qemuOpens(c.path, c.readonly);
        summary.push(`${c.path}: kernel ${kernel ? 'opens' : 'refuses'}, ${annotated(c.path) ? 'annotated' : 'left as is'}`);
        // A proof is written only where QEMU's own open succeeds; where it succeeds read-only it is written,
        // unless libvirt, as root, refuses the start before QEMU runs (below).
        if (annotated(c.path)) expect(kernel, c.path).toBe(true);
        if (kernel && c.readonly && c.path !== `${squash}/top.qcow2`) expect(annotated(c.path), c.path).toBe(true);
      }
      console.log(summary.join('\n'));
      // Mode bits say libvirt-qemu's group kvm may read; the deciding daemon, which sees no supplementary
      // group, refuses, and so does the kernel's open: no annotation, and the reason says who decides.
      expect(annotated(`${deciding}/kvm-group.iso`)).toBe(false);
      expect(annotated(`${bind}/kvm-group.iso`)).toBe(true);
      expect(report).toContain('the FUSE daemon decides');
      expect(report).toContain('the kernel allowed read for uid 64055 on fuse');
      // Write on FUSE is never proven: the probe does not open for write.
      expect(annotated(`${bind}/rw.img`)).toBe(false);
      expect(report).toContain('write only at an open for write');
      // Root is squashed there: the overlay's header and its backing file were read as libvirt-qemu,
      // whose opens of both the kernel allows. But libvirt opens a qcow2's header as root first and
      // retries as QEMU's user only on a filesystem it counts as shared, which FUSE (bindfs, this
      // daemon) is not: the start fails ("Failed to open file", measured in
      // test/libvirt/fuse-root-refused-libvirtd.test.ts), so nothing is annotated, and the reason says why.
      expect(qemuOpens(`${squash}/base.raw`, true)).toBe(true);
      expect(qemuOpens(`${squash}/top.qcow2`, true)).toBe(true);
      expect(fs.lstatSync(`${squash}/top.qcow2`).isFile()).toBe(true);
      expect(spawnSync('head', ['-c1', `${squash}/top.qcow2`]).status).not.toBe(0);
      expect(annotated(`${squash}/top.qcow2`)).toBe(false);
      expect(report).toContain('its header was read as libvirt-qemu (uid 64055), since root may not read it');
      expect(report).toContain('retries as QEMU\'s user only on a filesystem it counts as shared (virFileOpenAs, virFileIsSharedFS), which fuse is not');

      // grant refuses where an ACL is not what decides, and says who does.
      const grant = await runCli([...HOST, 'grant', `${dir}/vm.xml`], { timeoutMs: 120_000 });
      const plan = Buffer.from(grant.stdout).toString('utf8');
      expect(grant.code).toBe(1);
      expect(plan).toContain(`${bind}/private.iso: it is on fuse (${bind} from ${src}), where the FUSE daemon decides and a local ACL edit proves nothing`);
      expect(plan).not.toMatch(/^setfacl/m);

      // facts records the kernel's answers (no other machine can recompute them) and the headers read as
      // libvirt-qemu; --facts replays them, from the snapshot alone, to the very same output.
      const snap = await runCli([...HOST, 'facts', '-o', `${dir}/facts.json`, `${dir}/vm.xml`], { timeoutMs: 120_000 });
      expect(snap.code, Buffer.from(snap.stderr).toString()).toBe(0);
      const facts = JSON.parse(fs.readFileSync(`${dir}/facts.json`, 'utf8')) as { view: { op: string; answer: { kind: string; value?: { kind: string } } }[] };
      const asked = facts.view.filter((c) => c.op === 'kernelAccess');
      expect(asked.some((c) => c.answer.value?.kind === 'allowed')).toBe(true);
      expect(asked.some((c) => c.answer.value?.kind === 'denied')).toBe(true);
      expect(facts.view.some((c) => c.op === 'readBytesAs' && c.answer.kind === 'ok')).toBe(true);
      const schema = JSON.parse(fs.readFileSync(new URL('../../schemas/facts.schema.json', import.meta.url), 'utf8')) as object;
      const validate = new Ajv2020.default({ strict: true, allErrors: true, validateFormats: false }).compile(schema);
      expect(validate(facts), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
      const offline = await runCli(['annotate', '--facts', `${dir}/facts.json`, `${dir}/vm.xml`], { timeoutMs: 120_000 });
      expect(offline.code, Buffer.from(offline.stderr).toString()).toBe(0);
      expect(Buffer.from(offline.stdout).toString('utf8')).toBe(out);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('qemu:///session, run as the QEMU user itself: asked in-process (no setpriv, which it could not run), same decisions', async () => {
    const dir = fs.mkdtempSync('/tmp/vsl-fuse-session-');
    fs.chmodSync(dir, 0o755);
    try {
      const xml = `<domain type='kvm'>\n  <name>s</name>\n  <devices>\n${disk(`${bind}/world.iso`, 'hda', true)}${disk(`${bind}/private.iso`, 'hdb', true)}  </devices>\n</domain>\n`;
      fs.writeFileSync(`${dir}/vm.xml`, xml, { mode: 0o644 });
      fs.writeFileSync(`${dir}/qemu.conf`, 'dynamic_ownership = 1\n', { mode: 0o644 });
      const r = spawnSync(
        'setpriv',
        ['--reuid=64055', '--regid=107', '--groups=107,64055', '--inh-caps=-all', '--bounding-set=-all', '--', process.execPath, new URL('../../dist/cli/main.js', import.meta.url).pathname,
          '--connect', 'qemu:///session', '--qemu-conf', `${dir}/qemu.conf`, '--models', 'dac', 'annotate', `${dir}/vm.xml`],
        { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir } },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`<source file='${bind}/world.iso'>\n        <seclabel model='dac' relabel='no'/>`);
      expect(r.stdout).toContain(`<source file='${bind}/private.iso'/>`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
