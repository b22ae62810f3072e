/**
 * Everything the hook does to the world, behind small interfaces so tests can record instead: HookLog
 * (stderr plus syslog, for the check) and HookFiles (the qemu.d file, for install/uninstall). The live
 * implementations are in src/adapters/hook/.
 */
import type { SelinuxOracle } from '../selinux/oracle.js';
import type { ExistingHook, StoreListing } from './install.js';
import type { DaemonContext } from './selinux-install.js';

export interface HookLog {
  /** A line for libvirt (stderr); `syslog` also sends it to syslog or the journal where there is one. */
  say(line: string, opts: { syslog: boolean }): void;
}

export interface HookFiles {
  inspect(path: string): ExistingHook;
  /** Atomically: root-owned 0755 temp file in the same directory, fsync, rename. */
  writeExecutable(path: string, text: string): void;
  remove(path: string): void;
}

/** The hook's policy store as uninstall sees and removes it (never through a symbolic link). */
export interface HookStoreFiles {
  list(dir: string): StoreListing;
  /** Removes the regular file `path` (not a link put there since list()). */
  removeFile(path: string): void;
  /** Removes the empty directory `dir`. */
  removeDir(dir: string): void;
}

/** What one run of a command gave back. `error` is set when it could not be started at all. */
export interface ProbeOutcome {
  readonly status: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error?: string;
}

export interface HookProbe {
  /** `sh -c SCRIPT sh ARGS...` with exactly `env` (nothing inherited) and `stdin`, waited for. */
  runShell(script: string, args: readonly string[], stdin: string, env: Readonly<Record<string, string>>): ProbeOutcome;
}

/**
 * What `hook install` reads and sets of the host's SELinux, where an SELinux kernel runs (otherwise there
 * is none). The live implementation: src/adapters/hook/selinux-host.ts, with the policy from app/.
 */
export interface HookSelinuxHost {
  /** The host's loaded policy, as the access engine answers it, or why it cannot be read. */
  oracle(): { readonly ok: true; readonly value: SelinuxOracle } | { readonly ok: false; readonly error: string };
  /** The contexts libvirt's daemons run in now, else the ones a system daemon gets under this policy. */
  daemonContexts(oracle: SelinuxOracle, security: string): readonly DaemonContext[];
  /** The label restorecon (a relabel) gives this path: matchpathcon's answer; undefined when it has none. */
  fileContextLabel(path: string): string | undefined;
  /** The label a file created at this path gets from its directory (or the nearest one that exists). */
  inheritedLabel(path: string): string | undefined;
  /** The context of the kernel's "security" initial SID, which `security { read_policy }` is checked against. */
  securityContext(): string | undefined;
  /** The file's label now. */
  label(path: string): string | undefined;
  setLabel(path: string, context: string): void;
}
