/**
 * FUSE mounts where root is refused and QEMU's identity is not, on a private real libvirtd 9.0 (TCG, DAC):
 * - a FUSE mount without allow_other owned by libvirt-qemu (bindfs, its daemon with real uid/gid
 *   64055:64055, so the kernel lets only that identity in: root cannot even look up the mount point);
 * - a daemon that treats uid 0 as nobody (test/dac/support/deciding-fuse.py --squash-root, as NFS
 *   root_squash does), with a root:libvirt-qemu 0750 directory root may not search and a 0600 file root
 *   may look up but not read.
 * The tool walks as QEMU's identity where root is refused (src/host/walk-as.ts) and says what libvirt
 * does there as root (src/dac/libvirt-as-root.ts). Each disk is decided by `explain --json`, then started
 * from the original XML and from the XML with `<seclabel model='dac' relabel='no'/>` (what the tool would
 * write): the decision must equal both outcomes, and an open as QEMU's identity (setpriv) must succeed
 * where the tool says QEMU could. A world-readable file on the same daemon is the control: proven,
 * annotated, and the annotated domain starts. `facts` records the lookups asked as QEMU and --facts
 * replays them to the same decisions. Costs one private libvirtd and one domain start per disk and XML.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';
import { domainXml, Ledger, run, tearDownPrivateDaemon, type Connection } from './libvirt-harness.js';

const repo = resolve(import.meta.dirname, '../..');
const cli = process.env.VIRT_SECLABEL_CLI ?? join(repo, 'dist/cli/main.js');
const DAEMON = join(repo, 'test/dac/support/deciding-fuse.py');
const QEMU = { uid: 64055, gid: 64055, groups: [107, 64055] };
const skip = missingRequirements({
  root: true,
  commands: ['libvirtd', 'virtlogd', 'virsh', 'qemu-system-x86_64', 'qemu-img', 'setpriv', 'bindfs', 'fusermount'],
  files: ['/usr/bin/python3', '/dev/fuse', '/usr/lib/python3/dist-packages/fusepy.py'],
});

interface Row {
  models: { dac: { action: string; accessible: boolean | null; reason: string } };
}

function mounted(mnt: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mnt);
}

/** QEMU's own open of the image as its identity: qemu-img reads the whole chain as QEMU does. */
function qemuOpens(path: string, format: string): { ok: boolean; stderr: string } {
  const r = spawnSync(
    'setpriv',
    [`--reuid=${QEMU.uid}`, `--regid=${QEMU.gid}`, `--groups=${QEMU.groups.join(',')}`, '--inh-caps=-all', '--bounding-set=-all', '--', 'qemu-img', 'info', '-f', format, '--backing-chain', path],
    { encoding: 'utf8' },
  );
  return { ok: r.status === 0, stderr: r.stderr.trim() };
}

