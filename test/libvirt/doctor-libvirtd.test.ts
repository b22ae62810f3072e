/**
 * issue 25, item 4 (DAC) on a private real libvirtd 9.0 (scripts/libvirtd-private-start.sh) with QEMU
 * under TCG, started paused. The records go stale the way they do in the field: a domain starts on a
 * writable disk owned by someone else, QEMU and the daemon are killed with SIGKILL, the daemon's status
 * file is removed so it cannot clean up, and the daemon starts again. Then:
 * - the disk is still owned by the qemu user with `+4242:+4242`, ref 1: doctor names the file and the
 *   cause before any start touches it;
 * - a second domain with another DAC identity fails with libvirt's "already in use"; with nothing for the
 *   hook to check the script does not start Node and says nothing, and with a disk annotated
 *   relabel='no' the hook has already said which record is stale and how to fix it;
 * - doctor --apply gives the owner back; the next start and stop then give the owner back as libvirt
 *   normally does;
 * - a copy made with `cp -a` of a running domain's disk carries a record nobody holds;
 * - a read-only ISO stays chowned after a stop, with nothing remembered: reported as left chowned, changed
 *   only with --owner.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';
import { Ledger, domainXml, owner, run, type Connection, tearDownPrivateDaemon } from './libvirt-harness.js';

const repo = resolve(import.meta.dirname, '../..');
const cli = process.env.VIRT_SECLABEL_CLI ?? join(repo, 'dist/cli/main.js');
const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const skip = missingRequirements({ root: true, commands: ['libvirtd', 'virtlogd', 'virsh', 'qemu-system-x86_64', 'unshare', 'nsenter', 'getfattr', 'setfattr'], files: ['/usr/bin/python3', OVMF_CODE, '/usr/share/OVMF/OVMF_VARS_4M.fd'] });
const QEMU = '64055:64055';
const validate = new Ajv2020({ strict: true, strictRequired: false, allErrors: true }).compile(JSON.parse(readFileSync(join(repo, 'schemas/doctor.schema.json'), 'utf8')));

function records(file: string): Record<string, string> {
  const r = spawnSync('getfattr', ['--absolute-names', '-d', '-m', '^trusted\\.libvirt\\.', file], { encoding: 'utf8' });
  const out: Record<string, string> = {};
  for (const l of r.stdout.split('\n')) {
    const m = /^trusted\.libvirt\.security\.([^=]+)="(.*)"$/.exec(l);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

describe.skipIf(skip !== undefined)('doctor on a private real libvirtd (TCG, DAC)', { sequential: true, timeout: 900_000 }, () => {
  const ledger = new Ledger();
  let state = '';
  let root = '';
  let daemon: Connection;
  let counter = 0;
  const name = (what: string) => `i25-doctor-${process.pid}-${++counter}-${what}`;
  const statusDir = () => join(state, 'run', 'qemu');
  const hookLog = () => join(state, 'hook-stderr.log');

  const doctor = (...args: string[]) => {
    if (!existsSync(cli)) throw new Error(`${cli} does not exist: npm run build first`);
    return run(process.execPath, [cli, 'doctor', '--state-dir', statusDir(), '--connect', daemon.uri, ...args]);
  };
  const doctorJson = (...args: string[]) => {
    const r = doctor('--json', ...args);
    const report = JSON.parse(r.stdout);
    expect(validate(report), JSON.stringify(validate.errors, null, 2)).toBe(true);
    return { code: r.code, report, stderr: r.stderr };
  };
  /** doctor in the daemon's mount namespace: libvirt's own paths (/var/lib/libvirt/qemu/nvram, /run/libvirt/qemu) are its private ones there. */
  const doctorInDaemonNs = (...args: string[]) => {
    if (!existsSync(cli)) throw new Error(`${cli} does not exist: npm run build first`);
    return run('nsenter', ['-t', pidOf(join(state, 'libvirtd.pid')), '-m', `--wd=${repo}`, process.execPath, cli, 'doctor', '--connect', daemon.uri, ...args]);
  };
  const disk = (dir: string, file: string, own: string) => {
    const f = join(dir, file);
    writeFileSync(f, Buffer.alloc(1024 * 1024));
    chmodSync(f, 0o644);
    const [u, g] = own.split(':').map(Number);
    chownSync(f, u!, g!);
    return f;
  };
  const start = (n: string) => {
    const r = daemon.virsh('start', '--paused', n);
    return { code: r.code, stderr: r.stderr.trim(), state: daemon.virsh('domstate', n).stdout.trim() };
  };
  const pidOf = (file: string) => readFileSync(file, 'utf8').trim();
  /** `conf`: a qemu.conf the daemon reads instead of the host's (its namespace only). */
  const startDaemon = (conf = '') => execFileSync('bash', [join(repo, 'scripts/libvirtd-private-start.sh'), state], { stdio: 'inherit', env: { ...process.env, LIBVIRTD_PRIVATE_QEMU_CONF: conf } });
  /** QEMU and libvirtd die without any stop; the status file goes, so the new daemon cannot clean up. */
  const crash = (n: string, conf = '') => {
    const qemu = pidOf(join(statusDir(), `${n}.pid`));
    const lvd = pidOf(join(state, 'libvirtd.pid'));
    execFileSync('kill', ['-KILL', qemu, lvd]);
    for (let i = 0; i < 100 && (existsSync(`/proc/${qemu}`) || existsSync(`/proc/${lvd}`)); i++) execFileSync('sleep', ['0.1']);
    rmSync(join(statusDir(), `${n}.xml`), { force: true });
    rmSync(join(statusDir(), `${n}.pid`), { force: true });
    // The run's private directory (domain-ID-NAME: master-key.aes, with its own same-boot record) is not
    // what these tests are about, and a restarted daemon numbers domains from 1 again: whether a later start
    // lands in the same directory, and fails there with "already in use" on master-key.aes, depended on how
    // many probe starts came before it. Removed, as libvirt's own stop would.
    // libvirt names it by the short name: the id and the first 20 characters of the domain's name.
    for (const e of readdirSync(join(state, 'lib-qemu'))) if (e.startsWith('domain-') && e.endsWith(`-${n.slice(0, 20)}`)) rmSync(join(state, 'lib-qemu', e), { recursive: true, force: true });
    execFileSync('bash', [join(repo, 'scripts/libvirtd-private-stop.sh'), state]); // virtlogd
    startDaemon(conf);
  };

  /**
   * The crash's record, made one of the running daemon's boot. Without utmp, libvirt's boot stamp is
   * floor(now) - /proc/uptime, computed again by the restarted daemon, and it drifts against the wall clock:
   * a second off, libvirt takes the record for another boot's and wipes it instead of refusing. On a host
   * with a utmp BOOT_TIME record the stamp never moves, so the record a crash leaves is always this boot's:
   * that state is set here by writing the daemon's own stamp (a probe domain shows it) into the record,
   * instead of restarting until the clocks happen to agree (which stopped working once the drift passed a second).
   */
  const recordOfThisBoot = (f: string): Record<string, string> => {
    const stamp = daemonStamp(probeDir);
    if (stamp === undefined) throw new Error('the probe domain left no timestamp_dac record');
    if (records(f).timestamp_dac !== stamp) execFileSync('setfattr', ['-n', 'trusted.libvirt.security.timestamp_dac', '-v', stamp, f]);
    return records(f);
  };
  let probeDir = '';
  /** The stamp the running daemon writes: start a probe domain on a scratch disk, read it, stop it. */
  const daemonStamp = (dir: string) => {
    const n = 'i25-doctor-probe';
    const f = disk(dir, 'probe.raw', '4242:4242');
    if (daemon.virsh('domstate', n).code !== 0) ledger.define(daemon, root, n, domainXml(n, [{ device: 'disk', file: f, format: 'raw', target: 'vda' }]));
    const s = daemon.virsh('start', '--paused', n);
    if (s.code !== 0) throw new Error(`probe start: ${s.stderr}`);
    const stamp = records(f).timestamp_dac;
    daemon.virsh('destroy', n);
    return stamp;
  };

  beforeAll(() => {
    mkdirSync(join(repo, '.tmp'), { recursive: true });
    state = mkdtempSync(join(repo, '.tmp/i25-doctor-libvirtd-'));
    startDaemon();
    const uri = `qemu:///system?socket=${state}/run/libvirt-sock`;
    daemon = { uri, virsh: (...args) => run('virsh', ['-c', uri, ...args]), pidFile: (n) => join(state, 'run', 'qemu', `${n}.pid`) };
    root = mkdtempSync('/tmp/i25-doctor-');
    chmodSync(root, 0o755);
    chownSync(root, 4242, 4242);
    probeDir = join(root, 'probe');
    mkdirSync(probeDir);
    // The hook, its stderr kept: libvirt shows a hook's output only when the hook fails the start.
    const bin = join(state, 'virt-seclabel');
    writeFileSync(bin, `#!/bin/sh\nexec ${process.execPath} ${cli} "$@" 2>>${hookLog()}\n`);
    chmodSync(bin, 0o755);
    const inst = run(process.execPath, [cli, 'hook', 'install', '--hooks-dir', join(state, 'hooks'), '--binary', bin, '--hook-config', join(state, 'etc', 'hook.conf')]);
    expect(inst.code, inst.stderr).toBe(0);
    execFileSync('kill', ['-HUP', pidOf(join(state, 'libvirtd.pid'))]);
    execFileSync('sleep', ['1']);
  });

  /** UEFI domains: libvirt refuses a plain undefine (the ledger's), so they go with their vars (libvirt's own, in the private state). */
  const uefiDomains: string[] = [];
  afterAll(() => {
    if (daemon) for (const n of uefiDomains) daemon.virsh('undefine', '--nvram', n);
    const problems = tearDownPrivateDaemon(ledger, daemon !== undefined, state, root);
    expect(problems).toEqual([]);
  });

  it('a crash leaves the disk to qemu with +4242:+4242 ref 1; doctor names it, the hook names it before libvirt\'s "already in use", --apply gives the owner back, and the next start and stop do as libvirt normally does', () => {
    const d = join(root, 'crash');
    mkdirSync(d);
    chownSync(d, 4242, 4242);
    const f = disk(d, 'disk.raw', '4242:4242');
    const a = name('a');
    ledger.define(daemon, root, a, domainXml(a, [{ device: 'disk', file: f, format: 'raw', target: 'vda' }]));
    const s = start(a);
    expect(s.code, s.stderr).toBe(0);
    expect(owner(f)).toBe(QEMU);
    const running = records(f);
    expect(running).toMatchObject({ dac: '+4242:+4242', ref_dac: '1' });

    // While it runs, the record is consistent, and --apply leaves it alone.
    const live = doctorJson('--domain', a);
    expect(live.code).toBe(0);
    expect(live.report.findings).toMatchObject([{ path: f, model: 'dac', verdict: 'consistent', counted: 1, users: [{ domain: a, role: 'top' }] }]);
    expect(live.report.statusFiles).toMatchObject([{ domain: a, alive: true, rememberOwner: true }]);
    // libvirt's stamp on this host comes from the /proc/uptime fallback (no utmp): ours may be a second off.
    expect(Math.abs(Number(live.report.bootStamp.value) - Number(running.timestamp_dac))).toBeLessThanOrEqual(1);

    crash(a);
    expect(records(f)).toEqual(running);
    const crashed = recordOfThisBoot(f);
    expect(crashed).toEqual({ ...running, timestamp_dac: crashed.timestamp_dac });
    expect(daemon.virsh('domstate', a).stdout.trim()).toBe('shut off');
    expect(owner(f)).toBe(QEMU);

    // doctor names the file and the cause, by file and through the definition.
    const seen = doctorJson('--domain', a);
    expect(seen.code).toBe(1);
    expect(seen.report.statusFiles).toEqual([]);
    expect(seen.report.findings).toMatchObject([
      { path: f, model: 'dac', verdict: 'stale', cause: 'over-count', counted: 0, original: { owner: { uid: 4242, gid: 4242 } }, record: { countValue: 1, thisBoot: true } },
    ]);
    const text = doctor(f);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`${f}: dac: stale (over-count): the count is 1 but no running domain holds it`);
    expect(text.stdout).toContain('then give back the owner 4242:4242');

    // A domain with another DAC identity (the qemu user, another group) over the stale record: libvirt refuses.
    const b = name('b');
    const staticLabel = "</devices>\n  <seclabel type='static' model='dac' relabel='yes'><label>+64055:+4343</label></seclabel>";
    const bXml = domainXml(b, [{ device: 'disk', file: f, format: 'raw', target: 'vda' }]).replace('</devices>', staticLabel);
    ledger.define(daemon, root, b, bXml);
    writeFileSync(hookLog(), '');
    const refused = start(b);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`error: Requested operation is not valid: Setting different DAC user or group on ${f} which is already in use`);
    // With nothing for the hook to check (no relabel='no'), the script does not start Node (issue 21):
    // libvirt's own error is all there is, as README and the man page say.
    expect(readFileSync(hookLog(), 'utf8')).toBe('');
    // With a disk annotated relabel='no' for DAC, the hook runs at prepare begin and says why first.
    const g = disk(d, 'annotated.raw', '64055:4343');
    const bAnnotated = domainXml(b, [
      { device: 'disk', file: f, format: 'raw', target: 'vda' },
      { device: 'disk', file: g, format: 'raw', target: 'vdb', dacNoRelabel: true },
    ])
      .replace('</devices>', staticLabel)
      .replace('</name>', `</name>\n  <uuid>${daemon.virsh('domuuid', b).stdout.trim()}</uuid>`);
    writeFileSync(join(root, `${b}.xml`), bAnnotated, { mode: 0o644 });
    const redefined = daemon.virsh('define', join(root, `${b}.xml`));
    expect(redefined.code, redefined.stderr).toBe(0);
    const refusedAgain = start(b);
    expect(refusedAgain.code).not.toBe(0);
    expect(refusedAgain.stderr).toContain(`error: Requested operation is not valid: Setting different DAC user or group on ${f} which is already in use`);
    const said = readFileSync(hookLog(), 'utf8');
    expect(said).toContain(
      `virt-seclabel: ${b}: stale libvirt record on ${f}: run \`virt-seclabel doctor --apply ${f}\` (trusted.libvirt.security.ref_dac = 1 but no running domain holds it, and the file is owned ${QEMU}, not 64055:4343; libvirt will refuse the start`,
    );
    expect(said).toContain(`: Requested operation is not valid: Setting different DAC user or group on ${f} which is already in use)\n`);
    expect(records(f)).toEqual(crashed);

    // --apply gives the owner back and removes the records.
    const fixed = doctor('--apply', f);
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    expect(fixed.stdout).toContain(`applied: ${f} (dac): removed trusted.libvirt.security.ref_dac; removed trusted.libvirt.security.dac; removed trusted.libvirt.security.timestamp_dac; owner ${QEMU} → 4242:4242`);
    expect(owner(f)).toBe('4242:4242');
    expect(records(f)).toEqual({});

    // libvirt's normal cycle again: B (64055:4343) starts and its stop gives 4242 back; so does A.
    const bOk = start(b);
    expect(bOk.code, bOk.stderr).toBe(0);
    expect(owner(f)).toBe('64055:4343');
    expect(records(f)).toMatchObject({ dac: '+4242:+4242', ref_dac: '1' });
    daemon.virsh('destroy', b);
    expect(owner(f)).toBe('4242:4242');
    const again = start(a);
    expect(again.code, again.stderr).toBe(0);
    daemon.virsh('destroy', a);
    expect(owner(f)).toBe('4242:4242');
    expect(records(f)).toEqual({});
    expect(doctor(f).code).toBe(0);
  });

  it('UEFI: a crash leaves a stale record on the nvram libvirt made (/var/lib/libvirt/qemu/nvram/NAME_VARS.fd); doctor names the file and the cause, the hook names it before libvirt\'s "already in use", --apply gives the owner back, and the next start and stop are libvirt\'s normal ones', () => {
    const n = name('uefi');
    const uefi = (devices = '', seclabel = '') =>
      domainXml(n, [])
        .replace("hvm</type>\n", `hvm</type>\n    <loader readonly='yes' type='pflash'>${OVMF_CODE}</loader>\n`)
        .replace('  <on_reboot>', '  <features><acpi/></features>\n  <on_reboot>')
        .replace('    <video>', `${devices}    <video>`)
        .replace('</devices>', `</devices>${seclabel}`);
    ledger.define(daemon, root, n, uefi());
    uefiDomains.push(n);
    // libvirt names the vars file itself, in its own state directory (the daemon's namespace binds it from STATE/lib-qemu).
    const nvram = `/var/lib/libvirt/qemu/nvram/${n}_VARS.fd`;
    const onHost = join(state, 'lib-qemu', 'nvram', `${n}_VARS.fd`);
    expect(daemon.virsh('dumpxml', '--inactive', n).stdout).toContain(`<nvram>${nvram}</nvram>`);
    // The first start makes it from Debian's OVMF template, owned by the qemu user; then someone else owns it
    // (vars restored from a backup by their owner), as in the field.
    const first = start(n);
    expect(first.code, first.stderr).toBe(0);
    daemon.virsh('destroy', n);
    expect(owner(onHost)).toBe(QEMU);
    chownSync(onHost, 4242, 4242);
    const s = start(n);
    expect(s.code, s.stderr).toBe(0);
    expect(owner(onHost)).toBe(QEMU);
    const running = records(onHost);
    expect(running).toMatchObject({ dac: '+4242:+4242', ref_dac: '1' });
    // While it runs, the status file (the live <nvram template=…>) holds the record: consistent.
    const live = JSON.parse(doctorInDaemonNs('--json', '--domain', n).stdout);
    expect(validate(live)).toBe(true);
    expect(live.findings).toMatchObject([{ path: nvram, model: 'dac', verdict: 'consistent', counted: 1, users: [{ domain: n, disk: 'os/nvram', role: 'remembered-file' }] }]);

    crash(n);
    const crashed = recordOfThisBoot(onHost);
    expect(crashed).toEqual({ ...running, timestamp_dac: crashed.timestamp_dac });
    expect(owner(onHost)).toBe(QEMU);

    // doctor names the nvram and the cause before any start touches it.
    const seen = doctorInDaemonNs('--json', '--domain', n);
    const report = JSON.parse(seen.stdout);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(seen.code).toBe(1);
    expect(report.findings).toMatchObject([{ path: nvram, model: 'dac', verdict: 'stale', cause: 'over-count', counted: 0, original: { owner: { uid: 4242, gid: 4242 } }, record: { countValue: 1, thisBoot: true } }]);
    expect(doctorInDaemonNs(nvram).stdout).toContain(`${nvram}: dac: stale (over-count): the count is 1 but no running domain holds it`);

    // The domain's DAC identity changes (a static label, as after a qemu.conf user change); one disk is
    // annotated relabel='no', so the hook runs at prepare begin.
    const g = disk(root, `${n}-annotated.raw`, '64055:4343');
    const staticLabel = "\n  <seclabel type='static' model='dac' relabel='yes'><label>+64055:+4343</label></seclabel>";
    const annotated = `    <disk type='file' device='disk'>\n      <driver name='qemu' type='raw'/>\n      <source file='${g}'>\n        <seclabel model='dac' relabel='no'/>\n      </source>\n      <target dev='vdb' bus='virtio'/>\n    </disk>\n`;
    const relabelled = uefi(annotated, staticLabel).replace('</name>', `</name>\n  <uuid>${daemon.virsh('domuuid', n).stdout.trim()}</uuid>`);
    writeFileSync(join(root, `${n}.xml`), relabelled, { mode: 0o644 });
    const redefined = daemon.virsh('define', join(root, `${n}.xml`));
    expect(redefined.code, redefined.stderr).toBe(0);
    expect(JSON.parse(doctorInDaemonNs('--json', '--domain', n).stdout).findings).toMatchObject([
      { path: nvram, verdict: 'stale', libvirtWillSay: `Requested operation is not valid: Setting different DAC user or group on ${nvram} which is already in use` },
    ]);
    writeFileSync(hookLog(), '');
    const refused = start(n);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`error: Requested operation is not valid: Setting different DAC user or group on ${nvram} which is already in use`);
    expect(readFileSync(hookLog(), 'utf8')).toContain(
      `virt-seclabel: ${n}: stale libvirt record on ${nvram}: run \`virt-seclabel doctor --apply ${nvram}\` (trusted.libvirt.security.ref_dac = 1 but no running domain holds it, and the file is owned ${QEMU}, not 64055:4343; libvirt will refuse the start`,
    );
    expect(records(onHost)).toEqual(crashed);

    const fixed = doctorInDaemonNs('--apply', nvram);
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    expect(fixed.stdout).toContain(`applied: ${nvram} (dac): removed trusted.libvirt.security.ref_dac; removed trusted.libvirt.security.dac; removed trusted.libvirt.security.timestamp_dac; owner ${QEMU} → 4242:4242`);
    expect(owner(onHost)).toBe('4242:4242');
    expect(records(onHost)).toEqual({});

    const again = start(n);
    expect(again.code, again.stderr).toBe(0);
    expect(owner(onHost)).toBe('64055:4343');
    expect(records(onHost)).toMatchObject({ dac: '+4242:+4242', ref_dac: '1' });
    daemon.virsh('destroy', n);
    expect(owner(onHost)).toBe('4242:4242');
    expect(records(onHost)).toEqual({});
    expect(doctorInDaemonNs(nvram).code).toBe(0);
  });

  it('a unix socket chardev (mode connect): libvirt chowns it at start with nothing remembered and its stop resets it to root:root; doctor reports the owner it most likely had and, a socket not being openable, names the chown', async () => {
    const d = join(root, 'sock');
    mkdirSync(d);
    chownSync(d, 4242, 4242);
    disk(d, 'other.raw', '4242:4242');
    const sock = join(d, 'console.sock');
    // A listener for QEMU to connect to, owned by 4242 as a user's program would make it.
    const server = spawn('python3', ['-c', 'import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.bind(sys.argv[1])\ns.listen(4)\nprint("ready",flush=True)\nc=[]\nwhile True: c.append(s.accept())', sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((ok, fail) => {
        server.stdout!.once('data', () => ok());
        server.once('exit', (code) => fail(new Error(`the socket listener exited (${code})`)));
      });
      chownSync(sock, 4242, 4242);
      const n = name('sock');
      const serial = `    <serial type='unix'>\n      <source mode='connect' path='${sock}'/>\n      <target port='0'/>\n    </serial>\n`;
      ledger.define(daemon, root, n, domainXml(n, []).replace('    <video>', `${serial}    <video>`));
      const s = start(n);
      expect(s.code, s.stderr).toBe(0);
      expect(owner(sock)).toBe(QEMU);
      expect(records(sock)).toEqual({});
      const during = doctorJson('--domain', n);
      expect(during.report.findings).toEqual([]);
      daemon.virsh('destroy', n);
      expect(owner(sock)).toBe('0:0');

      const after = doctorJson('--domain', n);
      expect(after.code).toBe(1);
      expect(after.report.findings).toMatchObject([{ path: sock, model: 'dac', verdict: 'left-chowned', cause: 'nothing-remembered', likely: { owner: { uid: 4242, gid: 4242 }, confidence: 'medium' } }]);
      // libvirt's definition mirrors serial 0 as <console type='unix'> with the same path, which libvirt never
      // labels (a copy of serial[0]): only the serial is named.
      expect(after.report.findings[0].summary).toContain('(devices/serial[1]) owned by root:root with no record and no running domain using it: the stop after libvirt chowned it reset it to root:root');
      expect(after.report.findings[0].summary).not.toContain('devices/console');
      const named = doctor('--apply', '--owner', '4242:4242', '--domain', n);
      expect(named.code).toBe(1);
      expect(named.stdout).toContain(`a socket cannot be opened to be changed through a descriptor: \`chown 4242:4242 '${sock}'\` gives it the owner you named`);
      expect(owner(sock)).toBe('0:0');
    } finally {
      server.kill();
    }
  });
  it('cp -a of a running domain\'s disk copies a record nobody holds; a read-only ISO stays chowned after the stop', () => {
    const d = join(root, 'copy');
    mkdirSync(d);
    chownSync(d, 4242, 4242);
    const f = disk(d, 'disk.raw', '4242:4242');
    const iso = disk(d, 'cd.iso', '4242:4242');
    const n = name('copy');
    ledger.define(daemon, root, n, domainXml(n, [{ device: 'disk', file: f, format: 'raw', target: 'vda' }, { device: 'cdrom', file: iso, format: 'raw', target: 'hdc' }]));
    const s = start(n);
    expect(s.code, s.stderr).toBe(0);
    expect(owner(iso)).toBe(QEMU);
    expect(records(iso)).toEqual({});
    const copy = join(d, 'copy.raw');
    execFileSync('cp', ['-a', f, copy]);
    expect(records(copy)).toMatchObject({ dac: '+4242:+4242', ref_dac: '1' });

    const during = doctorJson(f, copy, iso);
    expect(during.code).toBe(1);
    const by = (p: string) => during.report.findings.filter((x: { path: string }) => x.path === p);
    expect(by(f)).toMatchObject([{ verdict: 'consistent', counted: 1 }]);
    expect(by(copy)).toMatchObject([{ verdict: 'stale', cause: 'over-count', counted: 0, action: { kind: 'restore-record', restore: { owner: { uid: 4242, gid: 4242 } } } }]);
    expect(by(iso)).toEqual([]); // in use (read-only) by the running domain: not left chowned

    daemon.virsh('destroy', n);
    expect(owner(f)).toBe('4242:4242');
    expect(owner(iso)).toBe(QEMU); // libvirt never gives a read-only disk back

    const after = doctorJson('--domain', n, '--path', d);
    expect(after.code).toBe(1);
    const iso2 = after.report.findings.find((x: { path: string }) => x.path === iso);
    expect(iso2).toMatchObject({ verdict: 'left-chowned', cause: 'nothing-remembered', likely: { owner: { uid: 4242, gid: 4242 }, confidence: 'medium' }, action: null });
    expect(iso2.summary).toContain('libvirt chowns and relabels read-only and shareable disks and backing files but never remembers or restores them');
    const applied = doctor('--apply', copy, iso);
    expect(applied.code).toBe(1); // the ISO is left: no owner named
    expect(owner(copy)).toBe('4242:4242');
    expect(records(copy)).toEqual({});
    expect(owner(iso)).toBe(QEMU);
    const named = doctor('--apply', '--owner', '4242:4242', iso);
    expect(named.code, named.stdout).toBe(0);
    expect(owner(iso)).toBe('4242:4242');
  });
  it('a qemu.conf group change over a stale record: libvirt refuses with "already in use"; doctor predicts it, removes the records and, as it cannot tell the old qemu owner from an admin\'s, names the chown that gives the owner back', () => {
    const d = join(root, 'conf');
    mkdirSync(d);
    chownSync(d, 4242, 4242);
    const f = disk(d, 'disk.raw', '4242:4242');
    const n = name('conf');
    ledger.define(daemon, root, n, domainXml(n, [{ device: 'disk', file: f, format: 'raw', target: 'vda' }]));
    const s = start(n);
    expect(s.code, s.stderr).toBe(0);
    const leaked = records(f);
    const conf = join(state, 'qemu-kvm-group.conf');
    writeFileSync(conf, `${readFileSync('/etc/libvirt/qemu.conf', 'utf8')}\ngroup = "kvm"\n`);
    crash(n, conf);
    expect(records(f)).toEqual(leaked);
    recordOfThisBoot(f);
    expect(owner(f)).toBe(QEMU);

    const seen = run(process.execPath, [cli, 'doctor', '--json', '--state-dir', statusDir(), '--qemu-conf', conf, f]);
    const report = JSON.parse(seen.stdout);
    expect(validate(report)).toBe(true);
    expect(report.qemu).toEqual({ names: 'libvirt-qemu:kvm', uid: 64055, gid: 107 });
    expect(report.findings).toMatchObject([
      { verdict: 'stale', cause: 'over-count', libvirtWillSay: `Requested operation is not valid: Setting different DAC user or group on ${f} which is already in use` },
    ]);
    const refused = start(n);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`error: Requested operation is not valid: Setting different DAC user or group on ${f} which is already in use`);

    const fixed = run(process.execPath, [cli, 'doctor', '--apply', '--state-dir', statusDir(), '--qemu-conf', conf, f]);
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(1); // the records are gone, the owner is a person's decision
    expect(fixed.stdout).toContain(`the owner +4242:+4242 is not given back: its owner ${QEMU} is not the qemu user 64055:107: someone changed it since libvirt did (or qemu.conf's user or group changed since); if it was libvirt's, \`chown 4242:4242 '${f}'\` gives it back`);
    expect(records(f)).toEqual({});
    expect(owner(f)).toBe(QEMU);
    // The person follows that line; libvirt's own cycle then gives 4242 back.
    chownSync(f, 4242, 4242);
    const ok = start(n);
    expect(ok.code, ok.stderr).toBe(0);
    expect(owner(f)).toBe('64055:107');
    daemon.virsh('destroy', n);
    expect(owner(f)).toBe('4242:4242');
    expect(records(f)).toEqual({});
  });
});
