/**
 * A scratch directory for kernel comparisons, on a filesystem whose permission check is the kernel's
 * generic one: a fresh tmpfs when mounting is allowed; otherwise /dev/shm when it is a tmpfs (as in
 * unprivileged containers, whose / is often overlayfs, which the engine rightly refuses to vouch for);
 * otherwise /tmp. DAC_SCRATCH_NO_MOUNT=1 skips the mount, to reproduce a container's fallback.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mountOf, parseMountInfo } from '../../../src/host/mounts.js';

export interface Scratch {
  readonly base: string;
  readonly kind: 'tmpfs' | '/dev/shm' | '/tmp';
  /** Device nodes cannot be opened there (a nodev mount such as /dev/shm usually is). */
  readonly noDev: boolean;
  cleanup(): void;
}

function mountFor(path: string) {
  const m = parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  return m.ok ? mountOf(m.value, fs.realpathSync(path)) : undefined;
}

export function makeScratch(prefix: string): Scratch {
  const base = fs.mkdtempSync(`/tmp/${prefix}`);
  fs.chmodSync(base, 0o755);
  const mayMount = process.env.DAC_SCRATCH_NO_MOUNT !== '1';
  if (mayMount && spawnSync('mount', ['-t', 'tmpfs', '-o', 'mode=0755,size=512m', 'tmpfs', base]).status === 0) {
    return {
      base,
      kind: 'tmpfs',
      noDev: false,
      cleanup: () => {
        spawnSync('umount', [base]);
        fs.rmSync(base, { recursive: true, force: true });
      },
    };
  }
  const shmMount = fs.existsSync('/dev/shm') ? mountFor('/dev/shm') : undefined;
  if (shmMount?.fsType === 'tmpfs') {
    fs.rmdirSync(base);
    const shm = fs.mkdtempSync(`/dev/shm/${prefix}`);
    fs.chmodSync(shm, 0o755);
    return { base: shm, kind: '/dev/shm', noDev: shmMount.noDev, cleanup: () => fs.rmSync(shm, { recursive: true, force: true }) };
  }
  return { base, kind: '/tmp', noDev: mountFor(base)?.noDev ?? false, cleanup: () => fs.rmSync(base, { recursive: true, force: true }) };
}
