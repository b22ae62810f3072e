/**
 * issue 25: "cannot be recorded" with a real daemon in a user namespace. The private libvirtd 9.0
 * (scripts/libvirtd-private-start.sh with LIBVIRTD_PRIVATE_USERNS=1: uids/gids 0-65535 mapped to
 * themselves, so its root is not the host's and the kernel refuses it trusted.* xattrs, as in a container)
 * fails a start with libvirt's own "Unable to set XATTR trusted.libvirt.security.dac … Operation not
 * permitted"; doctor, run on the host, says so for the domain's disk with the qemu.conf setting and its
 * cost. The setting is then applied and the start made again: remember_owner = 0 alone meets the next
 * wall of a user namespace that inherited its mounts (QEMU's mount namespace), with namespaces = [] too
 * the domain starts, and its stop gives the disk root:root instead of its owner: the cost doctor names.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';
import { Ledger, domainXml, owner, run, type Connection, tearDownPrivateDaemon } from './libvirt-harness.js';

const repo = resolve(import.meta.dirname, '../..');
const cli = process.env.VIRT_SECLABEL_CLI ?? join(repo, 'dist/cli/main.js');
const skip = missingRequirements({ root: true, commands: ['libvirtd', 'virtlogd', 'virsh', 'qemu-system-x86_64', 'unshare', 'getfattr'] });
const validate = new Ajv2020({ strict: true, strictRequired: false, allErrors: true }).compile(JSON.parse(readFileSync(join(repo, 'schemas/doctor.schema.json'), 'utf8')));

describe.skipIf(skip !== undefined)('doctor and a real libvirtd in a user namespace (TCG, DAC)', { sequential: true, timeout: 600_000 }, () => {
  const ledger = new Ledger();
  let state = '';
  let root = '';
  let daemon: Connection;
  const statusDir = () => join(state, 'run', 'qemu');
  const startDaemon = (conf = '') =>
    execFileSync('bash', [join(repo, 'scripts/libvirtd-private-start.sh'), state], { stdio: 'inherit', env: { ...process.env, LIBVIRTD_PRIVATE_USERNS: '1', LIBVIRTD_PRIVATE_QEMU_CONF: conf } });
  const restartDaemon = (conf: string) => {
    execFileSync('bash', [join(repo, 'scripts/libvirtd-private-stop.sh'), state]);
    startDaemon(conf);
  };
  const conf = (name: string, lines: string) => {
    const f = join(state, name);
    writeFileSync(f, `${readFileSync('/etc/libvirt/qemu.conf', 'utf8')}\n${lines}\n`);
    return f;
  };
  const doctor = (...args: string[]) => {
    if (!existsSync(cli)) throw new Error(`${cli} does not exist: npm run build first`);
    const r = run(process.execPath, [cli, 'doctor', '--json', '--state-dir', statusDir(), '--connect', daemon.uri, ...args]);
    const report = JSON.parse(r.stdout);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    return { code: r.code, report };
  };
  const xattrs = (f: string) => run('getfattr', ['--absolute-names', '-d', '-m', '^trusted\\.libvirt\\.', f]).stdout.trim();

  beforeAll(() => {
    mkdirSync(join(repo, '.tmp'), { recursive: true });
    state = mkdtempSync(join(repo, '.tmp/i25-userns-libvirtd-'));
    startDaemon();
    const uri = `qemu:///system?socket=${state}/run/libvirt-sock`;
    daemon = { uri, virsh: (...args) => run('virsh', ['-c', uri, ...args]), pidFile: (n) => join(state, 'run', 'qemu', `${n}.pid`) };
    root = mkdtempSync('/tmp/i25-userns-');
    chmodSync(root, 0o755);
  });

  afterAll(() => {
    expect(tearDownPrivateDaemon(ledger, daemon !== undefined, state, root)).toEqual([]);
  });

  it('libvirt refuses the start with "Unable to set XATTR … Operation not permitted"; doctor says "cannot be recorded" with remember_owner = 0; that setting (with namespaces = []) lets it start, and the stop gives root:root', () => {
    // The daemon really is in another user namespace, with root mapped to root.
    const pid = readFileSync(join(state, 'libvirtd.pid'), 'utf8').trim();
    expect(execFileSync('readlink', [`/proc/${pid}/ns/user`], { encoding: 'utf8' })).not.toBe(execFileSync('readlink', ['/proc/self/ns/user'], { encoding: 'utf8' }));
    expect(readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/)).toEqual(['0', '0', '65536']);

    const f = join(root, 'disk.raw');
    writeFileSync(f, Buffer.alloc(1024 * 1024));
    chownSync(f, 4242, 4242);
    const n = `i25-userns-${process.pid}`;
    ledger.define(daemon, root, n, domainXml(n, [{ device: 'disk', file: f, format: 'raw', target: 'vda' }]));
    const refused = daemon.virsh('start', '--paused', n);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(new RegExp(`error: Unable to set XATTR trusted\\.libvirt\\.security\\.dac on /var/lib/libvirt/qemu/domain-[0-9]+-${n}/master-key\\.aes: Operation not permitted`));
    expect(owner(f)).toBe('4242:4242');
    expect(xattrs(f)).toBe('');

    const seen = doctor('--domain', n);
    expect(seen.code).toBe(1);
    expect(seen.report.findings).toMatchObject([
      {
        path: f,
        verdict: 'unrecordable',
        cause: 'namespace',
        libvirtWillSay: 'Unable to set XATTR trusted.libvirt.security.dac on /var/lib/libvirt/qemu/domain-ID-NAME/master-key.aes: Operation not permitted',
        avoid: { setting: expect.stringMatching(/^qemu\.conf remember_owner = 0; .*namespaces = \[\] as well$/) },
      },
    ]);
    expect(seen.report.findings[0].summary).toContain(`process ${pid} runs in a user namespace (uid_map 0 0 65536)`);
    expect(seen.report.findings[0].avoid.cost).toContain('every stop gives files root:root');

    // remember_owner = 0 alone: the records are gone, and the next wall is QEMU's mount namespace.
    restartDaemon(conf('qemu-noremember.conf', 'remember_owner = 0'));
    const next = daemon.virsh('start', '--paused', n);
    expect(next.code).not.toBe(0);
    expect(next.stderr).toMatch(new RegExp(`Unable to move /dev/pts mount to /run/libvirt/qemu/[0-9]+-${n}\\.pts: Invalid argument`));

    // With namespaces = [] too: the start succeeds, and doctor, reading the daemon's own qemu.conf, has nothing to say about it but the cost.
    restartDaemon(conf('qemu-noremember-nons.conf', 'remember_owner = 0\nnamespaces = [ ]'));
    const ok = daemon.virsh('start', '--paused', n);
    expect(ok.code, ok.stderr).toBe(0);
    expect(owner(f)).toBe('64055:64055');
    expect(xattrs(f)).toBe('');
    const quiet = doctor('--domain', n);
    expect(quiet.report.findings).toEqual([]);
    expect(quiet.code).toBe(0);
    expect(quiet.report.notes.join('\n')).toContain('its qemu.conf has remember_owner = 0: it records nothing');
    // The cost: the stop gives root:root, not 4242:4242.
    daemon.virsh('destroy', n);
    expect(owner(f)).toBe('0:0');
  });
});
