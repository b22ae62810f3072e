/**
 * "Denied unless B is on" is a sentence people act on, so it is checked like a decision: over generated
 * questions on both Debian policies, every boolean setting the engine names as the fix is asked of
 * libsepol with that setting applied, and must be allowed; every "would not be enough" must still be
 * denied by libsepol; and the sentence names a boolean exactly when the data holds a verified fix.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeAccess } from '../../../src/selinux/access.js';
import { loadPolicy } from '../../../src/selinux/policy/load.js';
import { missingRequirements } from '../../support/requirements.js';
import { askSepol, type SepolQuery } from '../reference/sepol.js';
import { generateQueries, readPolicyNames } from './queries.js';
import { DEBIAN_DEFAULT_POLICY, DEBIAN_MLS_POLICY, LIBSEPOL_A } from '../reference/debian.js';

const POLICIES = [
  { name: 'default', path: DEBIAN_DEFAULT_POLICY, seed: 0xb001 },
  { name: 'mls', path: DEBIAN_MLS_POLICY, seed: 0xb002 },
] as const;
const COUNT = Number(process.env.SELINUX_FIX_QUERIES ?? 3000);

const skip = missingRequirements({ commands: ['cc'], files: [LIBSEPOL_A, ...POLICIES.map((p) => p.path)] });

/** The examples from the issue, on Debian's default policy, that used to name a boolean that does not help. */
const ISSUE_EXAMPLES: SepolQuery[] = [
  { scontext: 'system_u:system_r:svirt_t:s0:c1,c2', tcontext: 'system_u:object_r:fusefs_t:s0:c12,c345', tclass: 'lnk_file', perms: ['read'] },
  { scontext: 'system_u:system_r:qemu_t:s0', tcontext: 'system_u:object_r:usbfs_t:s0:c12', tclass: 'file', perms: ['read', 'write', 'open', 'getattr', 'lock', 'append'] },
];

describe.skipIf(skip)('boolean fixes named in reasons, checked with libsepol', () => {
  for (const p of POLICIES) {
    it(`${p.name}: every named fix allows the request, every "not enough" stays denied`, () => {
      const loaded = loadPolicy(readFileSync(p.path));
      if (!loaded.ok) throw new Error(loaded.error.message);
      const policy = loaded.value;
      const queries = [...(p.name === 'default' ? ISSUE_EXAMPLES : []), ...generateQueries(readPolicyNames(p.path), p.seed, COUNT)];
      const withFix: SepolQuery[] = [];
      const notEnough: SepolQuery[] = [];
      let unless = 0;
      for (const q of queries) {
        const a = computeAccess(policy, q);
        if (!a.ok || a.allowed) continue;
        const effect = a.because.booleans;
        const named = a.reason.startsWith('denied unless ');
        expect(named, `${q.scontext} -> ${q.tcontext} ${q.tclass}: ${a.reason}`).toBe((effect?.fixes.length ?? 0) > 0);
        if (named) unless++;
        for (const fix of effect?.fixes ?? []) {
          for (const f of fix) expect(a.reason).toContain(f.name);
          withFix.push({ ...q, booleans: { ...q.booleans, ...Object.fromEntries(fix.map((f) => [f.name, f.value])) } });
        }
        if (effect?.insufficient) {
          expect(a.reason).toContain('would not be enough');
          notEnough.push({ ...q, booleans: { ...q.booleans, ...Object.fromEntries(effect.insufficient.flips.map((f) => [f.name, f.value])) } });
        }
      }
      const fixed = askSepol(p.path, withFix);
      const still = askSepol(p.path, notEnough);
      const fixOk = fixed.filter((r) => r.ok && r.allowed.every(Boolean)).length;
      const stillOk = still.filter((r) => r.ok && !r.allowed.every(Boolean)).length;
      console.log(
        `boolean fixes ${p.name}: ${queries.length} queries, ${unless} "denied unless" answers; ${fixOk}/${withFix.length} named settings allowed by libsepol; ` +
          `${stillOk}/${notEnough.length} "would not be enough" still denied by libsepol`,
      );
      expect(fixOk).toBe(withFix.length);
      expect(stillOk).toBe(notEnough.length);
      // Both kinds must occur, or the check proves nothing.
      expect(withFix.length).toBeGreaterThan(10);
      expect(notEnough.length).toBeGreaterThan(p.name === 'default' ? 1 : 0);
    });
  }
});
