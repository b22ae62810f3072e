/**
 * `hook uninstall` and the hook's policy store (/etc/virt-seclabel/policy-store, about 10 MB, which `hook
 * install` fills): its plan names the entries install wrote, it removes exactly those (and the directory
 * when nothing else is in it), leaves and names anything else, reports what it removed, and --dry-run
 * removes nothing. Through recording fakes as install.test.ts does, then the live effects on a scratch
 * directory, then the whole command from a checkout.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { liveHookStoreFiles } from '../../src/adapters/hook/live-effects.js';
import { runHookUninstall } from '../../src/commands/hook.js';
import type { HookFiles, HookStoreFiles } from '../../src/hook/effects.js';
import type { ExistingHook, StoreListing } from '../../src/hook/install.js';
import { renderHookScript } from '../../src/hook/script.js';
import { captureIo } from '../cli/harness.js';
import { missingRequirements } from '../support/requirements.js';

const repo = resolve(import.meta.dirname, '../..');
const PATH = '/etc/libvirt/hooks/qemu.d/virt-seclabel';
const STORE = '/etc/virt-seclabel/policy-store';
const MODEL = 'policy-2148201-7a711284.bin';

function fakes(hook: ExistingHook, listing: StoreListing) {
  const done: string[] = [];
  const files: HookFiles = {
    inspect: () => hook,
    writeExecutable: (p) => void done.push(`write ${p}`),
    remove: (p) => void done.push(`remove ${p}`),
  };
  const store: HookStoreFiles = {
    list: () => listing,
    removeFile: (p) => void done.push(`remove ${p}`),
    removeDir: (d) => void done.push(`rmdir ${d}`),
  };
  return { files, store, done };
}

async function uninstall(f: ReturnType<typeof fakes>, dryRun = false) {
  const c = captureIo();
  const code = runHookUninstall('/etc/libvirt/hooks', f.files, c.io, dryRun, { dir: STORE, files: f.store });
  await c.settle();
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

const ours: ExistingHook = { kind: 'file', text: renderHookScript() };
const installed: StoreListing = { kind: 'directory', entries: [{ name: MODEL, file: true }, { name: 'projection.bin', file: true }] };

describe('hook uninstall and the policy store', () => {
  it('plans the script and the entries install wrote, removes exactly those and the directory, and reports them', async () => {
    const f = fakes(ours, installed);
    const r = await uninstall(f);
    expect(r.code).toBe(0);
    expect(f.done).toEqual([`remove ${PATH}`, `remove ${STORE}/${MODEL}`, `remove ${STORE}/projection.bin`, `rmdir ${STORE}`]);
    expect(r.stdout).toBe(
      `virt-seclabel: plan: remove ${PATH}\n` +
        `virt-seclabel: plan: remove the hook's policy store that hook install wrote: ${STORE}/${MODEL}, ${STORE}/projection.bin, the directory ${STORE}\n` +
        `virt-seclabel: removed ${PATH}; libvirtd (or virtqemud) reads hooks only when it starts and on SIGHUP: run \`systemctl reload libvirtd\` (or send it SIGHUP) or restart it\n` +
        `virt-seclabel: removed ${STORE}/${MODEL}, ${STORE}/projection.bin, ${STORE}\n`,
    );
    expect(r.stderr).toBe('');
  });

  it('--dry-run shows the same plan and removes nothing', async () => {
    const f = fakes(ours, installed);
    const r = await uninstall(f, true);
    expect(r.code).toBe(0);
    expect(f.done).toEqual([]);
    expect(r.stdout).toContain(`virt-seclabel: plan: remove the hook's policy store that hook install wrote: ${STORE}/${MODEL}, ${STORE}/projection.bin, the directory ${STORE}\n`);
    expect(r.stdout).toMatch(/virt-seclabel: dry run: nothing removed\n$/);
  });

  it('leaves, and names, what install did not write: other names, a directory in it, a store that is a link', async () => {
    const f = fakes(ours, { kind: 'directory', entries: [{ name: 'projection.bin', file: true }, { name: 'notes.txt', file: true }, { name: MODEL, file: false }] });
    const r = await uninstall(f);
    expect(r.code).toBe(0);
    expect(f.done).toEqual([`remove ${PATH}`, `remove ${STORE}/projection.bin`]);
    expect(r.stdout).toContain(`virt-seclabel: policy store: leaving ${STORE} and what hook install did not write in it: notes.txt, ${MODEL}\n`);
    const link = fakes(ours, { kind: 'other', what: 'a symbolic link' });
    expect((await uninstall(link)).stdout).toContain(`virt-seclabel: policy store: leaving ${STORE}: a symbolic link, not the directory hook install makes\n`);
    expect(link.done).toEqual([`remove ${PATH}`]);
  });

  it('a store left without the script is still removed; nothing of either is nothing removed; a refused script touches no store', async () => {
    const f = fakes({ kind: 'absent' }, installed);
    const r = await uninstall(f);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^virt-seclabel: ${PATH} does not exist; nothing removed\nvirt-seclabel: plan: remove the hook's policy store`));
    expect(f.done).toEqual([`remove ${STORE}/${MODEL}`, `remove ${STORE}/projection.bin`, `rmdir ${STORE}`]);
    const none = fakes({ kind: 'absent' }, { kind: 'absent' });
    expect(await uninstall(none)).toEqual({ code: 0, stdout: `virt-seclabel: ${PATH} does not exist; nothing removed\n`, stderr: '' });
    const foreign = fakes({ kind: 'file', text: '#!/bin/sh\n' }, installed);
    expect((await uninstall(foreign)).code).toBe(2);
    expect(foreign.done).toEqual([]);
  });

  it('the live store effects: lists names and kinds, removes a regular file but never through a link, removes the emptied directory', () => {
    mkdirSync(join(repo, '.tmp'), { recursive: true });
    const dir = mkdtempSync(join(repo, '.tmp', 'uninstall-store-'));
    try {
      const store = join(dir, 'policy-store');
      expect(liveHookStoreFiles.list(store)).toEqual({ kind: 'absent' });
      mkdirSync(store, { mode: 0o700 });
      writeFileSync(join(store, 'projection.bin'), 'x');
      writeFileSync(join(dir, 'elsewhere'), 'keep');
      symlinkSync(join(dir, 'elsewhere'), join(store, MODEL));
      const listing = liveHookStoreFiles.list(store);
      expect(listing.kind === 'directory' && [...listing.entries].sort((a, b) => a.name.localeCompare(b.name))).toEqual([{ name: MODEL, file: false }, { name: 'projection.bin', file: true }]);
      expect(() => liveHookStoreFiles.removeFile(join(store, MODEL))).toThrow();
      expect(existsSync(join(dir, 'elsewhere'))).toBe(true);
      liveHookStoreFiles.removeFile(join(store, 'projection.bin'));
      expect(readdirSync(store)).toEqual([MODEL]);
      expect(() => liveHookStoreFiles.removeDir(store)).toThrow();
      rmSync(join(store, MODEL));
      liveHookStoreFiles.removeDir(store);
      expect(existsSync(store)).toBe(false);
      symlinkSync(dir, store);
      expect(liveHookStoreFiles.list(store)).toEqual({ kind: 'other', what: 'a symbolic link' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const cli = join(repo, 'dist/cli/main.js');
const noCli = missingRequirements({ files: [cli] });

describe.skipIf(noCli !== undefined)('hook install then uninstall from a checkout (dist/cli/main.js)', () => {
  it('uninstall --dry-run leaves the store install filled; uninstall removes it and says so', () => {
    mkdirSync(join(repo, '.tmp'), { recursive: true });
    const dir = mkdtempSync(join(repo, '.tmp', 'uninstall-checkout-'));
    try {
      const config = ['--hooks-dir', dir, '--hook-config', join(dir, 'etc', 'hook.conf')];
      const store = join(dir, 'etc', 'policy-store');
      const inst = spawnSync(process.execPath, [cli, 'hook', 'install', ...config, '--binary', cli], { encoding: 'utf8' });
      expect(inst.status, inst.stderr).toBe(0);
      // Where this host has no policy to store (or is not root), the store is made by hand as install lays it out.
      if (!existsSync(store)) {
        mkdirSync(store, { recursive: true, mode: 0o700 });
        for (const n of [MODEL, 'projection.bin']) writeFileSync(join(store, n), 'x', { mode: 0o600 });
      }
      const names = readdirSync(store).sort();
      expect(names).toEqual(expect.arrayContaining(['projection.bin']));
      const dry = spawnSync(process.execPath, [cli, 'hook', 'uninstall', ...config, '--dry-run'], { encoding: 'utf8' });
      expect(dry.status, dry.stderr).toBe(0);
      expect(dry.stdout).toContain(`virt-seclabel: plan: remove the hook's policy store that hook install wrote: ${names.map((n) => join(store, n)).join(', ')}, the directory ${store}\n`);
      expect(dry.stdout).toContain('virt-seclabel: dry run: nothing removed\n');
      expect(readdirSync(store).sort()).toEqual(names);
      expect(existsSync(join(dir, 'qemu.d', 'virt-seclabel'))).toBe(true);
      const un = spawnSync(process.execPath, [cli, 'hook', 'uninstall', ...config], { encoding: 'utf8' });
      expect(un.status, un.stderr).toBe(0);
      expect(un.stdout).toContain(`virt-seclabel: removed ${names.map((n) => join(store, n)).join(', ')}, ${store}\n`);
      expect(existsSync(store)).toBe(false);
      expect(existsSync(join(dir, 'qemu.d', 'virt-seclabel'))).toBe(false);
      // The config directory install's store went into stays: hook.conf is the person's, not install's.
      expect(existsSync(join(dir, 'etc'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
