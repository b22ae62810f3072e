/**
 * `hook install` / `hook uninstall` as plans: data computed from what is on disk now, shown before it
 * is carried out, and applied by a thin applier over the HookFiles effects. Only a file carrying our
 * marker line is ever overwritten or removed; a symlink or anything else at that path is refused.
 */
import { join } from 'node:path';
import { EXIT, type CliIo, type ExitCode } from '../app/command-io.js';
import type { HookFiles } from './effects.js';
import { HOOK_FILE_NAME, HOOK_MARKER, renderHookScript } from './script.js';

/** What is at the hook path now, as far as install cares. */
export type ExistingHook =
  | { readonly kind: 'absent' }
  | { readonly kind: 'file'; readonly text: string }
  | { readonly kind: 'other'; readonly what: string };

export type InstallPlan =
  | { readonly kind: 'write'; readonly path: string; readonly text: string; readonly replacing: boolean }
  | { readonly kind: 'unchanged'; readonly path: string }
  | { readonly kind: 'refuse'; readonly path: string; readonly why: string };

export type UninstallPlan =
  | { readonly kind: 'remove'; readonly path: string }
  | { readonly kind: 'absent'; readonly path: string }
  | { readonly kind: 'refuse'; readonly path: string; readonly why: string };

export function hookPath(hooksDir: string): string {
  return join(hooksDir, 'qemu.d', HOOK_FILE_NAME);
}

const ours = (text: string) => text.split('\n').slice(0, 3).includes(HOOK_MARKER);

export function planInstall(path: string, existing: ExistingHook, text: string): InstallPlan {
  if (existing.kind === 'other') return { kind: 'refuse', path, why: `${existing.what}, not a file virt-seclabel wrote` };
  if (existing.kind === 'absent') return { kind: 'write', path, text, replacing: false };
  if (!ours(existing.text)) return { kind: 'refuse', path, why: 'a file virt-seclabel did not write (no virt-seclabel-hook marker line)' };
  if (existing.text === text) return { kind: 'unchanged', path };
  return { kind: 'write', path, text, replacing: true };
}

export function planUninstall(path: string, existing: ExistingHook): UninstallPlan {
  if (existing.kind === 'absent') return { kind: 'absent', path };
  if (existing.kind === 'other') return { kind: 'refuse', path, why: `${existing.what}, not a file virt-seclabel wrote` };
  if (!ours(existing.text)) return { kind: 'refuse', path, why: 'a file virt-seclabel did not write (no virt-seclabel-hook marker line)' };
  return { kind: 'remove', path };
}

export const RELOAD_NOTE =
  'libvirtd (or virtqemud) reads hooks only when it starts and on SIGHUP: run `systemctl reload libvirtd` (or send it SIGHUP) or restart it';

export function runHookInstall(hooksDir: string, binary: string | undefined, files: HookFiles, io: CliIo): ExitCode {
  const path = hookPath(hooksDir);
  const plan = planInstall(path, files.inspect(path), renderHookScript(binary));
  if (plan.kind === 'refuse') {
    io.stderr.write(`virt-seclabel: ${path}: refusing to overwrite ${plan.why}\n`);
    return EXIT.error;
  }
  if (plan.kind === 'unchanged') {
    io.stdout.write(`virt-seclabel: ${path} is already this hook; nothing changed\n`);
    return EXIT.ok;
  }
  io.stdout.write(`virt-seclabel: plan: ${plan.replacing ? 'replace our' : 'write a new'} ${path} (root:root 0755)\n`);
  try {
    files.writeExecutable(path, plan.text);
  } catch (e) {
    io.stderr.write(`virt-seclabel: ${path}: nothing written: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.error;
  }
  io.stdout.write(`virt-seclabel: wrote ${path} (root:root 0755); ${RELOAD_NOTE}\n`);
  return EXIT.ok;
}

export function runHookUninstall(hooksDir: string, files: HookFiles, io: CliIo): ExitCode {
  const path = hookPath(hooksDir);
  const plan = planUninstall(path, files.inspect(path));
  if (plan.kind === 'refuse') {
    io.stderr.write(`virt-seclabel: ${path}: refusing to remove ${plan.why}\n`);
    return EXIT.error;
  }
  if (plan.kind === 'absent') {
    io.stdout.write(`virt-seclabel: ${path} does not exist; nothing removed\n`);
    return EXIT.ok;
  }
  io.stdout.write(`virt-seclabel: plan: remove ${path}\n`);
  try {
    files.remove(path);
  } catch (e) {
    io.stderr.write(`virt-seclabel: ${path}: not removed: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.error;
  }
  io.stdout.write(`virt-seclabel: removed ${path}; ${RELOAD_NOTE}\n`);
  return EXIT.ok;
}
