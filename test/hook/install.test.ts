/**
 * `hook install` / `hook uninstall`: plans shown first, only our own file written or removed, through
 * recording fakes of the file and probe effects; install runs the script's own check command first and
 * writes nothing when it fails. Then the live appliers: on a scratch directory, and the whole command as a
 * new user runs it from a checkout (no virt-seclabel on the script's PATH). The packaged contrib script is
 * exactly what install writes by default.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { liveHookFiles, liveHookProbe } from '../../src/adapters/hook/live-effects.js';
import type { HookFiles, HookProbe, ProbeOutcome } from '../../src/hook/effects.js';
import type { ExistingHook } from '../../src/hook/install.js';
import { runHookInstall, runHookUninstall } from '../../src/commands/hook.js';
import { PROBE_ARGS, PROBE_ENV, PROBE_XML, renderHookScript, renderProbeScript } from '../../src/hook/script.js';
import { captureIo } from '../cli/harness.js';
import { missingRequirements } from '../support/requirements.js';

const repo = resolve(import.meta.dirname, '../..');

function fakeFiles(initial: Record<string, ExistingHook> = {}) {
  const state = new Map(Object.entries(initial));
  const done: string[] = [];
  const files: HookFiles = {
    inspect: (p) => state.get(p) ?? { kind: 'absent' },
    writeExecutable: (p, text) => {
      done.push(`write ${p}`);
      state.set(p, { kind: 'file', text });
    },
    remove: (p) => {
      done.push(`remove ${p}`);
      state.delete(p);
    },
  };
  return { files, done, state };
}

const OK: ProbeOutcome = { status: 0, signal: null, stdout: '', stderr: '' };
const NOT_FOUND: ProbeOutcome = { status: 127, signal: null, stdout: '', stderr: 'sh: 1: exec: virt-seclabel: not found\n' };

/** A probe that answers by the binary the script names, and records every run. */
function fakeProbe(answers: Record<string, ProbeOutcome>) {
  const runs: { script: string; args: readonly string[]; stdin: string; env: Readonly<Record<string, string>> }[] = [];
  const probe: HookProbe = {
    runShell(script, args, stdin, env) {
      runs.push({ script, args, stdin, env });
      const binary = Object.keys(answers).find((b) => script === renderProbeScript(b));
      return binary === undefined ? { ...OK, status: 99 } : answers[binary]!;
    },
  };
  return { probe, runs };
}

const PATH = '/etc/libvirt/hooks/qemu.d/virt-seclabel';
const ACTIVE = /virt-seclabel: to see it active: a start whose relabel='no' is proven stale then fails, and `virsh start` shows "Hook script execution failed: \.\.\. unexpected exit status 10: virt-seclabel: VM: disk DEV \(FILE\): \.\.\. can no longer access it: \.\.\."\nvirt-seclabel: every other start goes on; .* is logged to syslog with the tag virt-seclabel \(`journalctl -t virt-seclabel`\) where \/dev\/log exists, else only in libvirtd's debug log; a start with nothing to check says nothing\n$/;

