/**
 * What `hook install` and `hook uninstall` do to the live system: the qemu.d file (HookFiles), the policy
 * store's files (HookStoreFiles), the command install runs first (HookProbe) and the running program's path.
 * The check libvirt runs has its own, smaller set (live-check.ts), so that the hook's bundle for every VM
 * start carries none of this. The interfaces and every decision are in src/hook/.
 */
import type * as ChildProcess from 'node:child_process';
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, rmdirSync, unlinkSync, constants, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { HookFiles, HookProbe, HookStoreFiles } from '../../hook/effects.js';
import { HOOK_TIMEOUT_SECONDS } from '../../hook/script.js';
import { lazyBuiltin } from '../../builtins.js';
import { writeFileAtomic } from '../atomic-write.js';

// node:child_process loads on first use (about 4 ms): only the probe spawns.
const childProcess = lazyBuiltin<typeof ChildProcess>('node:child_process');

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
