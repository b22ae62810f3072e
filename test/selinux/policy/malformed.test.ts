import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../../src/selinux/policy/load.js';
import { missingRequirements } from '../../support/requirements.js';

const SOURCES = join(import.meta.dirname, '..', 'policies');
const skip = missingRequirements({ commands: ['checkpolicy'] });

/**
 * Hostile input: the reader must answer every corruption of a real policy with a clear refusal or (when
 * the corruption happens to be harmless) a policy, never with an exception, a hang or a huge allocation.
 */
describe.skipIf(skip !== undefined)('malformed policy files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vs-malformed-'));
  const policies: Record<string, Uint8Array> = {};
  beforeAll(() => {
    for (const [name, args] of [['tiny', ['-c', '33']], ['tiny-mls', ['-M', '-c', '33']], ['tiny-old', ['-c', '24']]] as const) {
      const out = join(dir, name);
      const source = join(SOURCES, `${name === 'tiny-old' ? 'tiny' : name}.conf`);
      execFileSync('checkpolicy', [...args, '-o', out, source], { stdio: 'pipe' });
      policies[name] = new Uint8Array(readFileSync(out));
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the intact files', () => {
    for (const bytes of Object.values(policies)) expect(loadPolicy(bytes).ok).toBe(true);
  });

  it('refuses every truncation with the section and offset where the bytes ran out', () => {
    for (const bytes of Object.values(policies)) {
      for (let n = 0; n < bytes.length; n++) {
        const r = loadPolicy(bytes.subarray(0, n));
        expect(r.ok).toBe(false);
        if (!r.ok) {
          expect(r.error.offset).toBeGreaterThanOrEqual(0);
          expect(r.error.offset).toBeLessThanOrEqual(n);
          expect(r.error.section).not.toBe('reader');
        }
      }
    }
  });

  it('survives every 32-bit word inflated to a huge count', () => {
    for (const bytes of Object.values(policies)) {
      for (const value of [0xffffffff, 0x7fffffff, 0x10000000, 0x00ffffff]) {
        for (let at = 0; at + 4 <= bytes.length; at += 1) {
          const copy = bytes.slice();
          new DataView(copy.buffer).setUint32(at, value, true);
          const started = performance.now();
          const r = loadPolicy(copy);
          // A hang detector, not a speed test: a count that drove a loop would take minutes; a loaded CI
          // machine's GC pause must not fail it (500 ms did at load 12 on two cores).
          expect(performance.now() - started).toBeLessThan(5_000);
          if (!r.ok) expect(r.error.section).not.toBe('reader');
        }
      }
    }
  });

  it('survives random byte corruption', () => {
    const bytes = policies.tiny!;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
        const copy = bytes.slice();
        for (const [at, v] of edits) copy[at] = v;
        const r = loadPolicy(copy);
        return r.ok || (r.error.section !== 'reader' && r.error.message.length > 0);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses other kinds of files clearly', () => {
    const tiny = policies.tiny!;
    const withWord = (at: number, v: number) => { const c = tiny.slice(); new DataView(c.buffer).setUint32(at, v, true); return c; };
    const message = (b: Uint8Array) => { const r = loadPolicy(b); return r.ok ? 'loaded' : r.error.message; };
    expect(message(withWord(0, 0xf97cff8d))).toMatch(/module or base package/);
    expect(message(withWord(0, 0xf97cff8f))).toMatch(/module package \(\.pp\)/);
    expect(message(new TextEncoder().encode('BZh91AY&SY'))).toMatch(/bzip2/);
    expect(message(withWord(0, 0x12345678))).toMatch(/magic number/);
    expect(message(withWord(16, 23))).toMatch(/version 23 is outside/);
    expect(message(withWord(16, 34))).toMatch(/version 34 is outside/);
    expect(message(new Uint8Array(0))).toMatch(/truncated/);
  });
});
