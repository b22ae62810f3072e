/**
 * The DAC engine against the Linux kernel itself: thousands of random trees built on a tmpfs, every
 * path opened by an unprivileged helper per identity, every verdict (errno class included) compared.
 * Seed and size: DAC_DIFF_SEED, DAC_DIFF_SCENARIOS (default 2000).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDacAccess, DacHostFacts, type DacVerdict } from '../../src/dac/check.js';
import { createLiveView } from '../../src/adapters/live/live-view.js';
import { missingRequirements } from '../support/requirements.js';
import { buildScenarios, resolveRoot } from './support/build-tree.js';
import { kernelClass, kernelOpen } from './support/kernel-open.js';
import { rng } from './support/prng.js';
import { makeScratch, type Scratch } from './support/scratch-fs.js';
import { generateScenario, IDENTITIES, type Scenario } from './support/scenarios.js';

const SEED = Number(process.env.DAC_DIFF_SEED ?? 20261128);
const COUNT = Number(process.env.DAC_DIFF_SCENARIOS ?? 2000);

const skip = missingRequirements({ root: true, commands: ['setpriv', 'setfacl'], files: ['/usr/bin/python3'] });

const engineClass = (v: DacVerdict) => (v.accessible === true ? 'ok' : v.accessible === false ? v.errno : `unknown: ${v.reason}`);

describe.skipIf(skip !== undefined)('DAC engine vs the kernel (setpriv, no capabilities)', () => {
  let scratch: Scratch | undefined;
  let base = '';
  let scenarios: Scenario[] = [];

  beforeAll(() => {
    scratch = makeScratch('virt-seclabel-dac-');
    base = scratch.base;
    const r = rng(SEED);
    scenarios = Array.from({ length: COUNT }, (_, i) => generateScenario(r, i));
    const t = performance.now();
    buildScenarios(base, scenarios);
    console.log(`dac differential: built ${COUNT} trees in ${Math.round(performance.now() - t)} ms`);
  });

  afterAll(() => scratch?.cleanup());

  it(`agrees with the kernel on every open of ${COUNT} random scenarios`, () => {
    const view = createLiveView();
    const facts = new DacHostFacts(view);
    const all = scenarios.flatMap((s) => s.queries.map((q) => ({ s, q, path: resolveRoot(base, s, q.path) })));
    // PATH_MAX at its edge: the same opens padded with "/." to 4094..4097 bytes.
    for (const x of all.slice(0, 40)) {
      for (const length of [4094, 4095, 4096, 4097]) {
        const need = length - Buffer.byteLength(x.path);
        if (need < 0) continue;
        const path = base + '/.'.repeat(Math.floor(need / 2)) + (need % 2 ? '/' : '') + x.path.slice(base.length);
        all.push({ ...x, path });
      }
    }
    const kernel = new Map<(typeof all)[number], string>();
    let t = performance.now();
    IDENTITIES.forEach((id, index) => {
      const mine = all.filter((x) => x.q.identity === index);
      const answers = kernelOpen(id, mine.map((x) => [x.path, x.q.want] as const));
      // The helper really ran as this identity and without any capability (uid 0 included).
      expect({ uid: answers.uid, gid: answers.gid, groups: answers.groups, capEff: answers.capEff }).toEqual({
        uid: id.uid,
        gid: id.gid,
        groups: [...id.groups].sort((a, b) => a - b),
        capEff: '0000000000000000',
      });
      mine.forEach((x, i) => kernel.set(x, kernelClass(answers.results[i]!)));
    });

    const kernelMs = performance.now() - t;
    t = performance.now();
    const mismatches: string[] = [];
    const byClass = new Map<string, number>();
    for (const x of all) {
      const id = IDENTITIES[x.q.identity]!;
      const verdict = checkDacAccess(view, id, x.path, x.q.want, { facts });
      const mine = engineClass(verdict);
      const theirs = kernel.get(x)!;
      byClass.set(theirs, (byClass.get(theirs) ?? 0) + 1);
      if (mine !== theirs) {
        mismatches.push(
          [
            `scenario ${x.s.id} (seed ${SEED}): ${JSON.stringify(x.path)} ${x.q.want} as ${JSON.stringify(id)}`,
            `  kernel: ${theirs}   engine: ${mine}   ${verdict.accessible === false ? verdict.reason : ''}`,
            ...x.s.nodes.map((n) => `    ${n.kind} ${JSON.stringify(n.rel)} ${n.mode.toString(8)} ${n.uid}:${n.gid}${n.acl ? ` acl ${n.acl}` : ''}${n.target ? ` -> ${JSON.stringify(n.target.replace(/\0ROOT\0/g, '$ROOT'))}` : ''}`),
          ].join('\n'),
        );
      }
    }
    const engineMs = performance.now() - t;
    const agree = all.length - mismatches.length;
    console.log(
      `dac differential: ${agree}/${all.length} agree (${COUNT} scenarios, seed ${SEED}, ${scratch!.kind}); kernel outcomes: ${[...byClass].map(([k, v]) => `${k} ${v}`).join(', ')}; kernel ${Math.round(kernelMs)} ms, engine ${Math.round(engineMs)} ms`,
    );
    if (mismatches.length > 0) console.log(mismatches.slice(0, 8).join('\n\n'));
    // The suite must exercise every outcome, or it proves less than it claims.
    for (const c of ['ok', 'EACCES', 'ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG', 'EISDIR']) expect(byClass.get(c) ?? 0).toBeGreaterThan(0);
    expect(mismatches.length).toBe(0);
    expect(all.length).toBeGreaterThanOrEqual(COUNT);
  }, 600_000);
});
