/**
 * Fuzzing the binary policy reader: truncated, bit-flipped and count-inflated variants of Debian's real
 * policies and of small checkpolicy-compiled ones. Every mutant must be refused with a section and an
 * offset, or load and answer the same question the same way twice; never throw, hang (watchdog) or
 * allocate without bound (the child runs under --max-old-space-size, and its peak RSS is checked).
 */
import { describe, expect, it } from 'vitest';
import { compilePolicy, type Variant } from '../selinux/differential/compile.js';
import { missingRequirements } from '../support/requirements.js';
import { CLI } from './support/cli.js';
import { runPolicyPlan, type MutantRecord } from './support/policy-runner.js';
import { fuzzCount, fuzzSeed } from './support/prng.js';

const DEBIAN = '/etc/selinux/default/policy/policy.33';
const DEBIAN_MLS = '/etc/selinux/mls/policy/policy.33';
/** The heap the child may use: a 2 MB policy needs about 150 MB loaded; far beyond that is runaway. */
const HEAP_MB = 384;
/** Resident set bound over the whole run (heap + typed arrays + code). */
const RSS_MB = 768;

const skip = missingRequirements({ files: [CLI, DEBIAN, DEBIAN_MLS], commands: ['checkpolicy'] });

function summarise(records: readonly MutantRecord[]) {
  const by = new Map<string, number>();
  for (const r of records) {
    const key = r.status.startsWith('refused:') ? 'refused' : r.status.split(':')[0]!;
    by.set(key, (by.get(key) ?? 0) + 1);
  }
  const sections = new Set(records.filter((r) => r.status.startsWith('refused:')).map((r) => r.status.slice(8)));
  const peakRss = Math.max(...records.map((r) => r.rssMb).filter((x) => !Number.isNaN(x)));
  const slowest = Math.max(...records.map((r) => r.ms));
  return { counts: Object.fromEntries(by), sections: sections.size, peakRss, slowest };
}

function expectClean(records: readonly MutantRecord[], seed: number): void {
  const bad = records.filter((r) => !(r.status === 'loaded' || r.status.startsWith('refused:')));
  expect(bad.map((r) => `seed ${seed} mutant ${r.index} (${r.desc}): ${r.status}`)).toEqual([]);
  for (const r of records) expect(r.rssMb, `mutant ${r.index} (${r.desc})`).toBeLessThan(RSS_MB);
}

describe.skipIf(skip)('policy reader fuzz (child process, heap-limited, watchdog)', () => {
  it('the harness itself catches a hang and a runaway allocation (negative controls)', async () => {
    const hang = await runPolicyPlan({ policies: [], seed: 0, selftest: 'hang' }, { heapMb: 64, timeoutMs: 1500 });
    expect(hang.map((r) => r.status)).toEqual(['hang']);
    const hog = await runPolicyPlan({ policies: [], seed: 0, selftest: 'allocate' }, { heapMb: 64, timeoutMs: 60_000 });
    expect(hog).toHaveLength(1);
    expect(hog[0]!.status).toMatch(/^crash:.*heap/i);
  }, 120_000);

  it('small compiled policies: thousands of mutants, every one refused with a section or loaded and consistent', async () => {
    const variants: Variant[] = [
      { conf: 'conditionals', version: 24, mls: false, handleUnknown: 'deny' },
      { conf: 'conditionals', version: 33, mls: false, handleUnknown: 'allow' },
      { conf: 'constraints', version: 27, mls: false, handleUnknown: 'deny' },
      { conf: 'bounds', version: 30, mls: false, handleUnknown: 'deny' },
      { conf: 'xperms', version: 33, mls: false, handleUnknown: 'deny' },
      { conf: 'mls', version: 33, mls: true, handleUnknown: 'reject' },
    ];
    const per = fuzzCount(600);
    const seed = fuzzSeed();
    const plan = {
      seed,
      policies: variants.map((v) => ({ path: compilePolicy(v), truncate: Math.round(per * 0.3), flip: Math.round(per * 0.35), inflate: Math.round(per * 0.35) })),
    };
    const records = await runPolicyPlan(plan, { heapMb: HEAP_MB, timeoutMs: 10_000 });
    console.log(`policy fuzz (small): seed ${seed}, ${records.length} mutants of ${variants.length} policies: ${JSON.stringify(summarise(records))}`);
    expect(records.length).toBe(plan.policies.reduce((n, p) => n + p.truncate + p.flip + p.inflate, 0));
    expectClean(records, seed);
  }, 600_000);

  it("Debian's default and MLS policies (2 MB each): truncations at section boundaries and counts, bit flips, inflated counts", async () => {
    const seed = fuzzSeed();
    const plan = {
      seed,
      policies: [DEBIAN, DEBIAN_MLS].map((path) => ({ path, truncate: fuzzCount(10), flip: fuzzCount(5), inflate: fuzzCount(15) })),
    };
    const records = await runPolicyPlan(plan, { heapMb: HEAP_MB, timeoutMs: 30_000 });
    console.log(`policy fuzz (Debian): seed ${seed}, ${records.length} mutants: ${JSON.stringify(summarise(records))}`);
    expect(records.length).toBe(plan.policies.reduce((n, p) => n + p.truncate + p.flip + p.inflate, 0));
    expectClean(records, seed);
  }, 600_000);
});
