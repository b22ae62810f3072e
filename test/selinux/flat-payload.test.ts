/**
 * The flat payload of the hook's projection entry (src/selinux/policy/flat-payload.ts), which the hook reads
 * without node:v8: it must give back exactly what V8's structured clone gives back (so every answer the
 * differential suite hook-projection.test.ts proves for a structured-clone projection holds for a flat
 * one), on Debian's policies and the checkpolicy-built edge policies; and anything damaged, truncated or
 * foreign must throw (the entry then is a miss), never read as something else. Also: the CRC-32 the
 * entries are checked with (src/crc32.ts, zlib's binding) is node:zlib's.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { debian } from './hook-store-fixture.js';
import { HOOK_CLASSES, readProjection } from '../../src/app/hook-policy-store.js';
import { crc32Function } from '../../src/crc32.js';
import { encodeEntry, projectionEntryName } from '../../src/selinux/policy/cache-entry.js';
import { decodeFlat, encodeFlat, isFlatPayload } from '../../src/selinux/policy/flat-payload.js';
import { loadPolicy } from '../../src/selinux/policy/load.js';
import type { Policy } from '../../src/selinux/policy/model.js';
import { isStoredProjection, projectPolicy, type ProjectionScope } from '../../src/selinux/policy/projection.js';
import { allVariants, compilePolicy, variantName } from './differential/compile.js';

const flat = (v: unknown) => decodeFlat(Buffer.concat(encodeFlat(v)));
const cloned = (v: unknown) => deserialize(serialize(v)) as unknown;

/** The hook's scope on a policy: libvirt's defaults where the policy has them, else its first few types. */
function scopeOf(p: Policy): ProjectionScope {
  const names = p.types.byValue.filter((t) => t && !t.isAttribute).map((t) => t!.name);
  const svirt = ['svirt_t', 'svirt_tcg_t'].filter((n) => names.includes(n));
  return { sourceTypes: svirt.length > 0 ? svirt : names.slice(0, 2), classes: [...HOOK_CLASSES] };
}

