/**
 * The parsed-policy cache's entries: a model that comes back from an entry must be the model loadPolicy
 * makes of the same bytes (structurally, prototypes included), and anything else must be a miss: another
 * build's key, other policy bytes (even with the same length and CRC-32, forged below), damage anywhere.
 */
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cacheEntryName, decodeCacheEntry, encodeCacheEntry } from '../../../src/selinux/policy/cache-entry.js';
import { loadPolicyCached, type EntryStore } from '../../../src/selinux/policy/cached-load.js';
import { loadPolicy } from '../../../src/selinux/policy/load.js';
import type { Policy } from '../../../src/selinux/policy/model.js';
import { missingRequirements } from '../../support/requirements.js';
import { allVariants, compilePolicy, variantName } from '../differential/compile.js';

const DEBIAN = ['/etc/selinux/default/policy/policy.33', '/etc/selinux/mls/policy/policy.33'];
const skipDebian = missingRequirements({ files: DEBIAN });
const skipCompiled = missingRequirements({ commands: ['checkpolicy'] });
const KEY = 'virt-seclabel test build A';

const loaded = (bytes: Uint8Array): Policy => {
  const p = loadPolicy(bytes);
  if (!p.ok) throw new Error(JSON.stringify(p.error));
  return p.value;
};
const joined = (parts: readonly Uint8Array[]): Buffer => Buffer.concat(parts);

/** A store in memory that counts what went through it. */
function memoryStore(): EntryStore & { entries: Map<string, Buffer>; reads: number; writes: number } {
  const entries = new Map<string, Buffer>();
  return {
    entries, reads: 0, writes: 0,
    read(name) { this.reads++; return entries.get(name); },
    write(name, parts) { this.writes++; entries.set(name, joined(parts)); return true; },
  };
}

/**
 * Sets 4 bytes at `at` so that `b` gets the CRC-32 `want`: CRC-32 is affine over GF(2), and the 32 bits of
 * 4 consecutive bytes change it through 32 independent vectors, so the flips needed are one linear solve.
 */
function forceCrc(b: Buffer, at: number, want: number): void {
  const base = crc32(b);
  // basis[bit]: a combination of flips (mask m, bit j = flip bit j of the 4 bytes) whose CRC change v has
  // `bit` as its highest set bit.
  const basis: ({ v: number; m: number } | undefined)[] = new Array(32);
  for (let j = 0; j < 32; j++) {
    b[at + (j >> 3)]! ^= 1 << (j & 7);
    let v = (crc32(b) ^ base) >>> 0;
    b[at + (j >> 3)]! ^= 1 << (j & 7);
    let m = (1 << j) >>> 0;
    for (let bit = 31; bit >= 0 && v !== 0; bit--) {
      if (!((v >>> bit) & 1)) continue;
      const row = basis[bit];
      if (!row) { basis[bit] = { v, m }; break; }
      v = (v ^ row.v) >>> 0;
      m = (m ^ row.m) >>> 0;
    }
  }
  let t = (base ^ want) >>> 0;
  let flips = 0;
  for (let bit = 31; bit >= 0; bit--) {
    if (!((t >>> bit) & 1)) continue;
    const row = basis[bit];
    if (!row) throw new Error('these 32 bits cannot reach every CRC');
    t = (t ^ row.v) >>> 0;
    flips = (flips ^ row.m) >>> 0;
  }
  for (let j = 0; j < 32; j++) if ((flips >>> j) & 1) b[at + (j >> 3)]! ^= 1 << (j & 7);
}

/** The byte offset of avtab entry i in the file: its 12 bytes, found by content (and checked unique). */
function avtabEntryOffset(bytes: Buffer, p: Policy, i: number): number {
  const e = Buffer.alloc(12);
  e.writeUInt16LE(p.avtab.source[i]!, 0);
  e.writeUInt16LE(p.avtab.target[i]!, 2);
  e.writeUInt16LE(p.avtab.tclass[i]!, 4);
  e.writeUInt16LE(p.avtab.specified[i]!, 6);
  e.writeUInt32LE(p.avtab.data[i]!, 8);
  const at = bytes.indexOf(e);
  if (at < 0 || bytes.indexOf(e, at + 1) >= 0) throw new Error(`avtab entry ${i} is not unique in the file`);
  return at;
}

