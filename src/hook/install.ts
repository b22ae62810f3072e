/**
 * `hook install` / `hook uninstall` as plans: data computed from what is on disk now, shown before it
 * is carried out, and applied by commands/hook.ts over the HookFiles effects. Only a file carrying our
 * marker line is ever overwritten or removed; a symlink or anything else at that path is refused.
 * Before install writes anything it runs the script's own check command, with the script's PATH and
 * environment, through HookProbe: a guard that cannot run would let every start go on unchecked, so
 * install refuses (exit 2) instead of writing it.
 */
import { join } from 'node:path';
import type { HookProbe, ProbeOutcome } from './effects.js';
import { shellQuote } from '../shell-quote.js';
import { CACHE_ENTRY, RUNNING_ENTRY } from '../selinux/policy/cache-entry.js';
import {
  HOOK_FILE_NAME, HOOK_MARKER, HOOK_PATH, HOOK_REFUSE_EXIT, HOOK_TIMEOUT_SECONDS, PROBE_ARGS, TIMEOUT_PREFIX, PROBE_ENV, PROBE_XML, SYSLOG_TAG,
  renderProbeScript,
} from './script.js';

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

/** What is at the hook's policy store path now, as far as uninstall cares: each name, a regular file or not. */
export type StoreListing =
  | { readonly kind: 'absent' }
  | { readonly kind: 'directory'; readonly entries: readonly { readonly name: string; readonly file: boolean }[] }
  | { readonly kind: 'other'; readonly what: string };

export type StoreRemovalPlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'remove'; readonly dir: string; readonly files: readonly string[]; readonly removeDir: boolean; readonly left: readonly string[] }
  | { readonly kind: 'leave'; readonly dir: string; readonly why: string };

/** The files `hook install` writes into the store: the cache's entries, and the running policy's copy and instance. */
const isStoreEntry = (name: string) => CACHE_ENTRY.test(name) || RUNNING_ENTRY.test(name);

/**
 * What uninstall removes of the hook's policy store: the entries install writes (regular files by those
 * names), and the directory when nothing else is in it. Anything else there is left, and named.
 */
export function planStoreRemoval(dir: string, listing: StoreListing): StoreRemovalPlan {
  if (listing.kind === 'absent') return { kind: 'none' };
  if (listing.kind === 'other') return { kind: 'leave', dir, why: `${listing.what}, not the directory hook install makes` };
  const files = listing.entries.filter((e) => e.file && isStoreEntry(e.name)).map((e) => join(dir, e.name));
  const left = listing.entries.filter((e) => !(e.file && isStoreEntry(e.name))).map((e) => e.name);
  return { kind: 'remove', dir, files, removeDir: left.length === 0, left };
}

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

/** The check command as a person would type it, for messages. */
export function probeCommandText(binary: string): string {
  return `${TIMEOUT_PREFIX} ${shellQuote(binary)} hook -- ${PROBE_ARGS.join(' ')}`;
}

export type ProbeVerdict = { readonly ok: true } | { readonly ok: false; readonly why: string };

/** The first lines of what it said, on one line. */
function said(text: string): string {
  const lines = text.trim().split('\n').filter(Boolean);
  if (lines.length === 0) return '';
  const shown = lines.slice(0, 3).join(' / ');
  return `: ${shown.length > 400 ? `${shown.slice(0, 400)}…` : shown}${lines.length > 3 ? ' …' : ''}`;
}

/**
 * Whether the check can run as the script will run it. For a domain with nothing to check the hook exits
 * 0 and says nothing; anything else (not found, not executable, a crash, a timeout, output) is a hook
 * that would fail or speak at every start.
 */
export function judgeProbe(binary: string, o: ProbeOutcome): ProbeVerdict {
  const cmd = shellQuote(binary);
  if (o.error !== undefined) return { ok: false, why: `sh could not be run (${o.error})` };
  if (o.signal !== null) return { ok: false, why: `it was killed by ${o.signal}${said(o.stderr)}` };
  if (o.status === 127) return { ok: false, why: `${cmd}: command not found in PATH=${HOOK_PATH} (exit 127)${said(o.stderr)}` };
  if (o.status === 126) return { ok: false, why: `${cmd} cannot be executed (exit 126)${said(o.stderr)}` };
  if (o.status === 124 || o.status === 137) return { ok: false, why: `it ran past ${HOOK_TIMEOUT_SECONDS} s and was killed (exit ${o.status})` };
  if (o.status !== 0) return { ok: false, why: `it exited ${o.status}${said(o.stderr)}` };
  if (o.stdout !== '' || o.stderr !== '') return { ok: false, why: `it exited 0 but said something, where the hook says nothing for a domain with nothing to check${said(o.stderr + o.stdout)}` };
  return { ok: true };
}

export function probeHook(binary: string, probe: HookProbe): ProbeVerdict {
  return judgeProbe(binary, probe.runShell(renderProbeScript(binary), PROBE_ARGS, PROBE_XML, PROBE_ENV));
}

/** How to see that the hook is active, and where its lines go (install's last words). */
export const ACTIVE_NOTE = [
  `to see it active: a start whose relabel='no' is proven stale then fails, and \`virsh start\` shows "Hook script execution failed: ... unexpected exit status ${HOOK_REFUSE_EXIT}: virt-seclabel: VM: disk DEV (FILE): ... can no longer access it: ..."`,
  `every other start goes on; one with something to say (a disk it cannot re-check, a check that failed, virt-seclabel missing) is logged to syslog with the tag ${SYSLOG_TAG} (\`journalctl -t ${SYSLOG_TAG}\`) where /dev/log exists, else only in libvirtd's debug log; a start with nothing to check says nothing`,
];
