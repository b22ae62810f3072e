import type { SymbolTable } from './model.js';

/**
 * A symbol table held as a few typed arrays, for the hook's policy projection (projection.ts): thousands
 * of type or category names cost no string and no object to store and to read back (the names are bytes
 * in the payload's data, never a JavaScript string until a datum needs its name), and a datum object is
 * made only when a lookup reaches it. Names are sorted by their UTF-8 bytes, so a lookup is a binary
 * search over those bytes.
 *
 *   names         every name (aliases included), UTF-8, concatenated in sorted order
 *   ends[i]       where name i ends in `names` (it starts where name i - 1 ends)
 *   values[i]     the value name i stands for
 *   flags[i]      per-name bits, given back to `make` (attribute, alias, default state…)
 *   extra[i]      one more per-name number, given back to `make` (a type's bounds)
 *   primary[v-1]  the index of the name whose datum is byValue[v - 1], -1 when none
 */
export interface PackedTable {
  readonly count: number;
  readonly names: Uint8Array;
  readonly ends: Uint32Array;
  readonly values: Uint32Array;
  readonly flags: Uint8Array;
  readonly extra: Uint32Array;
  readonly primary: Int32Array;
}

/** A table's names with their values and two per-name numbers, packed (`describe` gives flags and extra). */
export function packTable<T extends { readonly name: string }>(
  table: SymbolTable<T>,
  valueOf: (d: T) => number,
  describe: (d: T) => { flags: number; extra: number },
): PackedTable {
  const entries = [...table.byName].map(([name, d]) => [Buffer.from(name, 'utf8'), name, d] as const).sort(([a], [b]) => Buffer.compare(a, b));
  const n = entries.length;
  const ends = new Uint32Array(n);
  const values = new Uint32Array(n);
  const flags = new Uint8Array(n);
  const extra = new Uint32Array(n);
  const primary = new Int32Array(table.count).fill(-1);
  const index = new Map<T, number>();
  let at = 0;
  entries.forEach(([bytes, name, d], i) => {
    at += bytes.length;
    ends[i] = at;
    values[i] = valueOf(d);
    const x = describe(d);
    flags[i] = x.flags;
    extra[i] = x.extra;
    if (d.name === name) index.set(d, i);
  });
  table.byValue.forEach((d, v) => {
    const i = d === undefined ? undefined : index.get(d);
    if (i !== undefined) primary[v] = i;
  });
  return { count: table.count, names: Uint8Array.from(Buffer.concat(entries.map(([bytes]) => bytes))), ends, values, flags, extra, primary };
}

/** An array index far enough beyond any table (2^30) that V8 stores the array's elements as a dictionary. */
const FAR_INDEX = 2 ** 30;

/**
 * The SymbolTable view of a packed table: `make(name, value, flags, extra)` builds the datum of one name,
 * once. byName answers get/has by binary search and builds the whole map only if iterated; byValue is an
 * array whose elements are made on first access (a Proxy: the access computation reads a handful).
 */
