/**
 * The check's effects on the live system (libvirt's call at every VM start with something to check):
 * stdin, stderr plus syslog (HookLog) and the hook's config file. Install's are in live-effects.ts.
 */
import type * as ChildProcess from 'node:child_process';
import { existsSync, readFileSync, readSync } from 'node:fs';
import type { HookLog } from '../../hook/effects.js';
import { lazyBuiltin } from '../../builtins.js';

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
