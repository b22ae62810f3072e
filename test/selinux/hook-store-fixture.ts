/**
 * What the hook's policy-store suites (hook-policy-store.test.ts, hook-projection.test.ts) share: Debian's
 * two policies (required in CI), root (a store the hook reads is root's), and store directories as
 * `hook install` leaves them, filled through openCacheDir and read through the hook's read-only store.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { openCacheDir, openReadOnlyStore } from '../../src/adapters/live/policy-cache-dir.js';
import type { PolicyCache } from '../../src/selinux/policy/cached-load.js';

export const root = process.getuid?.() === 0;
export const KEY = 'test build';
const DEBIAN = ['/etc/selinux/default/policy/policy.33', '/etc/selinux/mls/policy/policy.33'];
export const debian = DEBIAN.filter((p) => existsSync(p));
if (process.env.CI === 'true' && debian.length < DEBIAN.length) throw new Error(`CI needs ${DEBIAN.join(' and ')} (selinux-policy-default, selinux-policy-mls)`);
if (process.env.CI === 'true' && !root) throw new Error('CI runs this suite as root (a store the hook reads is root\'s)');

/** A maker of store directories (root's, 0700 once filled), each removed after its test. */
export function useStoreDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const parent = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(parent);
    return join(parent, 'policy-store');
  };
}

export const writer = (dir: string): PolicyCache => ({ store: openCacheDir(dir), key: KEY });
export const reader = (dir: string, key = KEY): PolicyCache => ({ store: openReadOnlyStore(dir), key });
