/**
 * Everything the hook does to the world, behind two small interfaces so tests can record instead:
 * HookLog (stderr plus syslog, for the check) and HookFiles (the qemu.d file, for install/uninstall).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, fchmodSync, fchownSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ExistingHook } from './install.js';
import { tempNameIn } from '../host/temp-name.js';
import { writeFully } from '../host/fd-io.js';

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

/** syslog through logger(1), only when a syslog socket exists (the journal provides /dev/log too). */
export function liveHookLog(stderr: NodeJS.WritableStream): HookLog {
  return {
    say(line, { syslog }) {
      stderr.write(`${line}\n`);
      if (!syslog || !existsSync('/dev/log')) return;
      spawnSync('logger', ['-t', 'virt-seclabel', '-p', 'daemon.warning', '--', line.replace(/^virt-seclabel: /, '')], { stdio: 'ignore', timeout: 5000 });
    },
  };
}

const TYPE_WORDS: Record<string, string> = { symlink: 'a symbolic link', directory: 'a directory', other: 'a special file' };

export const liveHookFiles: HookFiles = {
  inspect(path) {
    let st;
    try {
      st = lstatSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
      throw e;
    }
    const type = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other';
    if (type !== 'file') return { kind: 'other', what: TYPE_WORDS[type]! };
    // O_NOFOLLOW: the path was a regular file a moment ago; never read through a link put there since.
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return { kind: 'file', text: readFileSync(fd, 'utf8') };
    } finally {
      closeSync(fd);
    }
  },
  writeExecutable(path, text) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    const temp = tempNameIn(dirname(path), '.virt-seclabel.');
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o700);
    try {
      writeFully(fd, Buffer.from(text, 'utf8'));
      fchownSync(fd, 0, 0);
      fchmodSync(fd, 0o755);
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      unlinkSync(temp);
      throw e;
    }
    closeSync(fd);
    renameSync(temp, path);
  },
  remove(path) {
    unlinkSync(path);
  },
};