export function unpackTable<T>(p: PackedTable, make: (name: string, value: number, flags: number, extra: number) => T): SymbolTable<T> {
  const n = p.values.length;
  // Made on first use, and kept in a Map: an array of one slot per name (4,000 types) would be a young
  // object the size of the table at every hook start, for the handful of data a start looks at.
  const made = new Map<number, T>();
  const bytes = Buffer.from(p.names.buffer, p.names.byteOffset, p.names.byteLength);
  const nameAt = (i: number) => bytes.toString('utf8', i === 0 ? 0 : p.ends[i - 1], p.ends[i]);
  const datum = (i: number): T => {
    let d = made.get(i);
    if (d === undefined) made.set(i, (d = make(nameAt(i), p.values[i]!, p.flags[i]!, p.extra[i]!)));
    return d;
  };
  // Compared in place with the stored bytes: an ASCII name (every name of the reference policies) a code
  // unit against a byte, anything else through its UTF-8 bytes. No name is cut out per step.
  const compareAt = (i: number, name: string, utf8: Uint8Array | undefined): number => {
    const start = i === 0 ? 0 : p.ends[i - 1]!;
    const length = p.ends[i]! - start;
    const other = utf8 ? utf8.length : name.length;
    const common = Math.min(length, other);
    for (let k = 0; k < common; k++) {
      const d = bytes[start + k]! - (utf8 ? utf8[k]! : name.charCodeAt(k));
      if (d !== 0) return d;
    }
    return length - other;
  };
  const find = (name: string): number => {
    // ASCII exactly when its UTF-8 takes one byte per code unit.
    const utf8 = Buffer.byteLength(name, 'utf8') === name.length ? undefined : Buffer.from(name, 'utf8');
    let lo = 0;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareAt(mid, name, utf8);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  };
  const byName = new PackedNameMap<T>(n, find, datum, nameAt);
  // byValue is an array of p.count entries whose slots are filled as they are read (a sparse array: no
  // storage for the slots never read). To everything that asks, every index is there: `in`, the
  // descriptor, the keys (what forEach, map and some rely on to visit an index) fill the slot first.
  // Sparse in V8 too: \`length = count\` on an empty array allocates a hole for every slot (33 KB for
  // Debian's 4,153 types, at every hook start); an element far beyond it first makes the array a
  // dictionary, which the length then cuts back without allocating the holes (a holey array either way).
  const slots: (T | undefined)[] = [];
  if (p.count <= FAR_INDEX) slots[FAR_INDEX] = undefined;
  slots.length = p.count;
  const at = (v: number): T | undefined => {
    if (!Object.hasOwn(slots, v)) {
      const i = p.primary[v]!;
      slots[v] = i >= 0 ? datum(i) : undefined;
    }
    return slots[v];
  };
  const isIndex = (prop: string | symbol): number | undefined => {
    if (typeof prop !== 'string') return undefined;
    const v = Number(prop);
    return Number.isInteger(v) && v >= 0 && v < p.count && String(v) === prop ? v : undefined;
  };
  const byValue = new Proxy(slots, {
    get(target, prop, receiver) {
      const v = isIndex(prop);
      return v === undefined ? Reflect.get(target, prop, receiver) : at(v);
    },
    getOwnPropertyDescriptor(target, prop) {
      const v = isIndex(prop);
      if (v !== undefined) at(v);
      return Reflect.getOwnPropertyDescriptor(target, prop);
    },
    has(target, prop) {
      return isIndex(prop) !== undefined || Reflect.has(target, prop);
    },
    ownKeys(target) {
      for (let v = 0; v < p.count; v++) at(v);
      return Reflect.ownKeys(target);
    },
    set: () => false,
  });
  return { count: p.count, byValue, byName };
}

class PackedNameMap<T> implements ReadonlyMap<string, T> {
  constructor(
    readonly size: number,
    private readonly find: (name: string) => number,
    private readonly datum: (i: number) => T,
    private readonly nameAt: (i: number) => string,
  ) {}

  get(name: string): T | undefined {
    const i = this.find(name);
    return i < 0 ? undefined : this.datum(i);
  }

  has(name: string): boolean {
    return this.find(name) >= 0;
  }

  *entries(): MapIterator<[string, T]> {
    for (let i = 0; i < this.size; i++) yield [this.nameAt(i), this.datum(i)];
  }

  *keys(): MapIterator<string> {
    for (let i = 0; i < this.size; i++) yield this.nameAt(i);
  }

  *values(): MapIterator<T> {
    for (let i = 0; i < this.size; i++) yield this.datum(i);
  }

  [Symbol.iterator](): MapIterator<[string, T]> {
    return this.entries();
  }

  forEach(f: (value: T, key: string, map: ReadonlyMap<string, T>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) f.call(thisArg, v, k, this);
  }
}
