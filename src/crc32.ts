/**
 * zlib's CRC-32, without loading node:zlib's JS module: that module loads Node's whole stream stack (about
 * 3 ms, most of what the hook's SELinux call added over its DAC call; bench/hook-callgrind.sh) only to reach
 * one C function. The binding node:zlib itself calls is the same function on the same bytes
 * (test/selinux/flat-payload.test.ts compares them), as the shipped loader of dist/cli does for its code
 * cache (scripts/bundle.mjs). process.binding is deprecated in the documentation only (DEP0111, no warning
 * for zlib in Node 20); it warns under --pending-deprecation, so then, or when the binding or its crc32 is
 * missing (another Node), this is node:zlib's crc32, and undefined on a Node without one (before 20.15).
 */
import { lazyBuiltin } from './builtins.js';

type Crc32 = (data: Uint8Array) => number;
const zlib = lazyBuiltin<typeof import('node:zlib')>('node:zlib');

function pendingDeprecation(): boolean {
  return process.execArgv.includes('--pending-deprecation') || /--pending-deprecation/.test(process.env.NODE_OPTIONS ?? '') || !!process.env.NODE_PENDING_DEPRECATION;
}

function pick(): Crc32 | undefined {
  const proc = process as unknown as { binding?: (name: string) => { crc32?: (data: Uint8Array, value: number) => number } };
  if (!pendingDeprecation() && typeof proc.binding === 'function') {
    try {
      const b = proc.binding('zlib');
      const f = b.crc32;
      if (typeof f === 'function') return (data) => f.call(b, data, 0) >>> 0;
    } catch {
      // another Node: node:zlib below
    }
  }
  const own = (zlib() as { crc32?: Crc32 }).crc32;
  return typeof own === 'function' ? own : undefined;
}

let chosen: { f: Crc32 | undefined } | undefined;

/** The CRC-32 function, chosen at first call; undefined when this Node has none. */
export function crc32Function(): Crc32 | undefined {
  return (chosen ??= { f: pick() }).f;
}
