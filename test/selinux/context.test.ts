import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dominates, formatContext, formatLevel, formatRange, incomparable, levelEquals, parseContext, parseLevel, parseRange, rangeContains,
  type MlsLevel,
} from '../../src/selinux/context.js';

const level = (text: string): MlsLevel => {
  const r = parseLevel(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

const arbLevel = fc.record({
  sensitivity: fc.integer({ min: 0, max: 15 }),
  categories: fc.uniqueArray(fc.integer({ min: 0, max: 40 })).map((c) => [...c].sort((a, b) => a - b)),
});

describe('security context value types', () => {
  it('parses the four fields and keeps a context without MLS field as such', () => {
    const c = parseContext('system_u:object_r:svirt_image_t:s0:c1,c2');
    expect(c).toEqual({ ok: true, value: { user: 'system_u', role: 'object_r', type: 'svirt_image_t', range: { low: level('s0:c1,c2'), high: level('s0:c1,c2') } } });
    const plain = parseContext('system_u:system_r:svirt_t');
    expect(plain.ok && plain.value.range).toBe(undefined);
  });

  it('canonicalises category sets: ranges of three or more with a dot, like the kernel prints them', () => {
    expect(formatLevel(level('s0:c5,c0,c1,c2,c3'))).toBe('s0:c0.c3,c5');
    expect(formatLevel(level('s0:c0.c1'))).toBe('s0:c0,c1');
    expect(formatLevel(level('s0:c0.c2,c2,c1'))).toBe('s0:c0.c2');
    expect(formatLevel(level('s3'))).toBe('s3');
    expect(formatRange({ low: level('s0'), high: level('s0:c0.c1023') })).toBe('s0-s0:c0.c1023');
    expect(formatContext({ user: 'u', role: 'r', type: 't', range: { low: level('s1'), high: level('s1') } })).toBe('u:r:t:s1');
  });

  it('format and parse are inverse on canonical levels, and every spelling of a set formats the same', () => {
    fc.assert(fc.property(arbLevel, (l) => {
      const text = formatLevel(l);
      const back = parseLevel(text);
      const spelled = `s${l.sensitivity}${l.categories.length ? ':' + [...l.categories].reverse().map((c) => `c${c}`).join(',') : ''}`;
      return back.ok && levelEquals(back.value, l) && formatLevel(level(spelled)) === text;
    }));
  });

  it('dominance: reflexive, transitive, and incomparability is symmetric', () => {
    fc.assert(fc.property(arbLevel, arbLevel, arbLevel, (a, b, c) => {
      if (!dominates(a, a)) return false;
      if (dominates(a, b) && dominates(b, c) && !dominates(a, c)) return false;
      if (dominates(a, b) && dominates(b, a) && !levelEquals(a, b)) return false;
      return incomparable(a, b) === incomparable(b, a);
    }));
    expect(dominates(level('s1:c0.c3'), level('s0:c1'))).toBe(true);
    expect(dominates(level('s0:c0.c3'), level('s1'))).toBe(false);
    expect(incomparable(level('s0:c1'), level('s0:c2'))).toBe(true);
    expect(rangeContains({ low: level('s0'), high: level('s0:c0.c1023') }, { low: level('s0:c3'), high: level('s0:c3,c4') })).toBe(true);
  });

  it('refuses malformed contexts and levels with a reason', () => {
    for (const bad of ['', 'a:b', 'a::t', 'u:r:t:', 'u:r:t:x0', 'u:r:t:s0:c3.c1', 'u:r:t:s0:c1.c1', 'u:r:t:s0:', 'u:r:t:s0:c', 'u:r:t:s1-s0', 'u:r:t:s0:c99999999']) {
      const r = parseContext(bad);
      expect({ bad, ok: r.ok }).toEqual({ bad, ok: false });
    }
    expect(parseRange('s0:c1-s0:c2').ok).toBe(false);
  });
});
