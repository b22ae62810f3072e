/**
 * `hook install` / `hook uninstall`: plans shown first, only our own file written or removed, through a
 * recording fake of the file effects; the live applier once on a scratch directory; the packaged
 * contrib script is exactly what install writes by default.
 */
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { liveHookFiles } from '../../src/adapters/hook/live-effects.js';
import type { HookFiles } from '../../src/hook/effects.js';
import { runHookInstall, runHookUninstall, type ExistingHook } from '../../src/hook/install.js';
import { renderHookScript } from '../../src/hook/script.js';
import { captureIo } from '../cli/harness.js';

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

const PATH = '/etc/libvirt/hooks/qemu.d/virt-seclabel';

async function run(f: (io: ReturnType<typeof captureIo>['io']) => number) {
  const c = captureIo();
  const code = f(c.io);
  await c.settle();
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

describe('hook install', () => {
  it('shows the plan, writes the script, and says libvirtd needs a SIGHUP or restart', async () => {
    const f = fakeFiles();
    const r = await run((io) => runHookInstall('/etc/libvirt/hooks', undefined, f.files, io));
    expect(r.code).toBe(0);
    expect(f.done).toEqual([`write ${PATH}`]);
    expect(r.stdout).toBe(
      `virt-seclabel: plan: write a new ${PATH} (root:root 0755)\n` +
        `virt-seclabel: wrote ${PATH} (root:root 0755); libvirtd (or virtqemud) reads hooks only when it starts and on SIGHUP: run \`systemctl reload libvirtd\` (or send it SIGHUP) or restart it\n`,
    );
  });

  it('a second install changes nothing; a different --binary replaces our own file', async () => {
    const f = fakeFiles({ [PATH]: { kind: 'file', text: renderHookScript() } });
    const same = await run((io) => runHookInstall('/etc/libvirt/hooks', undefined, f.files, io));
    expect(same).toMatchObject({ code: 0, stdout: `virt-seclabel: ${PATH} is already this hook; nothing changed\n` });
    expect(f.done).toEqual([]);
    const other = await run((io) => runHookInstall('/etc/libvirt/hooks', "/opt/it's/virt-seclabel", f.files, io));
    expect(other.code).toBe(0);
    expect(other.stdout).toContain(`plan: replace our ${PATH}`);
    expect(f.state.get(PATH)).toEqual({ kind: 'file', text: renderHookScript("/opt/it's/virt-seclabel") });
    expect(renderHookScript("/opt/it's/virt-seclabel")).toContain(`VIRT_SECLABEL='/opt/it'\\''s/virt-seclabel'`);
  });

  it('refuses to overwrite a file it did not write, or a symlink', async () => {
    for (const existing of [{ kind: 'file', text: '#!/bin/sh\nexit 0\n' }, { kind: 'other', what: 'a symbolic link' }] as ExistingHook[]) {
      const f = fakeFiles({ [PATH]: existing });
      const r = await run((io) => runHookInstall('/etc/libvirt/hooks', undefined, f.files, io));
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

describe('the live file effects on a scratch directory', () => {
  it('writes 0755 atomically (no temp file left), reads back, refuses a symlink it finds', async () => {
    const dir = mkdtempSync(join(repo, '.tmp', 'i12-hooks-'));
    const r = await run((io) => runHookInstall(dir, undefined, liveHookFiles, io));
    expect(r.code, r.stderr).toBe(0);
    const path = join(dir, 'qemu.d', 'virt-seclabel');
    const st = lstatSync(path);
    expect(st.mode & 0o7777).toBe(0o755);
    expect(st.uid).toBe(process.getuid!() === 0 ? 0 : st.uid);
    expect(readFileSync(path, 'utf8')).toBe(renderHookScript());
    expect(readFileSync(join(repo, 'contrib/libvirt-hook/virt-seclabel'), 'utf8')).toBe(renderHookScript());
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(join(dir, 'qemu.d'))).toEqual(['virt-seclabel']);
    const other = join(dir, 'other');
    mkdirSync(join(other, 'qemu.d'), { recursive: true });
    writeFileSync(join(other, 'target'), 'x');
    symlinkSync(join(other, 'target'), join(other, 'qemu.d', 'virt-seclabel'));
    expect((await run((io) => runHookInstall(other, undefined, liveHookFiles, io))).code).toBe(2);
    expect(readFileSync(join(other, 'target'), 'utf8')).toBe('x');
    rmSync(dir, { recursive: true, force: true });
  });
});
