/**
 * The hook's effects on the live system: stderr plus syslog (HookLog), the qemu.d file (HookFiles), and
 * the config file reader. The interfaces and every decision are in src/hook/.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, fchmodSync, fchownSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { HookFiles, HookLog } from '../../hook/effects.js';
import { tempNameIn } from '../../host/temp-name.js';
import { writeFully } from '../../host/fd-io.js';

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

/** The live config reader: a missing file means the defaults. */
export function configReader(file: string): () => { text: string; file: string } | undefined {
  return () => {
    try {
      return { text: readFileSync(file, 'utf8'), file };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  };
}
