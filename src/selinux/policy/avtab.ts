import { AVTAB, type AvTable, type XpermsDatum } from './model.js';
import type { ByteReader } from './reader.js';

const SPECIFIER_BITS = AVTAB.AV | AVTAB.TYPE | AVTAB.XPERMS;
const MIN_ENTRY_BYTES = 12;

export interface AvtabLimits {
  readonly version: number;
  readonly typeCount: number;
  readonly classCount: number;
}

/** Accumulates entries column-wise, then hashes them once (the table never changes after loading). */
export class AvTableBuilder {
  private n = 0;
  private source: Uint16Array;
  private target: Uint16Array;
  private tclass: Uint16Array;
  private specified: Uint16Array;
  private data: Uint32Array;
  private xpermIndex: Int32Array;
  private readonly xperms: XpermsDatum[] = [];

  constructor(capacity: number) {
    const c = Math.max(capacity, 16);
    this.source = new Uint16Array(c);
    this.target = new Uint16Array(c);
    this.tclass = new Uint16Array(c);
    this.specified = new Uint16Array(c);
    this.data = new Uint32Array(c);
    this.xpermIndex = new Int32Array(c);
  }

  get size(): number {
    return this.n;
  }

  private grow(): void {
    const c = this.source.length * 2;
    const grow16 = (a: Uint16Array): Uint16Array => { const b = new Uint16Array(c); b.set(a); return b; };
    this.source = grow16(this.source);
    this.target = grow16(this.target);
    this.tclass = grow16(this.tclass);
    this.specified = grow16(this.specified);
    const d = new Uint32Array(c); d.set(this.data); this.data = d;
    const x = new Int32Array(c); x.set(this.xpermIndex); this.xpermIndex = x;
  }

  push(source: number, target: number, tclass: number, specified: number, data: number, xperms?: XpermsDatum): number {
    if (this.n === this.source.length) this.grow();
    const i = this.n++;
    this.source[i] = source;
    this.target[i] = target;
    this.tclass[i] = tclass;
    this.specified[i] = specified;
    this.data[i] = data;
    this.xpermIndex[i] = xperms ? this.xperms.push(xperms) - 1 : -1;
    return i;
  }

  specifiedOf(i: number): number {
    return this.specified[i]!;
  }

  /** Key fields of an entry already pushed (for the conditional type-rule conflict checks). */
  keyOf(i: number): { source: number; target: number; tclass: number; spec: number } {
    return { source: this.source[i]!, target: this.target[i]!, tclass: this.tclass[i]!, spec: this.specified[i]! & ~AVTAB.ENABLED };
  }

  finish(): AvTable {
    const n = this.n;
    let size = 16;
    while (size < n * 2) size *= 2;
    const buckets = new Int32Array(size).fill(-1);
    const next = new Int32Array(n);
    // Insert in reverse so each chain lists entries in file order.
    for (let i = n - 1; i >= 0; i--) {
      const h = avHash(this.source[i]!, this.target[i]!, this.tclass[i]!, size - 1);
      next[i] = buckets[h]!;
      buckets[h] = i;
    }
    return {
      size: n,
      source: this.source.subarray(0, n),
      target: this.target.subarray(0, n),
      tclass: this.tclass.subarray(0, n),
      specified: this.specified.subarray(0, n),
      data: this.data.subarray(0, n),
      xpermIndex: this.xpermIndex.subarray(0, n),
      xperms: this.xperms,
      buckets,
      next,
    };
  }
}

