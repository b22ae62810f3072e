/**
 * The installed script's call, `hook -- NAME OP SUB-OP EXTRA`, runs without yargs (src/cli/hook-fast.ts,
 * its own bundle): the same handler with the values yargs gives when no option is given, and the XML read
 * from descriptor 0 instead of a stream. Checked two ways: the arguments the full command line hands the
 * handler equal the fast entry's, and the shipped build answers the same (exit code, stderr) through either
 * path, stdin a pipe or a file.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { missingRequirements } from '../support/requirements.js';

const seen: unknown[] = [];
vi.mock('../../src/commands/hook.js', async (original) => {
  const real = await original<typeof import('../../src/commands/hook.js')>();
  return { ...real, runHookRequest: (req: unknown) => (seen.push(req), Promise.resolve(0)) };
});

describe('the fast entry gives the handler what yargs gives it for the script\'s call', () => {
  it('for libvirt\'s words, a domain name starting with -, and install/uninstall after --', async () => {
    const { runCommandLine } = await import('../../src/cli/program.js');
    const { fastHookArgs } = await import('../../src/cli/hook-fast.js');
    const { hookRequestFrom } = await import('../../src/cli/hook-args.js');
    for (const rest of [['vm1', 'prepare', 'begin', '-'], ['-odd-name', 'start', 'begin', '-'], ['vm1', 'stopped', 'end', '-'], ['install'], []]) {
      seen.length = 0;
      expect(await runCommandLine(['hook', '--', ...rest])).toBe(0);
      expect(seen).toHaveLength(1);
      // The whole request: the words, every default (hooks dir, config file) and the host options derived from them.
      expect(hookRequestFrom(fastHookArgs(rest))).toEqual(seen[0]);
    }
  });
});

const repo = resolve(import.meta.dirname, '../..');
const cli = join(repo, 'dist/cli/main.js');
const noCli = missingRequirements({ files: [cli] });

describe.skipIf(noCli !== undefined)('the shipped build answers the same through the fast entry and the full command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsl-fast-entry-'));
  chmodSync(dir, 0o755);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const ok = join(dir, 'ok.iso');
  const locked = join(dir, 'locked.iso');
  writeFileSync(ok, 'x', { mode: 0o644 });
  writeFileSync(locked, 'x', { mode: 0o600 });
  const xml = (file: string, model = 'dac') =>
    `<domain type='kvm'><name>vm1</name><devices><disk type='file' device='cdrom'><source file='${file}'><seclabel model='${model}' relabel='no'/></source><target dev='hdc' bus='ide'/><readonly/></disk></devices></domain>\n`;
  const cases: [string, string[], string][] = [
    ['accessible', ['vm1', 'prepare', 'begin', '-'], xml(ok)],
    ['stale', ['vm1', 'prepare', 'begin', '-'], xml(locked)],
    ['selinux at start begin', ['vm1', 'start', 'begin', '-'], xml(ok, 'selinux')],
    ['unreadable XML', ['vm1', 'prepare', 'begin', '-'], '<domain><name>vm1</name>\0</domain>'],
    ['ignored operation', ['vm1', 'stopped', 'end', '-'], xml(locked)],
    ['unknown operation', ['vm1', 'frobnicate', 'begin', '-'], xml(locked)],
    // Not in hook.cjs: main.ts sends these through the full command line whose hook command filters them.
    ['migrate begin (a filter)', ['vm1', 'migrate', 'begin', '-'], xml(ok)],
    ['restore begin (a filter)', ['vm1', 'restore', 'begin', '-'], xml(locked)],
  ];
  const run = (argv: string[], input: string, asFile: boolean) => {
    const env = { PATH: '/usr/bin:/bin', LC_ALL: 'C' };
    if (!asFile) return spawnSync(process.execPath, [cli, ...argv], { input, env, encoding: 'utf8' });
    const f = join(dir, 'stdin.xml');
    writeFileSync(f, input);
    const fd = openSync(f, 'r');
    try {
      return spawnSync(process.execPath, [cli, ...argv], { stdio: [fd, 'pipe', 'pipe'], env, encoding: 'utf8' });
    } finally {
      closeSync(fd);
    }
  };
  for (const [what, words, input] of cases) {
    it(what, () => {
      // An option the fast entry does not take sends the same call through yargs; it names the default file.
      const full = run(['hook', '--hook-config', '/etc/virt-seclabel/hook.conf', '--', ...words], input, false);
      // Not a comparison of two no-ops: as root (libvirt-qemu cannot read a root-owned 0600 file) the stale case refuses.
      if (what === 'stale' && process.getuid?.() === 0) expect(full.status).toBe(10);
      for (const asFile of [false, true]) {
        const fast = run(['hook', '--', ...words], input, asFile);
        expect({ status: fast.status, stderr: fast.stderr, stdout: fast.stdout }).toEqual({ status: full.status, stderr: full.stderr, stdout: full.stdout });
      }
    });
  }
});

// What the bundle for every VM start leaves out (cli/hook-fast.ts): install and uninstall, the migrate/restore
// filter and the command line's help, each named by a sentence only it writes.
describe.skipIf(noCli !== undefined)('hook.cjs holds the check alone', () => {
  it('no install, no filter, no help text', () => {
    const bundle = readFileSync(join(repo, 'dist/cli/hook.cjs'), 'utf8');
    for (const only of ['refusing to overwrite', 'access proven on this host', 'annotate on the way to libvirt']) expect(bundle, only).not.toContain(only);
    // and the program, which serves the rest, does hold them
    const program = readFileSync(join(repo, 'dist/cli/program.cjs'), 'utf8');
    for (const only of ['refusing to overwrite', 'access proven on this host', 'annotate on the way to libvirt']) expect(program, only).toContain(only);
  });
});