async function run(f: (io: ReturnType<typeof captureIo>['io']) => number) {
  const c = captureIo();
  const code = f(c.io);
  await c.settle();
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

const install = (files: HookFiles, probe: HookProbe, binary?: string, running?: string) =>
  run((io) => runHookInstall({ hooksDir: '/etc/libvirt/hooks', binary, running }, { files, probe }, io));

describe('hook install', () => {
  it('runs the script\'s own check command first, then shows the plan, writes, and says how to see the hook active', async () => {
    const f = fakeFiles();
    const p = fakeProbe({ 'virt-seclabel': OK });
    const r = await install(f.files, p.probe);
    expect(r.code).toBe(0);
    expect(p.runs).toEqual([{ script: renderProbeScript('virt-seclabel'), args: PROBE_ARGS, stdin: PROBE_XML, env: PROBE_ENV }]);
    expect(p.runs[0]!.script).toContain('timeout --foreground -k 5 30 "$VIRT_SECLABEL" hook -- "$@"');
    // Every line of the probe is a line of the script: the same environment and the same check command.
    for (const line of p.runs[0]!.script.trimEnd().split('\n')) expect(renderHookScript().split('\n').map((l) => l.trim())).toContain(line.trim());
    expect(f.done).toEqual([`write ${PATH}`]);
    expect(r.stdout.startsWith(
      'virt-seclabel: checked: `timeout --foreground -k 5 30 virt-seclabel hook -- virt-seclabel-install-check prepare begin -` runs with the script\'s PATH and environment\n' +
        `virt-seclabel: plan: write a new ${PATH} (root:root 0755)\n` +
        `virt-seclabel: wrote ${PATH} (root:root 0755); libvirtd (or virtqemud) reads hooks only when it starts and on SIGHUP: run \`systemctl reload libvirtd\` (or send it SIGHUP) or restart it\n`,
    )).toBe(true);
    expect(r.stdout).toMatch(ACTIVE);
  });

  it('refuses (exit 2, nothing written) when the command cannot run from the script\'s PATH, naming it and --binary, and offers this program', async () => {
    const f = fakeFiles();
    const p = fakeProbe({ 'virt-seclabel': NOT_FOUND, '/src/virt-seclabel/dist/cli/main.js': OK });
    const r = await install(f.files, p.probe, undefined, '/src/virt-seclabel/dist/cli/main.js');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(f.done).toEqual([]);
    expect(r.stderr).toBe(
      'virt-seclabel: hook install: nothing written: the script would run `timeout --foreground -k 5 30 virt-seclabel hook -- virt-seclabel-install-check prepare begin -` ' +
        'with PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin, and run that way now it failed: ' +
        'virt-seclabel: command not found in PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin (exit 127): sh: 1: exec: virt-seclabel: not found\n' +
        'virt-seclabel: make virt-seclabel run from that PATH, or name the command the script should run with --binary (an absolute path)\n' +
        'virt-seclabel: this program, /src/virt-seclabel/dist/cli/main.js, passes the same check: run install again with --binary /src/virt-seclabel/dist/cli/main.js\n',
    );
  });

  it('says so when this program fails the same check too', async () => {
    const f = fakeFiles();
    const p = fakeProbe({ '/opt/vs': { ...NOT_FOUND, status: 126, stderr: 'Permission denied\n' }, '/src/main.js': { ...NOT_FOUND, stderr: '/usr/bin/env: \'node\': No such file or directory\n' } });
    const r = await install(f.files, p.probe, '/opt/vs', '/src/main.js');
    expect(r.code).toBe(2);
    expect(f.done).toEqual([]);
    expect(r.stderr).toContain('it failed: /opt/vs cannot be executed (exit 126): Permission denied\n');
    expect(r.stderr).toContain("virt-seclabel: this program, /src/main.js, fails the same check too (/src/main.js: command not found in PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin (exit 127): /usr/bin/env: 'node': No such file or directory); --binary needs a command that runs it from that PATH, e.g. a wrapper script\n");
  });

  it('refuses a command that crashes, hangs, or speaks where the hook says nothing', async () => {
    const cases: [ProbeOutcome, string][] = [
      [{ ...OK, status: 1, stderr: 'Error: simulated crash\n    at x\n' }, 'it exited 1: Error: simulated crash /     at x'],
      [{ ...OK, status: 124 }, 'it ran past 30 s and was killed (exit 124)'],
      [{ ...OK, signal: 'SIGKILL', status: null }, 'it was killed by SIGKILL'],
      [{ ...OK, stderr: 'virt-seclabel: hook: --models: unknown model; start allowed unchecked\n' }, 'it exited 0 but said something'],
      [{ ...OK, status: null, error: 'spawnSync sh ENOENT' }, 'sh could not be run (spawnSync sh ENOENT)'],
    ];
    for (const [outcome, why] of cases) {
      const f = fakeFiles();
      const r = await install(f.files, fakeProbe({ '/opt/vs': outcome }).probe, '/opt/vs');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(why);
      expect(r.stderr).toContain('--binary');
      expect(f.done).toEqual([]);
    }
  });

  it('a second install changes nothing; a different --binary replaces our own file', async () => {
    const f = fakeFiles({ [PATH]: { kind: 'file', text: renderHookScript() } });
    const p = fakeProbe({ 'virt-seclabel': OK, "/opt/it's/virt-seclabel": OK });
    const same = await install(f.files, p.probe);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain(`virt-seclabel: ${PATH} is already this hook; nothing changed\n`);
    expect(same.stdout).toMatch(ACTIVE);
    expect(f.done).toEqual([]);
    const other = await install(f.files, p.probe, "/opt/it's/virt-seclabel");
    expect(other.code).toBe(0);
    expect(other.stdout).toContain(`plan: replace our ${PATH}`);
    expect(f.state.get(PATH)).toEqual({ kind: 'file', text: renderHookScript("/opt/it's/virt-seclabel") });
    expect(renderHookScript("/opt/it's/virt-seclabel")).toContain(`VIRT_SECLABEL='/opt/it'\\''s/virt-seclabel'`);
  });

  it('refuses to overwrite a file it did not write, or a symlink', async () => {
    for (const existing of [{ kind: 'file', text: '#!/bin/sh\nexit 0\n' }, { kind: 'other', what: 'a symbolic link' }] as ExistingHook[]) {
      const f = fakeFiles({ [PATH]: existing });
      const r = await install(f.files, fakeProbe({ 'virt-seclabel': OK }).probe);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^virt-seclabel: ${PATH}: refusing to overwrite (a file virt-seclabel did not write|a symbolic link, not a file virt-seclabel wrote)`));
      expect(f.done).toEqual([]);
    }
  });
});

describe('hook uninstall', () => {
  it('removes only its own file', async () => {
    const f = fakeFiles({ [PATH]: { kind: 'file', text: renderHookScript() } });
    const r = await run((io) => runHookUninstall('/etc/libvirt/hooks', f.files, io));
    expect(r.code).toBe(0);
    expect(f.done).toEqual([`remove ${PATH}`]);
    expect(r.stdout).toMatch(new RegExp(`^virt-seclabel: plan: remove ${PATH}\nvirt-seclabel: removed ${PATH}; libvirtd`));
    const mine = fakeFiles({ [PATH]: { kind: 'file', text: '#!/bin/sh\n' } });
    expect((await run((io) => runHookUninstall('/etc/libvirt/hooks', mine.files, io))).code).toBe(2);
    expect(mine.done).toEqual([]);
    const none = fakeFiles();
    expect(await run((io) => runHookUninstall('/etc/libvirt/hooks', none.files, io))).toMatchObject({ code: 0, stdout: `virt-seclabel: ${PATH} does not exist; nothing removed\n` });
  });
});

describe('the live effects on a scratch directory', () => {
  /** A stand-in virt-seclabel for the live probe: says nothing and exits 0 when it gets the probe's words. */
  const standIn = (dir: string) => {
    const bin = join(dir, 'stand-in');
    writeFileSync(bin, `#!/bin/sh\n[ "$*" = "hook -- ${PROBE_ARGS.join(' ')}" ] || exit 3\ncat >/dev/null\nexit 0\n`);
    chmodSync(bin, 0o755);
    return bin;
  };

  it('writes 0755 atomically (no temp file left), reads back, refuses a symlink it finds', async () => {
    mkdirSync(join(repo, '.tmp'), { recursive: true });
    const dir = mkdtempSync(join(repo, '.tmp', 'i12-hooks-'));
    const bin = standIn(dir);
    const r = await run((io) => runHookInstall({ hooksDir: dir, binary: bin, running: undefined }, { files: liveHookFiles, probe: liveHookProbe }, io));
    expect(r.code, r.stderr).toBe(0);
    const path = join(dir, 'qemu.d', 'virt-seclabel');
    const st = lstatSync(path);
    expect(st.mode & 0o7777).toBe(0o755);
    expect(st.uid).toBe(process.getuid!() === 0 ? 0 : st.uid);
    expect(readFileSync(path, 'utf8')).toBe(renderHookScript(bin));
    expect(readFileSync(join(repo, 'contrib/libvirt-hook/virt-seclabel'), 'utf8')).toBe(renderHookScript());
    expect(readdirSync(join(dir, 'qemu.d'))).toEqual(['virt-seclabel']);
    const other = join(dir, 'other');
    mkdirSync(join(other, 'qemu.d'), { recursive: true });
    writeFileSync(join(other, 'target'), 'x');
    symlinkSync(join(other, 'target'), join(other, 'qemu.d', 'virt-seclabel'));
    expect((await run((io) => runHookInstall({ hooksDir: other, binary: bin, running: undefined }, { files: liveHookFiles, probe: liveHookProbe }, io))).code).toBe(2);
    expect(readFileSync(join(other, 'target'), 'utf8')).toBe('x');
    rmSync(dir, { recursive: true, force: true });
  });

  it('the live probe runs with only the script\'s environment: a variable of ours does not reach the command', () => {
    const dir = mkdtempSync(join(repo, '.tmp', 'i12-probe-'));
    const bin = join(dir, 'env-dump');
    writeFileSync(bin, `#!/bin/sh\ncat >/dev/null\nenv | sort > '${dir}/env'\n`);
    chmodSync(bin, 0o755);
    process.env.VSL_PROBE_LEAK = 'leaked';
    try {
      const o = liveHookProbe.runShell(renderProbeScript(bin), PROBE_ARGS, PROBE_XML, PROBE_ENV);
      expect(o.status).toBe(0);
    } finally {
      delete process.env.VSL_PROBE_LEAK;
    }
    const env = readFileSync(join(dir, 'env'), 'utf8');
    expect(env).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
    expect(env).toContain('LC_ALL=C\n');
    expect(env).not.toContain('VSL_PROBE_LEAK');
    expect(env).not.toMatch(/^HOME=/m);
    rmSync(dir, { recursive: true, force: true });
  });
});

const cli = join(repo, 'dist/cli/main.js');
const noCli = missingRequirements({ files: [cli] });

describe.skipIf(noCli !== undefined)('hook install from a checkout, as a new user runs it (dist/cli/main.js)', () => {
  it('with no virt-seclabel on the script\'s PATH: exit 2, nothing written, and this program offered; with that --binary it installs', () => {
    mkdirSync(join(repo, '.tmp'), { recursive: true });
    const dir = mkdtempSync(join(repo, '.tmp', 'i12-checkout-'));
    const env = { ...process.env, PATH: `${join(dir, 'empty')}:/usr/bin:/bin` };
    const first = spawnSync(process.execPath, [cli, 'hook', 'install', '--hooks-dir', dir], { encoding: 'utf8', env });
    expect(first.status, first.stderr).toBe(2);
    expect(first.stdout).toBe('');
    expect(first.stderr).toContain('virt-seclabel: hook install: nothing written: the script would run `timeout --foreground -k 5 30 virt-seclabel hook -- ');
    expect(first.stderr).toContain('virt-seclabel: command not found in PATH=');
    expect(first.stderr).toContain('--binary');
    expect(existsSync(join(dir, 'qemu.d', 'virt-seclabel'))).toBe(false);
    const offered = /this program, (\S+), passes the same check: run install again with --binary (\S+)\n/.exec(first.stderr);
    expect(offered, first.stderr).not.toBeNull();
    expect(offered![1]).toBe(cli);

    // --hook-config in the scratch dir: install fills the hook's policy store next to it, not in /etc here.
    const second = spawnSync(process.execPath, [cli, 'hook', 'install', '--hooks-dir', dir, '--binary', offered![2]!, '--hook-config', join(dir, 'etc', 'hook.conf')], { encoding: 'utf8', env });
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toMatch(ACTIVE);
    // On a host with a policy (as root): planned, stored and checked; else it says why nothing was stored.
    expect(second.stdout).toMatch(/virt-seclabel: (stored \S+\/etc\/policy-store\/policy-\d+-[0-9a-f]{8}\.bin; |policy store: nothing stored: )/);
    // What it stores, its plan names first: the parsed policy and its projection.
    if (second.stdout.includes('virt-seclabel: stored ')) {
      expect(second.stdout).toMatch(/virt-seclabel: plan: store \S+ .* in \S+\/policy-\d+-[0-9a-f]{8}\.bin \(root 0600\), and its projection .* in \S+\/projection\.bin \(root 0600\)/);
      expect(second.stdout).toMatch(/stored \S+\/etc\/policy-store\/projection\.bin; /);
      expect(existsSync(join(dir, 'etc', 'policy-store', 'projection.bin'))).toBe(true);
    }
    expect(readFileSync(join(dir, 'qemu.d', 'virt-seclabel'), 'utf8')).toBe(renderHookScript(cli));
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('--dry-run', () => {
  it('install shows the check, the plan and the script, and writes nothing', async () => {
    const f = fakeFiles();
    const p = fakeProbe({ 'virt-seclabel': OK });
    const r = await run((io) => runHookInstall({ hooksDir: '/etc/libvirt/hooks', binary: undefined, running: undefined, dryRun: true }, { files: f.files, probe: p.probe }, io));
    expect(r.code).toBe(0);
    expect(f.done).toEqual([]);
    expect(r.stdout).toContain(`virt-seclabel: plan: write a new ${PATH} (root:root 0755)\nvirt-seclabel: dry run: nothing written (nor the hook's policy store); the script would be:\n${renderHookScript()}`);
  });

  it('uninstall shows the plan and removes nothing', async () => {
    const f = fakeFiles();
    await install(f.files, fakeProbe({ 'virt-seclabel': OK }).probe);
    const r = await run((io) => runHookUninstall('/etc/libvirt/hooks', f.files, io, true));
    expect(r).toEqual({ code: 0, stdout: `virt-seclabel: plan: remove ${PATH}\nvirt-seclabel: dry run: nothing removed\n`, stderr: '' });
    expect(f.done).toEqual([`write ${PATH}`]);
  });
});
