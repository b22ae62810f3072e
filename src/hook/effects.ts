/**
 * Everything the hook does to the world, behind small interfaces so tests can record instead: HookLog
 * (stderr plus syslog, for the check) and HookFiles (the qemu.d file, for install/uninstall). The live
 * implementations are in src/adapters/hook/.
 */
import type { ExistingHook, StoreListing } from './install.js';

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
