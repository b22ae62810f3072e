/**
 * Everything the hook does to the world, behind small interfaces so tests can record instead: HookLog
 * (stderr plus syslog, for the check) and HookFiles (the qemu.d file, for install/uninstall). The live
 * implementations are in src/adapters/hook/.
 */
import type { ExistingHook } from './install.js';

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
