import { lazyBuiltin } from '../../builtins.js';
import { crc32Function } from '../../crc32.js';
import { decodeFlat, encodeFlat, isFlatPayload } from './flat-payload.js';
import type { Policy } from './model.js';

// Loaded when a structured clone is first written or read: never by the hook's DAC-only starts, nor by
// its SELinux ones, whose projection entry is a flat payload (flat-payload.ts; src/builtins.ts).
const v8 = lazyBuiltin<typeof import('node:v8')>('node:v8');

/**
 * One entry of the parsed-policy cache: the policy's own bytes next to the model loadPolicy made of them,
 * so that a later run with byte-identical policy bytes can skip the read (about 40 ms of cold code per
 * start, bench/startup.mjs). The bytes are compared in full rather than trusted to a checksum: a policy in a
 * snapshot repository is hostile input, and a CRC collision with a cached policy must never lend it that
 * policy's answers.
 *
 *   0   8  magic "VSLPOLC\n"
 *   8   4  key length K        (the build that wrote it: a different reader never sees this model)
 *   12  4  policy length P
 *   16  4  model length M
 *   20  4  CRC-32 of the model (damage on disk; the model is V8's structured-clone serialisation)
 *   24  K  key, UTF-8
 *   ..  P  the policy bytes
 *   ..  M  the model: V8's structured clone, or a flat payload (flat-payload.ts, told apart by its magic)
 * All numbers little-endian u32. Anything that does not match exactly is a miss, never an error: the caller
 * then reads the policy itself.
 */
const MAGIC = Buffer.from('VSLPOLC\n', 'latin1');
const HEADER = 24;

/** zlib's CRC-32 (src/crc32.ts): Node ≥ 20.15, without loading node:zlib's module where it can. */
const crc32 = crc32Function;

/** Without zlib.crc32 there is no cache at all: the model's check would be missing. */
export const cacheSupported = (): boolean => typeof crc32() === 'function';

/** The file name an entry for these bytes goes under: length and CRC pick the slot, the bytes decide. */
export function cacheEntryName(policy: Uint8Array): string {
  return `policy-${policy.length}-${crc32()!(policy).toString(16).padStart(8, '0')}.bin`;
}

/** Where the parts of an entry lie, from its head (the header and the key), for a reader that streams the policy part. */
export interface EntryLayout {
  readonly policyAt: number;
  readonly policyLength: number;
  readonly payloadAt: number;
  readonly payloadLength: number;
  readonly total: number;
  readonly payloadCrc: number;
}

/** How many bytes of an entry entryLayout needs for this key. */
export const entryHeadLength = (key: string): number => HEADER + Buffer.byteLength(key, 'utf8');

/** The layout of an entry written by `key`, from its first entryHeadLength(key) bytes; undefined for another key or no entry. */
export function entryLayout(key: string, head: Uint8Array): EntryLayout | undefined {
  const e = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const k = Buffer.from(key, 'utf8');
  if (e.length < HEADER + k.length || e.compare(MAGIC, 0, MAGIC.length, 0, MAGIC.length) !== 0) return undefined;
  if (e.readUInt32LE(8) !== k.length || k.compare(e, HEADER, HEADER + k.length) !== 0) return undefined;
  const policyAt = HEADER + k.length;
  const policyLength = e.readUInt32LE(12);
  const payloadLength = e.readUInt32LE(16);
  return { policyAt, policyLength, payloadAt: policyAt + policyLength, payloadLength, total: policyAt + policyLength + payloadLength, payloadCrc: e.readUInt32LE(20) };
}

/** A payload read apart from its entry: deserialised when its CRC matches, else undefined. */
export function decodePayload(payload: Uint8Array, crc: number): unknown {
  const check = crc32();
  if (!check || check(payload) !== crc) return undefined;
  try {
    return isFlatPayload(payload) ? decodeFlat(payload) : (v8().deserialize(payload) as unknown);
  } catch {
    return undefined;
  }
}

/**
 * The name of the hook's projection entry (the same layout, another payload: the projection of
 * projection.ts, keyed with its own suffix so neither reader ever takes the other's).
 */
export function projectionEntryName(): string {
  // One slot: the hook streams the policy against it (cached-load.ts's EntryStore.readAgainst) without
  // holding either whole, so it cannot name the slot by a checksum of the policy; the bytes decide.
  return PROJECTION_ENTRY;
}

const PROJECTION_ENTRY = 'projection.bin';

/** A parsed-policy entry's name (cacheEntryName) or the projection's: the cache's own files, pruned by age. */
export const CACHE_ENTRY = /^(?:policy-\d+-[0-9a-f]{8}|projection)\.bin$/;

/**
 * The hook store's copy of the running policy, and its record: the kernel instance it was read at and the projection made from it
 * (app/hook-policy-store.ts): read like entries, never pruned (install writes them and they go with the store).
 */
export const RUNNING_COPY = 'running-policy.bin';
export const RUNNING_INSTANCE = 'running-policy.instance';
export const RUNNING_ENTRY = /^running-policy\.(?:bin|instance)$/;

/** The entry as its four parts, to be written one after the other (a copy into one buffer costs ~5 ms). */
export function encodeCacheEntry(key: string, policyBytes: Uint8Array, model: Policy): Uint8Array[] {
  return encodeEntry(key, policyBytes, model);
}

/** The model stored in `entry` if it was written by `key` for exactly these policy bytes, else undefined. */
export function decodeCacheEntry(key: string, policyBytes: Uint8Array, entry: Uint8Array): Policy | undefined {
  return decodeEntry(key, policyBytes, entry) as Policy | undefined;
}

/**
 * An entry holding any payload (the caller checks its shape when reading): a structured clone, or with
 * `flat` a flat payload (flat-payload.ts: read without node:v8, for the hook's projection).
 */
export function encodeEntry(key: string, policyBytes: Uint8Array, model: unknown, flat = false): Uint8Array[] {
  const k = Buffer.from(key, 'utf8');
  const m = flat ? Buffer.concat(encodeFlat(model)) : v8().serialize(model);
  const head = Buffer.alloc(HEADER);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(k.length, 8);
  head.writeUInt32LE(policyBytes.length, 12);
  head.writeUInt32LE(m.length, 16);
  head.writeUInt32LE(crc32()!(m), 20);
  return [head, k, policyBytes, m];
}

/** The payload stored in `entry` if it was written by `key` for exactly these policy bytes, else undefined. */
export function decodeEntry(key: string, policyBytes: Uint8Array, entry: Uint8Array): unknown {
  const e = Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength);
  if (e.length < HEADER || e.compare(MAGIC, 0, MAGIC.length, 0, MAGIC.length) !== 0) return undefined;
  const k = Buffer.from(key, 'utf8');
  const keyLength = e.readUInt32LE(8);
  const policyLength = e.readUInt32LE(12);
  const modelLength = e.readUInt32LE(16);
  if (keyLength !== k.length || policyLength !== policyBytes.length) return undefined;
  if (e.length !== HEADER + keyLength + policyLength + modelLength) return undefined;
  let at = HEADER;
  if (k.compare(e, at, at + keyLength) !== 0) return undefined;
  at += keyLength;
  if (Buffer.compare(e.subarray(at, at + policyLength), policyBytes) !== 0) return undefined;
  at += policyLength;
  return decodePayload(e.subarray(at, at + modelLength), e.readUInt32LE(20));
}
