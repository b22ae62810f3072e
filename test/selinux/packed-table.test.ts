/**
 * The packed symbol tables of the hook's projection (src/selinux/policy/packed-table.ts): every name is
 * found, with its own datum, and no other string is, whatever their order, prefixes or characters.
 */
import { describe, expect, it } from 'vitest';
import { packTable, unpackTable } from '../../src/selinux/policy/packed-table.js';
import type { SymbolTable } from '../../src/selinux/policy/model.js';

interface D { readonly name: string; readonly value: number }

function table(names: readonly string[]): SymbolTable<D> {
  const byValue = names.map((name, i) => ({ name, value: i + 1 }));
  return { count: names.length, byValue, byName: new Map(byValue.map((d) => [d.name, d])) };
}

describe('packed symbol table lookups', () => {
  it('finds each name and nothing else (prefixes, case, non-ASCII, empty)', () => {
    const names = ['a', 'ab', 'abc', 'b', 'B', 'a_b', 'a-b', 'z', 'é', 'e\u0301', '\u{1F600}', '\uFF21', 'svirt_t', 'svirt_tcg_t', 'svirt_image_t', 'x'.repeat(200)];
    const packed = packTable(table(names), (d) => d.value, () => ({ flags: 0, extra: 0 }));
    const back = unpackTable<D>(packed, (name, value) => ({ name, value }));
    for (const [i, n] of names.entries()) expect(back.byName.get(n), n).toEqual({ name: n, value: i + 1 });
    for (const n of ['', 'aa', 'abcd', 'A', 'svirt', 'svirt_t ', 'x'.repeat(199), 'x'.repeat(201), 'é ', '\u0000', '\u{1F601}', '\uFF22', 'e'])
      expect(back.byName.has(n), JSON.stringify(n)).toBe(false);
    // In the order of their UTF-8 bytes (code-point order), every name once.
    expect([...back.byName.keys()]).toEqual([...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });

  it('a generated table of thousands: every name found, the same as a Map', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const names = [...new Set(Array.from({ length: 5000 }, () => Array.from({ length: 1 + rnd(12) }, () => 'ab_cz09é\u{1F600}'[rnd(9)]).join('')))];
    const packed = packTable(table(names), (d) => d.value, () => ({ flags: 0, extra: 0 }));
    const back = unpackTable<D>(packed, (name, value) => ({ name, value }));
    const map = new Map(names.map((n, i) => [n, i + 1]));
    for (let i = 0; i < 20000; i++) {
      const q = Array.from({ length: 1 + rnd(12) }, () => 'ab_cz09é\u{1F600}'[rnd(9)]).join('');
      expect(back.byName.get(q)?.value).toBe(map.get(q));
    }
  });

  it('byValue behaves as the array it stands for: every index there, holes as undefined, in value order', () => {
    const names = ['b', 'a', 'c'];
    const t = table(names);
    // Value 2 has no primary name (an alias-only slot, as a table may have): undefined, but present.
    const withHole: SymbolTable<D> = { count: 4, byValue: [t.byValue[0], undefined, t.byValue[1], t.byValue[2]], byName: t.byName };
    const packed = packTable(withHole, (d) => d.value, () => ({ flags: 0, extra: 0 }));
    const back = unpackTable<D>(packed, (name, value) => ({ name, value }));
    const expected = [{ name: 'b', value: 1 }, undefined, { name: 'a', value: 2 }, { name: 'c', value: 3 }];
    expect(back.byValue.length).toBe(4);
    expect(back.byValue.map((d) => d?.name)).toEqual(['b', undefined, 'a', 'c']);
    const visited: number[] = [];
    back.byValue.forEach((_, i) => visited.push(i));
    expect(visited).toEqual([0, 1, 2, 3]);
    expect(1 in back.byValue && 3 in back.byValue && !(4 in back.byValue)).toBe(true);
    expect([...back.byValue]).toEqual(expected);
    expect(Object.keys(back.byValue)).toEqual(['0', '1', '2', '3']);
    expect(back.byValue.some((d) => d === undefined)).toBe(true);
    expect(back.byValue[2]).toBe(back.byName.get('a'));
  });
});
