/**
 * A seeded PRNG (mulberry32) so every fuzz run can be replayed: the suites print their seed and counts,
 * and FUZZ_SEED / FUZZ_ITERATIONS reproduce or lengthen a run on demand.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(items.length)] as T;
    },
    chance: (p) => next() < p,
  };
}

/** FUZZ_SEED when given (to replay a failure), else a fresh one; printed by the caller. */
export function fuzzSeed(): number {
  const env = process.env.FUZZ_SEED;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n)) throw new Error(`FUZZ_SEED=${env} is not an integer`);
    return n >>> 0;
  }
  return (Math.random() * 2 ** 32) >>> 0;
}

/**
 * How many iterations a fuzzer runs: its CI default times FUZZ_ITERATIONS (a multiplier, default 1),
 * so `FUZZ_ITERATIONS=50 npx vitest run test/hardening` is the long run on demand.
 */
export function fuzzCount(ciDefault: number): number {
  const env = process.env.FUZZ_ITERATIONS;
  const factor = env === undefined || env === '' ? 1 : Number(env);
  if (!(factor > 0)) throw new Error(`FUZZ_ITERATIONS=${env} must be a positive number (a multiplier of the CI counts)`);
  return Math.max(1, Math.round(ciDefault * factor));
}
