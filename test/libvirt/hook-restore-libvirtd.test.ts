/**
 * The hook's `restore begin` filter on a real libvirtd (private daemon, scripts/libvirtd-private-start.sh,
 * QEMU under TCG): `virsh save`, change the file, `virsh restore`, and the restored domain carries what
 * the hook decided for this host. libvirt takes the hook's stdout as the restored domain's XML.
 * - an unannotated domain (libvirt chowned its ISO at start and, the disk being read-only, never gives
 *   it back), the ISO given back to root while it was saved, QEMU able to read it as it is: restored
 *   with `relabel='no'` added, and the ISO stays root's (libvirt no longer chowns it);
 * - an annotated domain whose ISO was made unreadable while it was saved: the stale annotation is
 *   removed, so libvirt labels the file again and the restore succeeds (kept, the prepare-begin check
 *   would have refused it).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';
import { Ledger, annotate, domainXml, hasNoRelabel, owner, run, type Connection, tearDownPrivateDaemon } from './libvirt-harness.js';

const repo = resolve(import.meta.dirname, '../..');
const cli = process.env.VIRT_SECLABEL_CLI ?? join(repo, 'dist/cli/main.js');
const skip = missingRequirements({ root: true, commands: ['libvirtd', 'virtlogd', 'virsh', 'qemu-system-x86_64', 'unshare'] });

describe.skipIf(skip !== undefined)('the hook at restore begin on a private real libvirtd (TCG)', { sequential: true, timeout: 600_000 }, () => {
  const ledger = new Ledger();
  let state = '';
  let root = '';
  let daemon: Connection;
  let counter = 0;
  const name = (what: string) => `vsl-restore-${process.pid}-${++counter}-${what}`;

  beforeAll(() => {
    mkdirSync(join(repo, '.tmp'), { recursive: true });
    state = mkdtempSync(join(repo, '.tmp/vsl-restore-libvirtd-'));
    execFileSync('bash', [join(repo, 'scripts/libvirtd-private-start.sh'), state], { stdio: 'inherit' });
    const uri = `qemu:///system?socket=${state}/run/libvirt-sock`;
    daemon = { uri, virsh: (...args) => run('virsh', ['-c', uri, ...args]), pidFile: (n) => join(state, 'run', 'qemu', `${n}.pid`) };
    root = mkdtempSync('/tmp/vsl-restore-');
    chmodSync(root, 0o755);
    const bin = join(state, 'virt-seclabel');
    writeFileSync(bin, `#!/bin/sh\nexec ${process.execPath} ${cli} "$@"\n`);
    chmodSync(bin, 0o755);
    const r = run(process.execPath, [cli, 'hook', 'install', '--hooks-dir', join(state, 'hooks'), '--binary', bin]);
    expect(r.code, r.stderr).toBe(0);
    execFileSync('kill', ['-HUP', readFileSync(join(state, 'libvirtd.pid'), 'utf8').trim()]);
    execFileSync('sleep', ['1']);
    expect(daemon.virsh('version').code).toBe(0);
  });

  afterAll(() => {
    const problems = tearDownPrivateDaemon(ledger, daemon !== undefined, state, root);
    expect(problems).toEqual([]);
  });

  const iso = (what: string, mode: number) => {
    const d = join(root, what);
    mkdirSync(d, { mode: 0o755 });
    const file = join(d, 'f.iso');
    writeFileSync(file, Buffer.alloc(1024 * 1024));
    chmodSync(file, mode);
    return file;
  };
  const saveAndRestore = (n: string, between: () => void) => {
    const image = join(root, `${n}.save`);
    const s = daemon.virsh('save', n, image);
    expect(s.code, s.stderr).toBe(0);
    expect(daemon.virsh('domstate', n).stdout.trim()).toBe('shut off');
    between();
    const r = daemon.virsh('restore', image);
    return { code: r.code, stderr: r.stderr, state: daemon.virsh('domstate', n).stdout.trim(), live: daemon.virsh('dumpxml', n).stdout };
  };

  it('adds the annotation proven on this host: the restored domain carries it, and libvirt leaves the ISO alone', () => {
    const file = iso('add', 0o644);
    const n = name('add');
    ledger.define(daemon, root, n, domainXml(n, [{ device: 'cdrom', file, format: 'raw', target: 'hdc' }]));
    const start = daemon.virsh('start', n);
    expect(start.code, start.stderr).toBe(0);
    // Unannotated, libvirt chowns the ISO to its QEMU user (and never gives a read-only disk back).
    expect(owner(file)).toBe('64055:64055');
    const r = saveAndRestore(n, () => {
      expect(owner(file)).toBe('64055:64055');
      execFileSync('chown', ['0:0', file]);
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.state).toBe('running');
    expect(hasNoRelabel(r.live, file, 'dac')).toBe(true);
    expect(owner(file)).toBe('0:0');
    daemon.virsh('destroy', n);
  });

  it('removes the annotation the file no longer supports: the restore succeeds with libvirt labelling the ISO', () => {
    const file = iso('stale', 0o644);
    const n = name('stale');
    const input = join(root, `${n}.in.xml`);
    writeFileSync(input, domainXml(n, [{ device: 'cdrom', file, format: 'raw', target: 'hdc' }]));
    const a = annotate(cli, input, '--no-config');
    expect(a.code, a.stderr).toBe(0);
    expect(hasNoRelabel(a.stdout, file, 'dac')).toBe(true);
    ledger.define(daemon, root, n, a.stdout);
    const start = daemon.virsh('start', n);
    expect(start.code, start.stderr).toBe(0);
    expect(owner(file)).toBe('0:0');
    const r = saveAndRestore(n, () => chmodSync(file, 0o600));
    expect(r.code, r.stderr).toBe(0);
    expect(r.state).toBe('running');
    expect(hasNoRelabel(r.live, file, 'dac')).toBe(false);
    // libvirt labelled it for QEMU, which is what let the restore go on.
    expect(owner(file)).toBe('64055:64055');
    daemon.virsh('destroy', n);
  });
});
