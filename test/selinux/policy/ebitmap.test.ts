import { describe, expect, it } from 'vitest';
import { ebitmapContains, ebitmapEquals, ebitmapFrom, ebitmapHas, readEbitmap } from '../../../src/selinux/policy/ebitmap.js';
import { PolicyFormatError } from '../../../src/selinux/policy/errors.js';
import { ByteReader } from '../../../src/selinux/policy/reader.js';

/** Serialises bit positions the way libsepol's ebitmap_write does: 64-bit nodes, in order. */
function encode(bits: number[]): Uint8Array {
  const nodes = new Map<number, bigint>();
  for (const b of bits) {
    const start = b - (b % 64);
    nodes.set(start, (nodes.get(start) ?? 0n) | (1n << BigInt(b - start)));
  }
  const starts = [...nodes.keys()].sort((a, b) => a - b);
  const highbit = starts.length ? starts[starts.length - 1]! + 64 : 0;
  const words = [64, highbit, starts.length];
  const buf = new DataView(new ArrayBuffer(12 + starts.length * 12));
  words.forEach((w, i) => buf.setUint32(i * 4, w, true));
  starts.forEach((s, i) => {
    buf.setUint32(12 + i * 12, s, true);
    buf.setBigUint64(16 + i * 12, nodes.get(s)!, true);
  });
  return new Uint8Array(buf.buffer);
}

const u32s = (...w: number[]) => {
  const v = new DataView(new ArrayBuffer(w.length * 4));
  w.forEach((x, i) => v.setUint32(i * 4, x >>> 0, true));
  return new Uint8Array(v.buffer);
};

function refusal(bytes: Uint8Array): string {
  try {
    readEbitmap(new ByteReader(bytes));
  } catch (e) {
    if (e instanceof PolicyFormatError) return e.detail;
    throw e;
  }
  return 'accepted';
}

describe('ebitmap', () => {
  it('round-trips sparse and dense bit sets across node boundaries', () => {
    for (const bits of [[], [0], [63], [64], [0, 1, 2, 63, 64, 127, 128, 1023], [31, 32, 33], Array.from({ length: 300 }, (_, i) => i * 7)]) {
      const r = new ByteReader(encode(bits));
      expect([...readEbitmap(r)]).toEqual([...new Set(bits)].sort((a, b) => a - b));
      expect(r.remaining).toBe(0);
    }
  });

  it('answers membership, containment and equality', () => {
    const a = ebitmapFrom([5, 1, 3, 3]);
    expect([...a]).toEqual([1, 3, 5]);
    expect(ebitmapHas(a, 3)).toBe(true);
    expect(ebitmapHas(a, 4)).toBe(false);
    expect(ebitmapContains(a, ebitmapFrom([1, 5]))).toBe(true);
    expect(ebitmapContains(a, ebitmapFrom([1, 6]))).toBe(false);
    expect(ebitmapContains(a, ebitmapFrom([]))).toBe(true);
    expect(ebitmapEquals(a, ebitmapFrom([1, 3, 5]))).toBe(true);
    expect(ebitmapEquals(a, ebitmapFrom([1, 3]))).toBe(false);
  });

  it("refuses what libsepol's ebitmap_read refuses", () => {
    expect(refusal(u32s(32, 0, 0))).toMatch(/map size 32/);
    expect(refusal(u32s(64, 65, 1))).toMatch(/not a multiple/);
    expect(refusal(u32s(64, 64, 0))).toMatch(/no nodes/);
    expect(refusal(u32s(64, 128, 1, 0, 0, 0))).toMatch(/empty/);
    expect(refusal(u32s(64, 128, 1, 0, 1, 0))).toMatch(/does not follow its last node/);
    expect(refusal(u32s(64, 64, 1, 64, 1, 0))).toMatch(/beyond the high bit/);
    expect(refusal(u32s(64, 128, 2, 64, 1, 0, 0, 1, 0))).toMatch(/does not come after/);
    expect(refusal(u32s(64, 64, 1, 3, 1, 0))).toMatch(/not a multiple/);
  });

  it('refuses an inflated node count before allocating anything', () => {
    expect(refusal(u32s(64, 0x7fffffc0, 0x7fffffff))).toMatch(/cannot fit/);
    expect(refusal(u32s(64, 128, 2, 64, 1, 0))).toMatch(/cannot fit|truncated/);
  });
});