export function avHash(source: number, target: number, tclass: number, mask: number): number {
  // The kernel's avtab_hash mixes the three 16-bit fields; any decent mix works for an in-memory index.
  let h = Math.imul(source, 0x9e3779b1) ^ Math.imul(target, 0x85ebca77) ^ Math.imul(tclass, 0xc2b2ae3d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h & mask;
}

/** Calls `visit(i)` for every entry with this (source, target, class), in file order. */
export function forEachAvEntry(t: AvTable, source: number, target: number, tclass: number, visit: (i: number) => void): void {
  let i = t.buckets[avHash(source, target, tclass, t.buckets.length - 1)]!;
  while (i !== -1) {
    if (t.source[i] === source && t.target[i] === target && t.tclass[i] === tclass) visit(i);
    i = t.next[i]!;
  }
}

/**
 * Reads one avtab entry (libsepol's avtab_read_item, version >= 20 layout): four u16 key fields, then a
 * u32 datum or, for extended permissions, a specifier byte, a driver byte and eight u32 words.
 * This runs ~100,000 times per load, cold, so it reads straight from the DataView after one length check.
 */
export function readAvtabEntry(r: ByteReader, limits: AvtabLimits, out: AvTableBuilder): number {
  const at = r.offset;
  if (r.remaining < 12) r.fail(`truncated avtab entry: ${r.remaining} bytes left`, at);
  const v = r.dataView;
  const source = v.getUint16(at, true);
  const target = v.getUint16(at + 2, true);
  const tclass = v.getUint16(at + 4, true);
  const specified = v.getUint16(at + 6, true);
  if (specified & ~(SPECIFIER_BITS | AVTAB.ENABLED)) r.fail(`avtab entry has unknown specifier bits 0x${specified.toString(16)}`, at);
  const kind = specified & SPECIFIER_BITS;
  if (kind === 0 || (kind & (kind - 1)) !== 0) r.fail('avtab entry does not have exactly one specifier', at);
  if (source === 0 || source > limits.typeCount) r.fail(`avtab source type ${source} outside 1..${limits.typeCount}`, at);
  if (target === 0 || target > limits.typeCount) r.fail(`avtab target type ${target} outside 1..${limits.typeCount}`, at);
  if (tclass === 0 || tclass > limits.classCount) r.fail(`avtab class ${tclass} outside 1..${limits.classCount}`, at);
  if ((kind & AVTAB.XPERMS) === 0) {
    const data = v.getUint32(at + 8, true);
    r.advance(12);
    return out.push(source, target, tclass, specified, data);
  }
  if (limits.version < 30) r.fail(`policy version ${limits.version} cannot hold extended permission rules`, at);
  r.advance(8);
  const xspec = r.u8('xperms specifier');
  const driver = r.u8('xperms driver');
  const perms = new Uint32Array(8);
  for (let k = 0; k < 8; k++) perms[k] = r.u32('xperms bitmap');
  return out.push(source, target, tclass, specified, 0, { specified: xspec, driver, perms });
}

/**
 * The unconditional access vector table: a non-empty count, then entries with unique keys (libsepol's
 * avtab_insert refuses a second entry with the same key, extended permissions excepted).
 * This is the bulk of the file (~100,000 entries), read once per process, cold: plain entries are decoded
 * in one flat loop straight into the columns and the hash index, without per-field calls; extended
 * permission entries and anything invalid take the general path of readAvtabEntry.
 */
export function readAvtab(r: ByteReader, limits: AvtabLimits): AvTable {
  r.section = 'avtab';
  const at = r.offset;
  const nel = r.u32('avtab entry count');
  if (nel === 0) r.fail('avtab is empty', at);
  if (nel > Math.floor(r.remaining / MIN_ENTRY_BYTES)) r.fail(`avtab count ${nel} cannot fit in what is left`, at);
  const builder = new AvTableBuilder(nel);
  for (let i = 0; i < nel; i++) readAvtabEntryFast(r, limits, builder);
  const table = builder.finish();
  rejectDuplicateKeys(r, table, at);
  return table;
}

const PLAIN_SPECIFIERS = AVTAB.AV | AVTAB.TYPE | AVTAB.ENABLED;

/**
 * readAvtabEntry for the common case, decoded with one length check and no per-field calls: a plain
 * (non-xperm) entry whose fields are all valid. Anything else goes through readAvtabEntry, which reads it
 * field by field and explains what is wrong.
 */
export function readAvtabEntryFast(r: ByteReader, limits: AvtabLimits, out: AvTableBuilder): number {
  const p = r.offset;
  const v = r.dataView;
  if (p + 12 <= v.byteLength) {
    const source = v.getUint16(p, true);
    const target = v.getUint16(p + 2, true);
    const tclass = v.getUint16(p + 4, true);
    const specified = v.getUint16(p + 6, true);
    const kind = specified & ~AVTAB.ENABLED;
    // One bit among allow/auditallow/dontaudit/type_transition/member/change, maybe "enabled", nothing else.
    const plain = kind !== 0 && (specified & ~PLAIN_SPECIFIERS) === 0 && (kind & (kind - 1)) === 0;
    if (plain && source !== 0 && source <= limits.typeCount && target !== 0 && target <= limits.typeCount &&
        tclass !== 0 && tclass <= limits.classCount) {
      r.advance(12);
      return out.push(source, target, tclass, specified, v.getUint32(p + 8, true));
    }
  }
  return readAvtabEntry(r, limits, out);
}

/** libsepol's avtab_insert refuses a second entry with the same key (extended permissions excepted). */
function rejectDuplicateKeys(r: ByteReader, t: AvTable, at: number): void {
  for (let i = 0; i < t.size; i++) {
    const spec = t.specified[i]! & ~AVTAB.ENABLED;
    if (spec & AVTAB.XPERMS) continue;
    let j = t.next[i]!;
    while (j !== -1) {
      if (t.source[j] === t.source[i] && t.target[j] === t.target[i] && t.tclass[j] === t.tclass[i] &&
          (t.specified[j]! & ~AVTAB.ENABLED) === spec) {
        r.fail(`avtab has a duplicate entry (${t.source[i]}, ${t.target[i]}, ${t.tclass[i]}, 0x${spec.toString(16)})`, at);
      }
      j = t.next[j]!;
    }
  }
}
