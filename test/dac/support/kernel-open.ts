/**
 * Asks the kernel: one unprivileged helper process per identity (setpriv, every capability dropped,
 * bounding set included so uid 0 gets none either) opens many paths and reports each errno.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Identity } from './scenarios.js';

const SCRIPT = readFileSync(new URL('./open-as.py', import.meta.url), 'utf8');

export interface KernelAnswers {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
  readonly capEff: string;
  readonly results: readonly string[];
}

export function kernelOpen(id: Identity, requests: readonly (readonly [string, 'read' | 'readwrite'])[]): KernelAnswers {
  const groups = id.groups.length > 0 ? [`--groups=${id.groups.join(',')}`] : ['--clear-groups'];
  const args = [
    `--reuid=${id.uid}`,
    `--regid=${id.gid}`,
    ...groups,
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--',
    '/usr/bin/python3',
    '-I',
    '-S',
    '-c',
    SCRIPT,
  ];
  const run = spawnSync('setpriv', args, { input: JSON.stringify(requests), maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`setpriv helper failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as KernelAnswers;
}

/** The errno classes the engine is compared on; errors raised after the permission check count as success. */
export function kernelClass(errno: string): string {
  switch (errno) {
    case 'OK':
    case 'ENXIO': // device node without a driver, or a socket: opened past the permission check
    case 'ENODEV':
      return 'ok';
    case 'EPERM':
      return 'EACCES';
    default:
      return errno;
  }
}
