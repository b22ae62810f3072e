/**
 * The hook's effects on the live system: stderr plus syslog (HookLog), the qemu.d file (HookFiles), the
 * command install runs first (HookProbe), stdin, the config file reader and the running program's path. The interfaces and every decision are in src/hook/.
 */
import type * as ChildProcess from 'node:child_process';
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, realpathSync, rmdirSync, unlinkSync, constants, existsSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { HookFiles, HookLog, HookProbe, HookStoreFiles } from '../../hook/effects.js';
import { HOOK_TIMEOUT_SECONDS } from '../../hook/script.js';
import { lazyBuiltin } from '../../builtins.js';
import { writeFileAtomic } from '../atomic-write.js';

// node:child_process loads on first use: most hook runs log nothing and spawn nothing (about 4 ms).
const childProcess = lazyBuiltin<typeof ChildProcess>('node:child_process');

/**
 * The domain XML on descriptor 0, read synchronously: no stream and no libuv thread pool, a few ms of
 * every hook run (the script hands it a file). At most `limit` bytes, as readAll. A descriptor left in
 * non-blocking mode (EAGAIN) is read on through `rest` (the stream reader) after what was already read.
 */
export async function readLiveStdin(limit: number, rest: () => Promise<Uint8Array>): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    while (total < limit) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 16, limit - total));
      const n = readSync(0, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
  }
  return Buffer.concat([...chunks, await rest()]).subarray(0, limit);
}

/**
 * syslog through logger(1), only when a syslog socket exists (the journal provides /dev/log too).
 * `stderr` is asked for at the first line: a check that allows a start says nothing, and building
 * process.stderr on libvirt's pipe would load node:net and the stream stack for nothing.
 */
export function liveHookLog(stderr: () => NodeJS.WritableStream): HookLog {
  return {
    say(line, { syslog }) {
      stderr().write(`${line}\n`);
      if (!syslog || !existsSync('/dev/log')) return;
      childProcess().spawnSync('logger', ['-t', 'virt-seclabel', '-p', 'daemon.warning', '--', line.replace(/^virt-seclabel: /, '')], { stdio: 'ignore', timeout: 5000 });
    },
  };
}

/** The path's own inode (never a link's target); undefined when there is none (ENOENT), any other error thrown. */
function lstatOrAbsent(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** What the inode is, in the words the plans print. */
function typeWords(st: Stats): string {
  return st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a directory' : st.isFile() ? 'a file' : 'a special file';
}

export const liveHookFiles: HookFiles = {
  inspect(path) {
    const st = lstatOrAbsent(path);
    if (!st) return { kind: 'absent' };
    if (!st.isFile()) return { kind: 'other', what: typeWords(st) };
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
    // root:root 0755 whatever a file of ours there had; never through a link planted since inspect().
    writeFileAtomic({ path, data: Buffer.from(text, 'utf8'), create: { mode: 0o700 }, force: { mode: 0o755, owner: { uid: 0, gid: 0 } } });
  },
  remove(path) {
    unlinkSync(path);
  },
};

export const liveHookStoreFiles: HookStoreFiles = {
  list(dir) {
    const st = lstatOrAbsent(dir);
    if (!st) return { kind: 'absent' };
    if (!st.isDirectory()) return { kind: 'other', what: typeWords(st) };
    return { kind: 'directory', entries: readdirSync(dir, { withFileTypes: true }).map((e) => ({ name: e.name, file: e.isFile() })) };
  },
  removeFile(path) {
    // A regular file still (lstat: never a link put there since list()), then unlink, which never follows one.
    if (!lstatSync(path).isFile()) throw new Error('no longer a regular file');
    unlinkSync(path);
  },
  removeDir(dir) {
    rmdirSync(dir);
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

/** sh runs the probe; the script's own `timeout` ends a hung check first, this one a hung sh. */
export const liveHookProbe: HookProbe = {
  runShell(script, args, stdin, env) {
    const r = childProcess().spawnSync('sh', ['-c', script, 'sh', ...args], { input: stdin, env: { ...env }, encoding: 'utf8', timeout: (HOOK_TIMEOUT_SECONDS + 15) * 1000, maxBuffer: 1 << 20 });
    return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ...(r.error ? { error: r.error.message } : {}) };
  },
};

/** The absolute, link-free path of the program running now (dist/cli/main.js in a checkout), if known. */
export function runningProgram(argv1: string | undefined = process.argv[1]): string | undefined {
  if (!argv1) return undefined;
  try {
    return realpathSync(resolve(argv1));
  } catch {
    return undefined;
  }
}
