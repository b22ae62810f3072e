import type { SymbolTable } from './model.js';

/**
 * A symbol table held as a few typed arrays and one string, for the hook's policy projection
 * (projection.ts): thousands of type or category names cost one string and no objects to store and to
 * read back, and a datum object is made only when a lookup reaches it. Names are sorted (JavaScript's
 * code-unit order) so a lookup is a binary search.
 *
 *   names         every name (aliases included), concatenated in sorted order
 *   ends[i]       where name i ends in `names` (it starts where name i - 1 ends)
 *   values[i]     the value name i stands for
 *   flags[i]      per-name bits, given back to `make` (attribute, alias, default state…)
 *   extra[i]      one more per-name number, given back to `make` (a type's bounds)
 *   primary[v-1]  the index of the name whose datum is byValue[v - 1], -1 when none
 */
export interface PackedTable {
  readonly count: number;
  readonly names: string;
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
  const entries = [...table.byName].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const n = entries.length;
  const ends = new Uint32Array(n);
  const values = new Uint32Array(n);
  const flags = new Uint8Array(n);
  const extra = new Uint32Array(n);
  const primary = new Int32Array(table.count).fill(-1);
  const index = new Map<T, number>();
  let at = 0;
  entries.forEach(([name, d], i) => {
    at += name.length;
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
  return { count: table.count, names: entries.map(([name]) => name).join(''), ends, values, flags, extra, primary };
}

/**
 * The SymbolTable view of a packed table: `make(name, value, flags, extra)` builds the datum of one name,
 * once. byName answers get/has by binary search and builds the whole map only if iterated; byValue is an
 * array whose elements are made on first access (a Proxy: the access computation reads a handful).
 */
export function unpackTable<T>(p: PackedTable, make: (name: string, value: number, flags: number, extra: number) => T): SymbolTable<T> {
  const n = p.values.length;
  const made: (T | undefined)[] = new Array<T | undefined>(n);
  const nameAt = (i: number) => p.names.slice(i === 0 ? 0 : p.ends[i - 1], p.ends[i]);
  const datum = (i: number): T => (made[i] ??= make(nameAt(i), p.values[i]!, p.flags[i]!, p.extra[i]!));
  const find = (name: string): number => {
    let lo = 0;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const m = nameAt(mid);
      if (m === name) return mid;
      if (m < name) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  };
  const byName = new PackedNameMap<T>(n, find, datum, nameAt);
  const slots = new Array<T | undefined>(p.count).fill(undefined);
  const filled = new Uint8Array(p.count);
  const at = (v: number): T | undefined => {
    if (filled[v] === 0) {
      filled[v] = 1;
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
