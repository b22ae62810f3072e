/**
 * The libvirt hook on a real libvirtd with QEMU under TCG. The hook is installed only into a private
 * daemon's hooks directory (scripts/libvirtd-private-start.sh: its own mount namespace, its own
 * sockets and definitions), so neither the system libvirtd nor another suite running in parallel ever
 * runs it. The tests in this file run one after another against that one daemon.
 * What is checked is what a person sees: `virsh start` succeeds, or fails with the hook's line naming
 * the disk, the file and the fix instead of QEMU's bare "Permission denied"; and the file is untouched.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';
import { Ledger, annotate, domainXml, hasNoRelabel, owner, run, type Connection, type DiskSpec, tearDownPrivateDaemon } from './libvirt-harness.js';
import { createHostContext } from '../../src/app/host-context.js';
import { runDomains } from '../../src/commands/domains.js';
import { createLiveView } from '../../src/adapters/live/live-view.js';
import { virshClient } from '../../src/adapters/libvirt/virsh-client.js';
import { captureIo, hostOptions } from '../cli/harness.js';

const repo = resolve(import.meta.dirname, '../..');
const cli = process.env.VIRT_SECLABEL_CLI ?? join(repo, 'dist/cli/main.js');
const skip = missingRequirements({ root: true, commands: ['libvirtd', 'virtlogd', 'virsh', 'qemu-system-x86_64', 'unshare'] });

describe.skipIf(skip !== undefined)('the hook on a private real libvirtd (TCG)', { sequential: true, timeout: 600_000 }, () => {
  const ledger = new Ledger();
  let state = '';
  let root = '';
  let daemon: Connection;
  let counter = 0;
  const name = (what: string) => `i12-hook-domains-${process.pid}-${++counter}-${what}`;

  /** A command the installed script runs as `virt-seclabel`: this checkout's CLI, or a simulated crash. */
  const binary = (file: string, body: string) => {
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  };
  const install = (bin: string) => {
    const r = run(process.execPath, [cli, 'hook', 'install', '--hooks-dir', join(state, 'hooks'), '--binary', bin, '--hook-config', join(state, 'etc', 'hook.conf')]);
    expect(r.code, r.stderr).toBe(0);
    reload();
    return r;
  };
  /** libvirtd re-reads its hooks on SIGHUP; the reload runs in a thread, so wait for the daemon to answer again. */
  const reload = () => {
    execFileSync('kill', ['-HUP', readFileSync(join(state, 'libvirtd.pid'), 'utf8').trim()]);
    execFileSync('sleep', ['1']);
    expect(daemon.virsh('version').code).toBe(0);
  };
  const iso = (path: string, mode: number) => {
    writeFileSync(path, Buffer.alloc(1024 * 1024));
    chmodSync(path, mode);
    return path;
  };
  /** The domain through the CLI, as a user would write it, then defined on the private daemon. */
  const annotated = (n: string, disks: DiskSpec[]) => {
    const input = join(root, `${n}.in.xml`);
    writeFileSync(input, domainXml(n, disks));
    const out = annotate(cli, input, '--no-config');
    expect(out.code, out.stderr).toBe(0);
    for (const d of disks) expect(hasNoRelabel(out.stdout, d.file, 'dac')).toBe(true);
    ledger.define(daemon, root, n, out.stdout);
    return out.stdout;
  };
  const startVm = (n: string) => {
    const r = daemon.virsh('start', n);
    const state = daemon.virsh('domstate', n).stdout.trim();
    return { code: r.code, stderr: r.stderr, state };
  };

  beforeAll(() => {
    mkdirSync(join(repo, '.tmp'), { recursive: true });
    state = mkdtempSync(join(repo, '.tmp/i12-hook-domains-libvirtd-'));
    execFileSync('bash', [join(repo, 'scripts/libvirtd-private-start.sh'), state], { stdio: 'inherit' });
    const uri = `qemu:///system?socket=${state}/run/libvirt-sock`;
    daemon = {
      uri,
      virsh: (...args) => run('virsh', ['-c', uri, ...args]),
      pidFile: (n) => join(state, 'run', 'qemu', `${n}.pid`),
    };
    root = mkdtempSync('/tmp/i12-hook-domains-');
    chmodSync(root, 0o755);
  });

  afterAll(() => {
    const problems = tearDownPrivateDaemon(ledger, daemon !== undefined, state, root);
    expect(problems).toEqual([]);
  });

  it('installs only into the private hooks directory; the system hooks directory stays as it was', () => {
    const before = run('ls', ['-A', '/etc/libvirt/hooks']).stdout;
    const r = install(binary(join(state, 'virt-seclabel'), `exec ${process.execPath} ${cli} "$@"`));
    expect(r.stdout).toContain(`wrote ${join(state, 'hooks/qemu.d/virt-seclabel')} (root:root 0755); libvirtd (or virtqemud) reads hooks only when it starts and on SIGHUP`);
    expect(run('ls', ['-A', '/etc/libvirt/hooks']).stdout).toBe(before);
    expect((statSync(join(state, 'hooks/qemu.d/virt-seclabel')).mode & 0o7777).toString(8)).toBe('755');
  });

  it('an annotated VM starts; after its ISO is made unreadable the start is refused with the hook\'s line, and the file is untouched', () => {
    const d = join(root, 'iso');
    mkdirSync(d, { mode: 0o755 });
    const file = iso(join(d, 'f.iso'), 0o644);
    const n = name('stale');
    annotated(n, [{ device: 'cdrom', file, format: 'raw', target: 'hdc' }]);

    const first = startVm(n);
    expect(first.stderr).toBe('');
    expect(first.state).toBe('running');
    daemon.virsh('destroy', n);
    expect(owner(file)).toBe('0:0');

    chmodSync(file, 0o600);
    const refused = startVm(n);
    expect(refused.code).not.toBe(0);
    expect(refused.state).toBe('shut off');
    expect(refused.stderr).toContain('Hook script execution failed');
    expect(refused.stderr).toContain(
      `virt-seclabel: ${n}: disk hdc (${file}): qemu (libvirt-qemu) can no longer access it: ${file} (-rw------- root:root): libvirt-qemu cannot read (other ---); run virt-seclabel --prune-stale on its definition, or fix the file`,
    );
    expect(refused.stderr).not.toMatch(/Permission denied/);
    expect(owner(file)).toBe('0:0');
    expect((statSync(file).mode & 0o7777).toString(8)).toBe('600');
  });

  /**
   * Installed with a working command, which then breaks (`breakIt`): an annotated VM with an accessible ISO
   * still starts. install itself refuses a command that does not run (below), so breaking it afterwards is
   * the only way to get there.
   */
  const startsDespite = (what: string, breakIt: (bin: string) => void) => {
    const d = join(root, what);
    mkdirSync(d, { mode: 0o755 });
    const file = iso(join(d, 'ok.iso'), 0o644);
    const bin = binary(join(state, `${what}-virt-seclabel`), `exec ${process.execPath} ${cli} "$@"`);
    install(bin);
    breakIt(bin);
    const n = name(what);
    annotated(n, [{ device: 'cdrom', file, format: 'raw', target: 'hdc' }]);
    const r = startVm(n);
    expect(r.stderr).toBe('');
    expect(r.state).toBe('running');
    daemon.virsh('destroy', n);
  };

  it('a hook that crashes does not prevent a start', () => {
    startsDespite('crash', (bin) => binary(bin, `exec ${process.execPath} -e 'throw new Error("simulated crash")'`));
  });

  it('a virt-seclabel removed after install does not prevent a start', () => {
    startsDespite('missing', (bin) => rmSync(bin));
  });

  it('install refuses a command that cannot run (exit 2, naming it and --binary) and leaves the installed hook as it was', () => {
    const hook = join(state, 'hooks/qemu.d/virt-seclabel');
    const before = readFileSync(hook, 'utf8');
    const missing = join(state, 'no-such-virt-seclabel');
    const r = run(process.execPath, [cli, 'hook', 'install', '--hooks-dir', join(state, 'hooks'), '--binary', missing]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`virt-seclabel: hook install: nothing written: the script would run \`timeout --foreground -k 5 30 ${missing} hook -- `);
    expect(r.stderr).toContain('--binary');
    expect(readFileSync(hook, 'utf8')).toBe(before);
  });

  it('a domain without relabel=\'no\' starts without virt-seclabel ever being run; a DAC-annotated one runs it at prepare begin only', () => {
    const calls = join(state, 'calls');
    writeFileSync(calls, '');
    const bin = binary(join(state, 'recording-virt-seclabel'), `echo "$*" >> ${calls}\nexec ${process.execPath} ${cli} "$@"`);
    install(bin);
    writeFileSync(calls, '');
    const d = join(root, 'fast');
    mkdirSync(d, { mode: 0o755 });
    const file = iso(join(d, 'ok.iso'), 0o644);
    const plain = name('plain');
    ledger.define(daemon, root, plain, domainXml(plain, [{ device: 'cdrom', file, format: 'raw', target: 'hdc' }]));
    const r = startVm(plain);
    expect(r.stderr).toBe('');
    expect(r.state).toBe('running');
    daemon.virsh('destroy', plain);
    expect(readFileSync(calls, 'utf8')).toBe('');

    const marked = name('marked');
    annotated(marked, [{ device: 'cdrom', file, format: 'raw', target: 'hdc' }]);
    const m = startVm(marked);
    expect(m.stderr).toBe('');
    expect(m.state).toBe('running');
    daemon.virsh('destroy', marked);
    // start begin judges only SELinux, and with no SELinux on this host the word is nowhere in the XML.
    expect(readFileSync(calls, 'utf8')).toBe(`hook -- ${marked} prepare begin -\n`);
  });

  describe('--all-domains on the same daemon', () => {
    /** The definition file libvirt keeps for a domain: rewritten on every define, untouched otherwise. */
    const definition = (n: string) => {
      const st = statSync(join(state, 'etc-qemu', `${n}.xml`));
      return `${st.ino}:${st.mtimeMs}`;
    };
    const all = (...args: string[]) => run(process.execPath, [cli, '--all-domains', '--connect', daemon.uri, '--no-config', ...args]);

    it('--apply annotates exactly the disks annotate would, rewrites only the domains that change, and a second run changes nothing', () => {
      const d = join(root, 'domains');
      mkdirSync(d, { mode: 0o755 });
      const pub = iso(join(d, 'pub.iso'), 0o644);
      const priv = iso(join(d, 'priv.iso'), 0o600);
      const specs: Record<string, DiskSpec[]> = {
        [name('one')]: [{ device: 'cdrom', file: pub, format: 'raw', target: 'hdc' }],
        [name('none')]: [{ device: 'cdrom', file: priv, format: 'raw', target: 'hdc' }],
        [name('mixed')]: [
          { device: 'cdrom', file: pub, format: 'raw', target: 'hdc' },
          { device: 'cdrom', file: priv, format: 'raw', target: 'hdd' },
        ],
        [name('done')]: [{ device: 'cdrom', file: pub, format: 'raw', target: 'hdc', dacNoRelabel: true }],
      };
      const expected: Record<string, string> = {};
      for (const [n, disks] of Object.entries(specs)) {
        ledger.define(daemon, root, n, domainXml(n, disks));
        // What annotate says for the definition libvirt holds: the reference for the domains mode.
        const current = join(root, `${n}.current.xml`);
        writeFileSync(current, daemon.virsh('dumpxml', '--inactive', n).stdout);
        const a = annotate(cli, current, '--no-config');
        expect(a.code, a.stderr).toBe(0);
        expected[n] = a.stdout;
      }
      const before = Object.fromEntries(Object.keys(specs).map((n) => [n, definition(n)]));

      const r = all('--apply');
      expect(r.code, r.stderr).toBe(0);
      const [one, none, mixed, done] = Object.keys(specs) as [string, string, string, string];
      for (const n of [one, mixed]) expect(r.stdout).toContain(`domain ${n}: defined with 1 change(s), read back and all kept\n`);
      for (const n of [none, done]) expect(r.stdout).not.toContain(`domain ${n}:`);
      for (const [n, disks] of Object.entries(specs)) {
        const now = daemon.virsh('dumpxml', '--inactive', n).stdout;
        for (const disk of disks) expect([n, disk.file, hasNoRelabel(now, disk.file, 'dac')]).toEqual([n, disk.file, hasNoRelabel(expected[n]!, disk.file, 'dac')]);
      }
      expect(hasNoRelabel(daemon.virsh('dumpxml', '--inactive', mixed).stdout, pub, 'dac')).toBe(true);
      expect(definition(none)).toBe(before[none]);
      expect(definition(done)).toBe(before[done]);
      expect(definition(one)).not.toBe(before[one]);

      const after = Object.fromEntries(Object.keys(specs).map((n) => [n, definition(n)]));
      const again = all('--apply');
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toBe('');
      for (const n of Object.keys(specs)) expect(definition(n)).toBe(after[n]);
      const check = all('--check');
      expect(check.stderr).not.toMatch(/add <seclabel/);
    });

    it('refuses a definition changed between read and define, and defines nothing for it', async () => {
      const d = join(root, 'race');
      mkdirSync(d, { mode: 0o755 });
      const pub = iso(join(d, 'pub.iso'), 0o644);
      const n = name('race');
      ledger.define(daemon, root, n, domainXml(n, [{ device: 'cdrom', file: pub, format: 'raw', target: 'hdc' }]));
      const real = virshClient(daemon.uri);
      const uuid = daemon.virsh('domuuid', n).stdout.trim();
      // Someone else redefines the domain (2 vCPUs) after we read it (in a batch) and before we define.
      const racing = {
        ...real,
        dumpInactive: (x: string) => {
          if (x === uuid) {
            const other = join(root, `${n}.other.xml`);
            writeFileSync(other, daemon.virsh('dumpxml', '--inactive', n).stdout.replace(/<vcpu([^>]*)>1<\/vcpu>/, '<vcpu$1>2</vcpu>'));
            expect(daemon.virsh('define', other).code).toBe(0);
          }
          return real.dumpInactive(x);
        },
      };
      const ctx = createHostContext(createLiveView(), hostOptions({ connect: 'system' }));
      if (!ctx.ok) throw new Error(ctx.error);
      const c = captureIo();
      const code = await runDomains({ names: [n], mode: 'apply', pruneStale: false }, racing, ctx.value, c.io);
      await c.settle();
      expect(code).toBe(2);
      expect(c.stderr()).toBe(`domain ${n}: error: its definition changed since it was read; nothing defined (run again to decide on the new definition)\n`);
      const now = daemon.virsh('dumpxml', '--inactive', n).stdout;
      expect(now).toMatch(/<vcpu[^>]*>2<\/vcpu>/);
      expect(hasNoRelabel(now, pub, 'dac')).toBe(false);
    });
  });

  it('hook uninstall removes its file and nothing else', () => {
    const other = join(state, 'hooks/qemu.d/someone-else');
    writeFileSync(other, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const r = run(process.execPath, [cli, 'hook', 'uninstall', '--hooks-dir', join(state, 'hooks')]);
    expect(r.code, r.stderr).toBe(0);
    expect(run('ls', ['-A', join(state, 'hooks/qemu.d')]).stdout).toBe('someone-else\n');
  });
});
