import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../../src/selinux/policy/load.js';
import { policyStatistics } from '../../../src/selinux/policy/stats.js';
import { missingRequirements } from '../../support/requirements.js';
import { seinfoStatistics } from './seinfo.js';

const POLICIES = ['/etc/selinux/default/policy/policy.33', '/etc/selinux/mls/policy/policy.33'];
const skip = missingRequirements({ commands: ['seinfo'], files: POLICIES });

describe.skipIf(skip !== undefined)("Debian's binary policies load and match seinfo", () => {
  for (const path of POLICIES) {
    it(`${path}: every seinfo count matches`, () => {
      const loaded = loadPolicy(readFileSync(path));
      if (!loaded.ok) throw new Error(`${path}: ${JSON.stringify(loaded.error)}`);
      const mine = policyStatistics(loaded.value);
      const reference = seinfoStatistics(path);
      // seinfo prints ~37 counts; all of them must be there and equal.
      expect(Object.keys(reference).length).toBeGreaterThan(35);
      for (const [key, value] of Object.entries(reference)) {
        expect({ key, value: mine[key as keyof typeof mine] }).toEqual({ key, value });
      }
      expect(loaded.value.mls).toBe(true);
    });
  }
});
