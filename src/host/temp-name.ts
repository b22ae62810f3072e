import { join } from 'node:path';
import { lazyBuiltin } from '../builtins.js';

const crypto = lazyBuiltin<typeof import('node:crypto')>('node:crypto');

/**
 * A name for a temporary file in `dir`, to be created with O_EXCL and renamed over its target: random, so
 * that a name another writer (or a stale crash leftover) already holds is not hit twice.
 * node:crypto is loaded here on first use rather than imported: loading it costs about 2 ms of every start,
 * and most runs write nothing.
 */
export function tempNameIn(dir: string, stem: string): string {
  return join(dir, `${stem}${crypto().randomBytes(6).toString('hex')}.tmp`);
}
