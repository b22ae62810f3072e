/**
 * Compiles the edge-case policy.conf files with the real checkpolicy into .tmp/, once per variant
 * (binary version, MLS, handle_unknown), again only when the source changed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const policiesDir = fileURLToPath(new URL('./policies/', import.meta.url));
const outDir = fileURLToPath(new URL('../../../.tmp/selinux-policies/', import.meta.url));

export type HandleUnknown = 'deny' | 'allow' | 'reject';

export interface Variant {
  readonly conf: string; // file name under policies/, without .conf
  readonly version: number;
  readonly mls: boolean;
  readonly handleUnknown: HandleUnknown;
}

export function variantName(v: Variant): string {
  return `${v.conf}.v${v.version}${v.mls ? '.mls' : ''}.${v.handleUnknown}`;
}

export function compilePolicy(v: Variant): string {
  const src = `${policiesDir}${v.conf}.conf`;
  const out = `${outDir}${variantName(v)}`;
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs) return out;
  mkdirSync(outDir, { recursive: true });
  // Suites run in parallel workers and share these files: compile under a private name, then rename,
  // so nobody ever reads a half-written policy.
  const partial = `${out}.${process.pid}.tmp`;
  const args = ['-U', v.handleUnknown, '-c', String(v.version), '-o', partial, src];
  if (v.mls) args.unshift('-M');
  execFileSync('checkpolicy', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  renameSync(partial, out);
  return out;
}

const range = (lo: number, hi: number): number[] => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);

/** Every variant the suite checks: each policy at every binary version that can express it. */
export function allVariants(): Variant[] {
  const v = (conf: string, versions: number[], mls = false, hus: HandleUnknown[] = ['deny']): Variant[] =>
    versions.flatMap((version) => hus.map((handleUnknown) => ({ conf, version, mls, handleUnknown })));
  return [
    ...v('constraints', range(24, 33)),
    ...v('conditionals', range(24, 33)),
    ...v('conditionals', [24, 33], false, ['allow', 'reject']),
    ...v('bounds', range(24, 33)),
    ...v('xperms', range(30, 33)), // ioctl extended permissions exist from version 30
    ...v('mls', range(24, 33), true),
    ...v('mls', [33], true, ['allow', 'reject']),
  ];
}