describe.skipIf(skip !== undefined)('FUSE where root is refused: the decision against a private real libvirtd', { sequential: true, timeout: 900_000 }, () => {
  const ledger = new Ledger();
  let state = '';
  let root = '';
  let src = '';
  let squash = '';
  let owned = '';
  let daemon: ChildProcess | undefined;
  let conn: Connection;
  let counter = 0;

  beforeAll(async () => {
    mkdirSync(join(repo, '.tmp'), { recursive: true });
    if (!existsSync(cli)) throw new Error(`${cli} does not exist: build the CLI first (npm run build)`);
    root = mkdtempSync('/tmp/vsl-rootref-');
    chmodSync(root, 0o755);
    src = join(root, 'src');
    squash = join(root, 'squash');
    owned = join(root, 'owned');
    for (const d of [src, squash, owned]) mkdirSync(d, { mode: 0o755 });
    chmodSync(src, 0o755);
    const grp = join(src, 'grp');
    mkdirSync(grp);
    const img = (args: string[]) => expect(spawnSync('qemu-img', ['create', '-q', ...args]).status).toBe(0);
    img(['-f', 'raw', join(grp, 'disk.raw'), '1M']);
    img(['-f', 'raw', join(grp, 'base.raw'), '1M']);
    img(['-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', join(grp, 'top.qcow2')]);
    // Root may look these up on the squashing daemon (its directory is world-searchable) but not read them.
    img(['-f', 'raw', join(src, 'private-base.raw'), '1M']);
    img(['-f', 'qcow2', '-b', 'private-base.raw', '-F', 'raw', join(src, 'private.qcow2')]);
    img(['-f', 'raw', join(src, 'world.raw'), '1M']);
    for (const f of ['grp/disk.raw', 'grp/base.raw', 'grp/top.qcow2']) {
      chownSync(join(src, f), QEMU.uid, QEMU.gid);
      chmodSync(join(src, f), 0o640);
    }
    for (const f of ['private-base.raw', 'private.qcow2']) {
      chownSync(join(src, f), QEMU.uid, QEMU.gid);
      chmodSync(join(src, f), 0o600);
    }
    chmodSync(join(src, 'world.raw'), 0o644);
    // The daemon sees only the caller's primary gid: a directory of group libvirt-qemu, root's squashed self shut out.
    chownSync(grp, 0, QEMU.gid);
    chmodSync(grp, 0o750);
    // bindfs for libvirt-qemu: a real uid/gid of 64055 (libfuse sets the mount's user_id/group_id from
    // them), effective root only to open /dev/fuse (0600 here) and mount.
    const b = spawnSync('setpriv', [`--ruid=${QEMU.uid}`, `--rgid=${QEMU.gid}`, '--keep-groups', '--', 'bindfs', '--no-allow-other', src, owned], { encoding: 'utf8' });
    expect(b.status, b.stderr).toBe(0);
    daemon = spawn('/usr/bin/python3', ['-I', DAEMON, '--squash-root', src, squash], { stdio: 'ignore' });
    for (let t = 0; !mounted(squash) || !mounted(owned); t++) {
      if (t > 400) throw new Error('the FUSE mounts did not come up');
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toMatch(new RegExp(`${owned} .*user_id=${QEMU.uid},group_id=${QEMU.gid}`));
    // The private daemon is started after the mounts: its own mount namespace copies them.
    state = mkdtempSync(join(repo, '.tmp/rootref-libvirtd-'));
    execFileSync('bash', [join(repo, 'scripts/libvirtd-private-start.sh'), state], { stdio: 'inherit' });
    const uri = `qemu:///system?socket=${state}/run/libvirt-sock`;
    conn = { uri, virsh: (...args) => run('virsh', ['-c', uri, ...args]), pidFile: (n) => join(state, 'run', 'qemu', `${n}.pid`) };
  }, 600_000);

  afterAll(() => {
    const problems = conn ? ledger.cleanUp() : [];
    tearDownPrivateDaemon(ledger, false, state, '');
    for (const m of [owned, squash]) if (m) spawnSync('fusermount', ['-u', '-z', m]);
    daemon?.kill();
    if (root) rmSync(root, { recursive: true, force: true });
    expect(problems).toEqual([]);
  });

  // One read-only virtio disk (dacNoRelabel: the relabel='no' variant), as the other real-libvirtd suites build it.
  const domain = (n: string, file: string, format: 'raw' | 'qcow2', dacNoRelabel: boolean) =>
    domainXml(n, [{ device: 'disk', file, format, target: 'vda', readonly: true, dacNoRelabel }]);
  const start = (n: string, xml: string) => {
    ledger.define(conn, root, n, xml);
    const r = conn.virsh('start', n);
    const started = r.code === 0 && conn.virsh('domstate', n).stdout.trim() === 'running';
    conn.virsh('destroy', n);
    return { started, error: r.stderr.trim() };
  };

  it('each decision equals what libvirt and QEMU do, from the original and the annotated XML', () => {
    const cases = [
      { what: 'owned mount, raw in grp/', file: join(owned, 'grp/disk.raw'), format: 'raw', expect: 'virFileExists' },
      { what: 'owned mount, qcow2 in grp/', file: join(owned, 'grp/top.qcow2'), format: 'qcow2', expect: 'virFileOpenAs' },
      { what: 'squashing daemon, raw in grp/', file: join(squash, 'grp/disk.raw'), format: 'raw', expect: 'virFileExists' },
      { what: 'squashing daemon, qcow2 in grp/', file: join(squash, 'grp/top.qcow2'), format: 'qcow2', expect: 'virFileOpenAs' },
      { what: 'squashing daemon, qcow2 root may look up, not read', file: join(squash, 'private.qcow2'), format: 'qcow2', expect: 'virFileOpenAs' },
      { what: 'squashing daemon, world-readable raw (control)', file: join(squash, 'world.raw'), format: 'raw', expect: 'proven' },
    ] as const;
    const lines: string[] = [];
    let proven = 0;
    let refused = 0;
    for (const c of cases) {
      const n = `rootref-${process.pid}-${++counter}`;
      const xmlFile = join(root, `${n}.xml`);
      const xml = domain(n, c.file, c.format, false);
      writeFileSync(xmlFile, xml);
      const explained = run(process.execPath, [cli, 'explain', '--json', xmlFile]);
      expect(explained.code, explained.stderr).toBe(0);
      const dac = (JSON.parse(explained.stdout) as { files: { disks: Row[] }[] }).files[0]!.disks[0]!.models.dac;
      const annotated = run(process.execPath, [cli, 'annotate', xmlFile]);
      expect(annotated.code, annotated.stderr).toBe(0);
      const wrote = annotated.stdout.includes("<seclabel model='dac' relabel='no'/>");
      const qemu = qemuOpens(c.file, c.format);
      const original = start(`${n}-o`, domain(`${n}-o`, c.file, c.format, false));
      const withNo = start(`${n}-a`, domain(`${n}-a`, c.file, c.format, true));
      lines.push(`${c.what}: dac ${dac.accessible} (${dac.action}); QEMU's identity ${qemu.ok ? 'opens' : 'is refused'}; libvirt from the original ${original.started ? 'starts' : `refuses: ${original.error}`}; with relabel='no' ${withNo.started ? 'starts' : `refuses: ${withNo.error}`}`);
      if (c.expect === 'proven') {
        expect(dac.accessible, dac.reason).toBe(true);
        expect(wrote).toBe(true);
        expect(withNo.started, withNo.error).toBe(true);
        proven++;
        continue;
      }
      // QEMU's identity may open it: the walk went on as QEMU, and says so; libvirt refuses as root.
      expect(qemu.ok, `${c.what}: ${qemu.stderr}`).toBe(true);
      expect(dac.accessible, dac.reason).toBe(false);
      expect(wrote, c.what).toBe(false);
      expect(dac.reason).toContain(c.expect);
      if (c.file.includes('/grp/')) expect(dac.reason).toMatch(/looked up as libvirt-qemu: root may not (search|look up) /);
      expect(original.started, c.what).toBe(false);
      expect(original.error).toMatch(c.format === 'raw' ? /Cannot access storage file '.*': Permission denied/ : /Failed to open file '.*': Permission denied/);
      expect(withNo.started, c.what).toBe(false);
      expect(withNo.error).toMatch(c.format === 'raw' ? /Cannot access storage file '.*': Permission denied/ : /Failed to open file '.*': Permission denied/);
      refused++;
    }
    console.log(`fuse root refused (private libvirtd): ${proven} proven and started, ${refused} refused by libvirt as the tool said\n  ${lines.join('\n  ')}`);
  });

  it('facts records the lookups asked as QEMU, and --facts replays the same decisions', () => {
    const dir = mkdtempSync(join(root, 'facts-'));
    const xmlFile = join(dir, 'vm.xml');
    writeFileSync(xmlFile, domain('rootref-facts', join(squash, 'grp/top.qcow2'), 'qcow2', false));
    const live = run(process.execPath, [cli, 'explain', xmlFile]);
    const snap = run(process.execPath, [cli, 'facts', '-o', join(dir, 'facts.json'), xmlFile]);
    expect(snap.code, snap.stderr).toBe(0);
    const facts = JSON.parse(readFileSync(join(dir, 'facts.json'), 'utf8')) as { view: { op: string; answer: { kind: string } }[] };
    expect(facts.view.some((c) => c.op === 'lstatAs' && c.answer.kind === 'ok')).toBe(true);
    const offline = run(process.execPath, [cli, 'explain', '--facts', join(dir, 'facts.json'), xmlFile]);
    expect(offline.code, offline.stderr).toBe(live.code);
    expect(offline.stdout).toBe(live.stdout);
    expect(live.stdout).toContain('root may not search');
  });
});
