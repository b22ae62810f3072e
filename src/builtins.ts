/**
 * Node builtins loaded on first use, not at import. libvirt runs the hook at every VM start and its Node
 * call is measured against `node -e 0` (bench/hook-start.mjs): node:child_process, node:zlib, node:crypto,
 * node:os and node:v8 each cost milliseconds to load (child_process brings net and the stream stack), and
 * a start that spawns, hashes and serialises nothing should not pay for them.
 */
import { createRequire } from 'node:module';

const requireFromHere = createRequire(import.meta.url);

/** A getter for builtin `id`, loading it at its first call: `const cp = lazyBuiltin<typeof import('node:child_process')>('node:child_process')`. */
export function lazyBuiltin<T>(id: `node:${string}`): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireFromHere(id) as T);
}