describe('parsed-policy cache entries', () => {
  describe.skipIf(skipCompiled !== undefined)('every edge policy the differential suite compiles', () => {
    it('comes back from its entry as the model loadPolicy makes, and only for its own bytes and key', () => {
      let n = 0;
      for (const v of allVariants()) {
        const bytes = readFileSync(compilePolicy(v));
        const model = loaded(bytes);
        const entry = joined(encodeCacheEntry(KEY, bytes, model));
        const back = decodeCacheEntry(KEY, bytes, entry);
        expect(back, variantName(v)).toStrictEqual(model);
        expect(decodeCacheEntry('virt-seclabel test build B', bytes, entry), variantName(v)).toBeUndefined();
        n++;
      }
      expect(n).toBeGreaterThan(40);
    });
  });

  describe.skipIf(skipDebian !== undefined)("Debian's policies", () => {
    for (const path of DEBIAN) {
      it(`${path}: round trip, and every damaged or truncated entry is a miss`, () => {
        const bytes = readFileSync(path);
        const model = loaded(bytes);
        const entry = joined(encodeCacheEntry(KEY, bytes, model));
        expect(decodeCacheEntry(KEY, bytes, entry)).toStrictEqual(model);
        // One flipped bit in each region (header, key, policy bytes, model) and spread over the model.
        const positions = [0, 7, 9, 13, 17, 21, 24, 24 + KEY.length + 5, 24 + KEY.length + bytes.length - 1];
        const modelStart = 24 + KEY.length + bytes.length;
        for (let k = 0; k < 40; k++) positions.push(modelStart + Math.floor(((entry.length - modelStart) * k) / 40));
        positions.push(entry.length - 1);
        for (const at of positions) {
          const damaged = Buffer.from(entry);
          damaged[at]! ^= 0x10;
          expect(decodeCacheEntry(KEY, bytes, damaged), `bit flipped at ${at}`).toBeUndefined();
        }
        for (const length of [0, 23, 24 + KEY.length, modelStart, entry.length - 1]) {
          expect(decodeCacheEntry(KEY, bytes, entry.subarray(0, length)), `truncated to ${length}`).toBeUndefined();
        }
        expect(decodeCacheEntry(KEY, bytes, Buffer.concat([entry, Buffer.from([0])]))).toBeUndefined();
      });
    }

    it('a different policy with the same length and CRC-32 gets its own model, not the cached one', () => {
      const a = readFileSync(DEBIAN[0]!);
      const modelA = loaded(a);
      // b: the permissions of one allow rule changed, and the next rule's permission word set so that the
      // CRC-32 is a's again. Both words take any value, so b is a valid policy that decides differently.
      const b = Buffer.from(a);
      const first = avtabEntryOffset(a, modelA, 0);
      const second = avtabEntryOffset(a, modelA, 1);
      b.writeUInt32LE((b.readUInt32LE(first + 8) ^ 0x2) >>> 0, first + 8);
      forceCrc(b, second + 8, crc32(a));
      expect(crc32(b)).toBe(crc32(a));
      expect(cacheEntryName(b)).toBe(cacheEntryName(a));

      const store = memoryStore();
      expect(loadPolicyCached(a, { store, key: KEY }).ok).toBe(true); // miss: stores a's entry
      expect([store.reads, store.writes, store.entries.size]).toEqual([1, 1, 1]);
      const fromCache = loadPolicyCached(a, { store, key: KEY });
      expect(fromCache.ok && fromCache.value).toStrictEqual(modelA);
      expect(store.writes).toBe(1); // a hit writes nothing

      const forB = loadPolicyCached(b, { store, key: KEY });
      const modelB = loaded(b);
      expect(forB.ok && forB.value).toStrictEqual(modelB);
      expect(modelB.avtab.data[0]).not.toBe(modelA.avtab.data[0]);
      expect(store.writes).toBe(2); // b's model replaced a's in the shared slot
    });
  });

  it('a refused policy is never stored, and is refused again with the same error', () => {
    const store = memoryStore();
    const bytes = Buffer.from('not a policy at all, just some bytes');
    const first = loadPolicyCached(bytes, { store, key: KEY });
    const second = loadPolicyCached(bytes, { store, key: KEY });
    expect(first.ok).toBe(false);
    expect(second).toStrictEqual(first);
    expect(second).toStrictEqual(loadPolicy(bytes));
    expect(store.writes).toBe(0);
  });

  it('without a cache it is loadPolicy, and a store that fails to write changes no answer', () => {
    const bytes = readFileSync(compilePolicy({ conf: 'conditionals', version: 33, mls: false, handleUnknown: 'deny' }));
    expect(loadPolicyCached(bytes, undefined)).toStrictEqual(loadPolicy(bytes));
    const broken: EntryStore = { read: () => undefined, write: () => false };
    expect(loadPolicyCached(bytes, { store: broken, key: KEY })).toStrictEqual(loadPolicy(bytes));
  });
});
