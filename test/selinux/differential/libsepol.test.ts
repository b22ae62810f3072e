/**
 * The SELinux engine against libsepol (sepol_compute_av_reason, linked statically in sepol-av.c):
 * thousands of generated questions on Debian's real policies, then exhaustive sweeps over small
 * edge-case policies compiled by checkpolicy at every binary version. Every answer must agree on each
 * permission's allowed bit, on libsepol's reason flags and on the permissive flag; invalid input must be
 * refused by both. Each run prints its agreement figure.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeAccess } from '../../../src/selinux/access.js';
import { loadPolicy } from '../../../src/selinux/policy/load.js';
import type { Policy } from '../../../src/selinux/policy/model.js';
import { missingRequirements } from '../../support/requirements.js';
import { askSepol, type SepolQuery } from '../reference/sepol.js';
import { compareAnswer, formatDisagreement, type Disagreement } from './compare.js';
import { allVariants, compilePolicy, variantName } from './compile.js';
import { generateQueries, readPolicyNames } from './queries.js';
import { sweepQueries } from './sweep.js';
import { DEBIAN_DEFAULT_POLICY, DEBIAN_MLS_POLICY, LIBSEPOL_A } from '../reference/debian.js';

const REAL_POLICIES = [
  { name: 'default', path: DEBIAN_DEFAULT_POLICY, seed: 0x5e11 },
  { name: 'mls', path: DEBIAN_MLS_POLICY, seed: 0x3175 },
] as const;
const GENERATED = Number(process.env.SELINUX_DIFF_QUERIES ?? 5000);

const skip = missingRequirements({
  commands: ['cc', 'checkpolicy'],
  files: [LIBSEPOL_A, '/usr/include/sepol/policydb/services.h', ...REAL_POLICIES.map((p) => p.path)],
});

function load(path: string): Policy {
  const r = loadPolicy(readFileSync(path));
  if (!r.ok) throw new Error(`loadPolicy(${path}): ${r.error.section} at ${r.error.offset}: ${r.error.message}`);
  return r.value;
}

/** Asks both sides everything; returns the disagreements (all of them, the report shows the first). */
function differential(label: string, path: string, queries: readonly SepolQuery[]): Disagreement[] {
  const policy = load(path);
  const expected = askSepol(path, queries);
  const out: Disagreement[] = [];
  queries.forEach((q, i) => {
    const d = compareAnswer(q, expected[i]!, computeAccess(policy, q));
    if (d) out.push(d);
  });
  const line = `selinux differential ${label}: ${queries.length - out.length}/${queries.length} agree`;
  console.log(out.length === 0 ? line : `${line}\n  ${out.slice(0, 5).map(formatDisagreement).join('\n  ')}`);
  return out;
}

describe.skipIf(skip)('SELinux engine vs libsepol', () => {
  describe('Debian real policies, generated queries', () => {
    for (const p of REAL_POLICIES) {
      it(`${p.name}: ${GENERATED} seeded queries agree`, () => {
        const queries = generateQueries(readPolicyNames(p.path), p.seed, GENERATED);
        // The mix must stay interesting, or agreement proves little.
        const expected = askSepol(p.path, queries);
        const allowed = expected.filter((a) => a.ok && a.allowed.every(Boolean)).length;
        const cons = expected.filter((a) => a.ok && a.reasons.has('cons')).length;
        const invalid = expected.filter((a) => !a.ok).length;
        const te = expected.filter((a) => a.ok && a.reasons.has('te')).length;
        const booleans = queries.filter((q) => q.booleans).length;
        console.log(`selinux differential ${p.name} mix: ${allowed} allowed, ${te} TE denials, ${cons} constraint denials, ${invalid} invalid, ${booleans} with boolean overrides`);
        expect(allowed).toBeGreaterThan(GENERATED / 10);
        expect(cons).toBeGreaterThan(GENERATED / 100);
        expect(invalid).toBeGreaterThan(GENERATED / 50);
        expect(differential(p.name, p.path, queries).map(formatDisagreement)).toEqual([]);
      });
    }
  });

  it('the comparison catches a wrong engine answer (negative control)', () => {
    // Ask the engine under flipped booleans but libsepol under the defaults: if nothing disagrees, the
    // comparison is blind and every agreement figure above means nothing.
    const path = compilePolicy({ conf: 'conditionals', version: 33, mls: false, handleUnknown: 'deny' });
    const queries = sweepQueries(readPolicyNames(path), 33).filter((q) => !q.booleans);
    const policy = load(path);
    const expected = askSepol(path, queries);
    const flipped = { use_nfs: true, use_usb: true, use_share: false, strict: false };
    const wrong = queries.filter((q, i) => compareAnswer(q, expected[i]!, computeAccess(policy, { ...q, booleans: flipped })));
    expect(wrong.length).toBeGreaterThan(20);
  });

  describe('edge-case policies, exhaustive sweeps', () => {
    for (const v of allVariants()) {
      it(`${variantName(v)} agrees on every query`, () => {
        const path = compilePolicy(v);
        const queries = sweepQueries(readPolicyNames(path), v.version);
        expect(queries.length).toBeGreaterThan(1000);
        expect(differential(variantName(v), path, queries).map(formatDisagreement).slice(0, 20)).toEqual([]);
      });
    }
  });
});
