/**
 * Between live answers (Lookup<T> with Uint8Array values) and stored ones (JSON, bytes as base64), and
 * the key that identifies one call. Recording and replay share these so they can never disagree on
 * what "the same call" is.
 */
import { Buffer } from 'node:buffer';
import type { Lookup } from '../../host/view.js';
import type { StoredBytes, StoredLookup } from './format.js';

export function storeLookup<T, S>(l: Lookup<T>, encode: (v: T) => S): StoredLookup<S> {
  if (l.kind === 'ok') return { kind: 'ok', value: encode(l.value) };
  if (l.kind === 'missing') return { kind: 'missing', errno: l.errno };
  return { kind: 'unknown', why: l.why };
}

export function loadLookup<S, T>(s: StoredLookup<S>, decode: (v: S) => T): Lookup<T> {
  if (s.kind === 'ok') return { kind: 'ok', value: decode(s.value) };
  if (s.kind === 'missing') return { kind: 'missing', errno: s.errno };
  return { kind: 'unknown', why: s.why };
}

export const toBase64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/** Strict: parse.ts has already checked the alphabet and padding, so this is a plain decode. */
export const fromBase64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

export function toStoredBytes(b: Uint8Array): StoredBytes {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return { head: toBase64(b.subarray(0, end)), zeros: b.length - end };
}

/** Canonical base64 (RFC 4648, padded): the only form a facts file may carry. */
export function isBase64(s: string): boolean {
  return s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s);
}

/** One key per distinct call; NUL cannot occur in a path, so it separates fields unambiguously. */
export function callKey(op: string, path: string, ...extra: number[]): string {
  return [op, path, ...extra].join('\0');
}

/**
 * JSON text with object keys sorted, so two requests equal as data get the same key whatever order their
 * fields were built in. undefined when the value is not plain data (a Set, Map, typed array, bigint,
 * NaN...): JSON.stringify would flatten those silently and let different questions share one answer.
 */
export function canonicalJson(value: unknown): string | undefined {
  const plain = plainData(value, 0);
  return plain === NOT_PLAIN ? undefined : JSON.stringify(plain);
}

const NOT_PLAIN = Symbol('not plain data');
/** Requests are small; a deeper structure is a bug or hostile, never something to recurse into. */
const MAX_DEPTH = 32;

function plainData(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) return NOT_PLAIN;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : NOT_PLAIN;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) {
      const p = plainData(v, depth + 1);
      if (p === NOT_PLAIN) return NOT_PLAIN;
      out.push(p);
    }
    return out;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v === undefined) continue;
      const p = plainData(v, depth + 1);
      if (p === NOT_PLAIN) return NOT_PLAIN;
      out[k] = p;
    }
    return out;
  }
  return NOT_PLAIN;
}

/** The key of a question asked as an identity: the call's, then who asked and how (groups as a set). */
export function identityKey(op: string, path: string, who: { readonly uid: number; readonly gid: number; readonly groups: readonly number[] }, ...extra: (string | number)[]): string {
  const groups = [...new Set(who.groups)].sort((a, b) => a - b).join(',');
  return [op, path, who.uid, who.gid, groups, ...extra].join('\0');
}
