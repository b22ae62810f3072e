import type { ByteReader } from './reader.js';

/**
 * An extensible bitmap (libsepol's ebitmap) held as the sorted list of its set bit positions.
 * Policy bitmaps are sparse in practice (a type's attributes, a level's categories, a role's types),
 * so a sorted Uint32Array is both compact and fast: membership is a binary search, and iteration is a
 * plain loop. Bit positions are 0-based, exactly as in the file.
 */
export type Ebitmap = Uint32Array;

export const EMPTY_EBITMAP: Ebitmap = new Uint32Array(0);

const MAPSIZE = 64;
let scratch = new Uint32Array(1024);

/**
 * Reads one ebitmap, refusing what libsepol's ebitmap_read refuses: a node size other than 64, a high bit
 * that is not a multiple of 64, nodes out of order or beyond the high bit, empty nodes, a high bit that
 * does not match the last node.
 */
export function readEbitmap(r: ByteReader): Ebitmap {
  return readEbitmapInto(r, 'copy');
}

/**
 * Reads an ebitmap into a shared scratch buffer and returns a view of it that is only valid until the
 * next read: for callers that pack many bitmaps into one array (see PackedSets) instead of keeping one
 * typed array each, which keeps the garbage collector from copying thousands of small objects.
 */
export function readEbitmapTransient(r: ByteReader): Uint32Array {
  return readEbitmapInto(r, 'scratch');
}

/**
 * Checks and steps over an ebitmap the model does not keep (the un-expanded type sets kept next to
 * constraint names for policy tools): same refusals, no allocation.
 */
export function skipEbitmap(r: ByteReader): void {
  readEbitmapInto(r, 'skip');
}

type Mode = 'copy' | 'scratch' | 'skip';

function readEbitmapInto(r: ByteReader, mode: 'copy' | 'scratch'): Ebitmap;
function readEbitmapInto(r: ByteReader, mode: 'skip'): undefined;
function readEbitmapInto(r: ByteReader, mode: Mode): Ebitmap | undefined {
  const keep = mode !== 'skip';
  const at = r.offset;
  const mapsize = r.u32('ebitmap map size');
  const highbit = r.u32('ebitmap high bit');
  const count = r.u32('ebitmap node count');
  if (mapsize !== MAPSIZE) r.fail(`ebitmap map size ${mapsize} is not ${MAPSIZE}`, at);
  if (highbit === 0) {
    if (count !== 0) r.fail('ebitmap with high bit 0 has nodes', at);
    return keep ? EMPTY_EBITMAP : undefined;
  }
  if (highbit % MAPSIZE !== 0) r.fail(`ebitmap high bit ${highbit} is not a multiple of ${MAPSIZE}`, at);
  if (count === 0) r.fail('ebitmap has a high bit but no nodes', at);
  if (count > Math.floor(r.remaining / 12)) r.fail(`ebitmap node count ${count} cannot fit in what is left`, at);
  if (keep && scratch.length < count * MAPSIZE) scratch = new Uint32Array(Math.max(count * MAPSIZE, scratch.length * 2));
  // The count fits (checked above), so the nodes are read straight from the view.
  const v = r.dataView;
  const base = r.offset;
  r.advance(count * 12);
  let n = 0;
  let last = -1;
  for (let i = 0; i < count; i++) {
    const nodeAt = base + i * 12;
    const start = v.getUint32(nodeAt, true);
    const lo = v.getUint32(nodeAt + 4, true);
    const hi = v.getUint32(nodeAt + 8, true);
    if (start % MAPSIZE !== 0) r.fail(`ebitmap start bit ${start} is not a multiple of ${MAPSIZE}`, nodeAt);
    if (start > highbit - MAPSIZE) r.fail(`ebitmap start bit ${start} is beyond the high bit ${highbit}`, nodeAt);
    if (start <= last) r.fail(`ebitmap start bit ${start} does not come after ${last}`, nodeAt);
    if (lo === 0 && hi === 0) r.fail(`ebitmap node at start bit ${start} is empty`, nodeAt);
    last = start;
    if (!keep) continue;
    n = pushBits(lo, start, n);
    n = pushBits(hi, start + 32, n);
  }
  if (last + MAPSIZE !== highbit) r.fail(`ebitmap high bit ${highbit} does not follow its last node ${last}`, at);
  if (mode === 'skip') return undefined;
  return mode === 'copy' ? scratch.slice(0, n) : scratch.subarray(0, n);
}

function pushBits(word: number, base: number, n: number): number {
  let w = word >>> 0;
  while (w !== 0) {
    const low = w & -w;
    scratch[n++] = base + 31 - Math.clz32(low);
    w = (w ^ low) >>> 0;
  }
  return n;
}

export function ebitmapHas(map: Ebitmap, bit: number): boolean {
  let lo = 0;
  let hi = map.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = map[mid]!;
    if (v === bit) return true;
    if (v < bit) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Every bit of `sub` is set in `sup` (libsepol's ebitmap_contains). */
export function ebitmapContains(sup: ArrayLike<number>, sub: ArrayLike<number>): boolean {
  let i = 0;
  for (let j = 0; j < sub.length; j++) {
    const want = sub[j]!;
    while (i < sup.length && sup[i]! < want) i++;
    if (i >= sup.length || sup[i] !== want) return false;
  }
  return true;
}

export function ebitmapEquals(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Builds a bitmap from arbitrary positions (sorted, deduplicated). */
export function ebitmapFrom(bits: Iterable<number>): Ebitmap {
  const sorted = [...new Set(bits)].sort((x, y) => x - y);
  return Uint32Array.from(sorted);
}
