import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../../src/selinux/policy/load.js';
import { policyStatistics } from '../../../src/selinux/policy/stats.js';
import { missingRequirements } from '../../support/requirements.js';
import { seinfoStatistics } from './seinfo.js';

const SOURCES = join(import.meta.dirname, '..', 'policies');
const VERSIONS = [24, 25, 26, 27, 28, 29, 30, 31, 32, 33];
const skip = missingRequirements({ commands: ['checkpolicy', 'seinfo'] });

/** checkpolicy writes each binary version; the reader must load every one and agree with seinfo. */
describe.skipIf(skip !== undefined)('checkpolicy-compiled tiny policies, versions 24..33', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vs-policies-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases = [
    { source: 'tiny.conf', mls: false },
    { source: 'tiny-mls.conf', mls: true },
  ];
  for (const { source, mls } of cases) {
    for (const version of VERSIONS) {
      it(`${source} -c ${version}${mls ? ' -M' : ''}`, () => {
        const out = join(dir, `${source}.${version}`);
        execFileSync('checkpolicy', [...(mls ? ['-M'] : []), '-c', String(version), '-o', out, join(SOURCES, source)], { stdio: 'pipe' });
        const loaded = loadPolicy(readFileSync(out));
        if (!loaded.ok) throw new Error(JSON.stringify(loaded.error));
        expect(loaded.value.version).toBe(version);
        expect(loaded.value.mls).toBe(mls);
        const mine = policyStatistics(loaded.value);
        const reference = seinfoStatistics(out);
        for (const [key, value] of Object.entries(reference)) {
          expect({ key, value: mine[key as keyof typeof mine] }).toEqual({ key, value });
        }
      });
    }
  }
});