describe('flat payload', () => {
  it('gives back what the structured clone gives back: values, holes, undefined, typed arrays, Maps, Sets, shared objects', () => {
    const shared = { name: 'a', value: 1 };
    const sparse: unknown[] = [1, undefined, 3];
    sparse[6] = null;
    const odd = new Uint8Array([1, 2, 3]);
    const value = {
      n: [0, -0, 1.5, NaN, Infinity, -Infinity, 2 ** 40, -7],
      s: ['', 'é', '\u{1F600}', '\ud800', '"$"'],
      b: [true, false, null],
      u: undefined,
      sparse,
      typed: [new Int8Array([-1]), odd, new Uint8ClampedArray([255]), new Int16Array([-2, 3]), new Uint16Array([65535]), new Int32Array([-5]),
        new Uint32Array([4294967295, 0, 7]), new Float32Array([0.5]), new Float64Array([Math.PI]), new Uint32Array(new ArrayBuffer(12), 4, 2), new Uint16Array(0)],
      table: { byValue: [shared, undefined], byName: new Map([['a', shared]]) },
      set: new Set(['x', 1]),
      dollar: { $: 'u', v: 1 },
      nested: [[[{ deep: [odd] }]]],
    };
    const got = flat(value);
    expect(isDeepStrictEqual(got, cloned(value))).toBe(true);
    expect(Object.is((got as typeof value).n[1], -0)).toBe(true);
    expect(1 in (got as typeof value).sparse).toBe(true);
    expect(3 in (got as typeof value).sparse).toBe(false);
    const t = (got as typeof value).table;
    expect(t.byName.get('a')).toBe(t.byValue[0]);
    expect((got as typeof value).nested[0]![0]![0]!.deep[0]).toBe((got as typeof value).typed[1]);
  });

  it('refuses what it could not give back exactly', () => {
    for (const v of [{ f: () => 1 }, { b: 1n }, { s: Symbol('x') }, new Date(0), { c: new (class X {})() }, JSON.parse('{"__proto__": 1}'), Buffer.from('x'), new DataView(new ArrayBuffer(1))])
      expect(() => encodeFlat(v)).toThrow();
  });

  it.each([...debian.map((p) => [p, p] as const), ...allVariants().filter((_, i) => i % 5 === 0).map((v) => [variantName(v), v] as const)])(
    'the projection of %s reads back equal to its structured clone, and the hook reads it from an entry',
    (_name, source) => {
      const bytes = readFileSync(typeof source === 'string' ? source : compilePolicy(source));
      const full = loadPolicy(bytes);
      if (!full.ok) throw new Error(full.error.message);
      const stored = projectPolicy(full.value, scopeOf(full.value));
      const payload = Buffer.concat(encodeFlat(stored));
      expect(isFlatPayload(payload)).toBe(true);
      const back = decodeFlat(payload);
      expect(isStoredProjection(back)).toBe(true);
      expect(isDeepStrictEqual(back, cloned(stored))).toBe(true);
      const entry = Buffer.concat(encodeEntry('k projection', bytes, stored, true));
      const p = readProjection({ store: { read: (n) => (n === projectionEntryName() ? entry : undefined), write: () => false }, key: 'k' }, bytes);
      expect(p).toBeDefined();
      expect(isDeepStrictEqual(p!.policy.avtab, cloned(stored.avtab))).toBe(true);
    },
    240_000,
  );

  it('a damaged, truncated or foreign flat payload throws, never reads as something else', () => {
    const bytes = readFileSync(compilePolicy(allVariants()[0]!));
    const full = loadPolicy(bytes);
    if (!full.ok) throw new Error(full.error.message);
    const payload = Buffer.concat(encodeFlat(projectPolicy(full.value, scopeOf(full.value))));
    const jsonLength = payload.readUInt32LE(8);
    const throws = (p: Uint8Array) => {
      try {
        return !isStoredProjection(decodeFlat(p));
      } catch {
        return true;
      }
    };
    expect(throws(payload)).toBe(false);
    expect(throws(payload.subarray(0, payload.length - 1))).toBe(true);
    expect(throws(payload.subarray(0, 15))).toBe(true);
    expect(throws(Buffer.concat([payload, Buffer.alloc(8)]))).toBe(true);
    // A structural byte mid-tree (a `:`): damage inside a string is the entry CRC's to catch, not the tree's.
    for (const at of [0, 8, 9, 12, 13, 16, payload.indexOf(0x3a, 16 + (jsonLength >> 1)), 16 + jsonLength - 1]) {
      const flipped = Buffer.from(payload);
      flipped[at] = flipped[at]! ^ 0x41;
      expect(throws(flipped), `byte ${at} flipped`).toBe(true);
    }
    // Well-formed, but tags that are not encodeFlat's, or that point outside.
    const withJson = (json: string, data = Buffer.alloc(0)) => {
      const j = Buffer.from(json);
      const head = Buffer.alloc(16);
      head.write('VSLFLAT1', 'latin1');
      head.writeUInt32LE(j.length, 8);
      head.writeUInt32LE(data.length, 12);
      return Buffer.concat([head, j, Buffer.alloc(((16 + j.length + 7) & ~7) - 16 - j.length), data]);
    };
    expect(decodeFlat(withJson('{"a":[1,{"$":"u"}]}'))).toStrictEqual({ a: [1, undefined] });
    for (const json of ['{"$":"x"}', '{"$":"r","i":0}', '[{"$":"r","i":5}]', '{"$":"t","k":"Uint32Array","o":0,"n":3}', '{"$":"t","k":"Uint32Array","o":4,"n":1}',
      '{"$":"t","k":"Buffer","o":0,"n":1}', '{"$":"t","k":"constructor","o":0,"n":1}', '{"$":"m","e":[[1]]}', '{"$":"u","x":1}', '{"__proto__":{"$":"u"}}', '{"$":"h"}', '{"a":'])
      expect(() => decodeFlat(withJson(json, Buffer.alloc(8))), json).toThrow();
  });

  it("the entries' CRC-32 is node:zlib's", () => {
    const f = crc32Function();
    expect(f).toBeDefined();
    for (const data of [new Uint8Array(0), Buffer.from('123456789'), readFileSync(compilePolicy(allVariants()[0]!))]) expect(f!(data)).toBe(crc32(data));
  });
});
