/**
 * The domains mode on a private real libvirtd (scripts/libvirtd-private-start.sh: its own definitions
 * and sockets, so --all-domains sees only this suite's domains): many domains read a batch per virsh
 * process, each with the right outcome: one undefined while the others are being read fails alone, a
 * transient one is skipped (and never defined), a running one is said to be, a domain named like
 * another's ID and one named with quotes, ';' and '#' are read as themselves; --apply still refuses a
 * definition changed between read and define.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';
import { Ledger, domainXml, hasNoRelabel, run, type Connection, tearDownPrivateDaemon } from './libvirt-harness.js';
import { virshClient } from '../../src/adapters/libvirt/virsh-client.js';
import { createHostContext } from '../../src/app/host-context.js';
import { runDomains } from '../../src/commands/domains.js';
import { createLiveView } from '../../src/adapters/live/live-view.js';
import type { DomainRead, LibvirtClient } from '../../src/libvirt/client.js';
import { captureIo, hostOptions } from '../cli/harness.js';

const repo = resolve(import.meta.dirname, '../..');
const cli = process.env.VIRT_SECLABEL_CLI ?? join(repo, 'dist/cli/main.js');
const skip = missingRequirements({ root: true, commands: ['libvirtd', 'virtlogd', 'virsh', 'qemu-system-x86_64', 'unshare'] });

describe.skipIf(skip !== undefined)('the domains mode on a private real libvirtd', { sequential: true, timeout: 600_000 }, () => {
  const ledger = new Ledger();
  let state = '';
  let root = '';
  let daemon: Connection;
  const iso = (name: string) => {
    const f = join(root, name);
    writeFileSync(f, Buffer.alloc(1024 * 1024));
    chmodSync(f, 0o644);
    return f;
  };
  const cdrom = (file: string) => [{ device: 'cdrom' as const, file, format: 'raw' as const, target: 'hdc' }];
  const virsh = (...args: string[]) => {
    const r = daemon.virsh(...args);
    if (r.code !== 0) throw new Error(`virsh ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** By name only (virsh takes a number as an ID first). */
  const inactiveXml = (name: string) => {
    const line = virsh('list', '--all', '--uuid', '--name').split('\n').find((l) => l.slice(37) === name);
    if (!line) throw new Error(`no domain named ${name}`);
    return virsh('dumpxml', '--inactive', '--domain', line.slice(0, 36));
  };
  const all = (...args: string[]) => run(process.execPath, [cli, '--all-domains', '--connect', daemon.uri, '--no-config', ...args]);
  const decideIn = async (client: LibvirtClient, names: string[] | undefined, mode: 'check' | 'apply') => {
    const ctx = createHostContext(createLiveView(), hostOptions({ connect: 'system' }));
    if (!ctx.ok) throw new Error(ctx.error);
    const c = captureIo();
    const code = await runDomains({ names, mode, pruneStale: false }, client, ctx.value, c.io);
    await c.settle();
    return { code, stdout: c.stdout(), stderr: c.stderr() };
  };

  const many = Array.from({ length: 12 }, (_, i) => `dom-${String(i).padStart(2, '0')}`);
  const odd = `odd it's; #x "q"`;
  let numeric = '';
  let pub = '';
  let own = '';
  let runIso = '';

  beforeAll(() => {
    state = mkdtempSync(join(repo, '.tmp/domains-libvirtd-'));
    execFileSync('bash', [join(repo, 'scripts/libvirtd-private-start.sh'), state], { stdio: 'inherit' });
    const uri = `qemu:///system?socket=${state}/run/libvirt-sock`;
    daemon = { uri, virsh: (...args) => run('virsh', ['-c', uri, ...args]), pidFile: (n) => join(state, 'run', 'qemu', `${n}.pid`) };
    root = mkdtempSync('/tmp/vsl-domains-libvirtd-');
    chmodSync(root, 0o755);
    pub = iso('pub.iso');
    own = iso('own.iso');
    runIso = iso('run.iso');
    for (const n of many) ledger.define(daemon, root, n, domainXml(n, cdrom(pub)));
    ledger.define(daemon, root, 'odd', domainXml(odd.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/"/g, '&quot;'), cdrom(pub)));
    // Persistent and running (paused: QEMU exists, no guest code runs); its ID becomes another domain's name.
    ledger.define(daemon, root, 'running', domainXml('running', cdrom(runIso)));
    virsh('start', '--paused', 'running');
    numeric = virsh('domid', 'running').trim();
    ledger.define(daemon, root, numeric, domainXml(numeric, cdrom(own)));
    // Transient: created, never defined.
    const t = join(root, 'transient.xml');
    writeFileSync(t, domainXml('transient', []));
    virsh('create', '--paused', t);
  });

  afterAll(() => {
    if (daemon) daemon.virsh('destroy', 'transient');
    const problems = tearDownPrivateDaemon(ledger, daemon !== undefined, state, root);
    expect(problems).toEqual([]);
  });

  it('reads every domain in a few virsh processes; one undefined mid-way fails alone, the transient one is skipped', async () => {
    // 4 domains per virsh process: dom-09 is read by the 4th process, after dom-00 has been decided.
    const real = virshClient(daemon.uri, { batch: 4 });
    const reads: DomainRead[] = [];
    const undefining: LibvirtClient = {
      ...real,
      readDefinitions: (names) => {
        const r = real.readDefinitions(names);
        if (!r.ok) return r;
        return {
          ok: true,
          value: (function* () {
            for (const d of r.value) {
              reads.push(d);
              yield d;
              if (d.name === 'dom-00') virsh('undefine', 'dom-09');
            }
          })(),
        };
      },
    };
    const r = await decideIn(undefining, undefined, 'check');
    expect(r.code).toBe(2);
    const outcome = Object.fromEntries(reads.map((d) => [d.name, d.kind === 'persistent' ? `persistent${d.running ? ' running' : ''}` : d.kind]));
    expect(outcome).toEqual({
      ...Object.fromEntries(many.map((n) => [n, 'persistent'])),
      'dom-09': 'failed',
      [odd]: 'persistent',
      running: 'persistent running',
      [numeric]: 'persistent',
      transient: 'transient',
    });
    const failed = reads.find((d) => d.name === 'dom-09');
    expect(failed?.kind === 'failed' && failed.why).toMatch(/^virsh dumpxml: failed to get domain '[0-9a-f-]{36}'$/);
    // Each definition is the domain's own (the numeric name is not taken for the running domain's ID).
    for (const d of reads) if (d.kind === 'persistent') expect(new TextDecoder().decode(d.xml)).toContain(`<uuid>${d.ref}</uuid>`);
    const num = reads.find((d) => d.name === numeric);
    expect(num?.kind === 'persistent' && hasNoRelabel(new TextDecoder().decode(num.xml), own, 'dac')).toBe(false);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines.filter((l) => l.endsWith(`(${pub}): add <seclabel model='dac' relabel='no'/>`)).map((l) => l.replace(/:\d+:\d+: .*/, ''))).toEqual(
      [...many.filter((n) => n !== 'dom-09'), odd].map((n) => `domain ${n}`),
    );
    expect(lines).toContain(`domain dom-09: error: ${failed?.kind === 'failed' ? failed.why : ''}`);
    expect(lines).toContain('domain transient: note: transient (no persistent definition to annotate); skipped');
    ledger.define(daemon, root, 'dom-09', domainXml('dom-09', cdrom(pub)));
  });

  it('--domain looks names up as virsh does, with any characters; an unknown one fails alone', () => {
    const r = run(process.execPath, [cli, '--domain', odd, '--domain', 'nope', '--domain', 'transient', '--domain', numeric, '--connect', daemon.uri, '--no-config']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`domain ${odd}:`);
    expect(r.stderr).toContain("domain nope: error: virsh domuuid: failed to get domain 'nope'\n");
    expect(r.stderr).toContain('domain transient: note: transient (no persistent definition to annotate); skipped\n');
    // A number is an ID first to virsh (and was before batching): --domain N is the running domain.
    expect(r.stderr).toMatch(new RegExp(`^domain ${numeric}:\\d+:\\d+: warning: disk hdc \\(${runIso}\\)`, 'm'));
  });

  it('--apply defines every persistent domain that changes, says which one runs, leaves the transient one transient', () => {
    const r = all('--apply');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('domain transient: note: transient (no persistent definition to annotate); skipped\n');
    for (const n of [...many, odd, numeric]) {
      expect(r.stdout).toContain(`domain ${n}: defined with 1 change(s), read back and all kept\n`);
      expect(hasNoRelabel(inactiveXml(n), n === numeric ? own : pub, 'dac')).toBe(true);
    }
    expect(r.stdout).toContain('domain running: defined with 1 change(s), read back and all kept (it is running: the new definition takes effect at its next start)\n');
    expect(virsh('dominfo', 'transient')).toMatch(/^Persistent:\s+no$/m);
    const again = all('--check');
    expect([again.code, again.stderr]).toEqual([0, 'domain transient: note: transient (no persistent definition to annotate); skipped\n']);
  });

  it('--apply refuses a definition changed between the batch read and define, and defines nothing for it', async () => {
    const n = 'raced';
    ledger.define(daemon, root, n, domainXml(n, cdrom(pub)));
    const real = virshClient(daemon.uri);
    const uuid = virsh('domuuid', n).trim();
    const racing: LibvirtClient = {
      ...real,
      dumpInactive: (ref) => {
        if (ref === uuid) {
          const other = join(root, `${n}.other.xml`);
          writeFileSync(other, virsh('dumpxml', '--inactive', n).replace(/<vcpu([^>]*)>1<\/vcpu>/, '<vcpu$1>2</vcpu>'));
          virsh('define', other);
        }
        return real.dumpInactive(ref);
      },
    };
    const r = await decideIn(racing, [n, 'dom-00'], 'apply');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`domain ${n}: error: its definition changed since it was read; nothing defined (run again to decide on the new definition)\n`);
    const now = virsh('dumpxml', '--inactive', n);
    expect(now).toMatch(/<vcpu[^>]*>2<\/vcpu>/);
    expect(hasNoRelabel(now, pub, 'dac')).toBe(false);
  });
});
