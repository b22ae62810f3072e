/**
 * `labels` (selinux/usable-types.ts) against libsepol on Debian's real policies, under the default
 * booleans, all booleans on and all off: every listed type, in every MCS scenario, must get libsepol's
 * answer for the scenario's concrete contexts; a random concrete category set is checked against the
 * condition each listed type carries; a sample of unlisted types must be denied in every scenario; every
 * "one boolean flip adds" entry must be denied by libsepol under the base values and allowed under the
 * flip, and a sample of (boolean, unlisted type) pairs must stay denied under the flip.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeAccess } from '../../../src/selinux/access.js';
import { checkLabel } from '../../../src/selinux/label-check.js';
import { mcsScenarios, type ScenarioName } from '../../../src/selinux/mcs-scenarios.js';
import { loadPolicy } from '../../../src/selinux/policy/load.js';
import type { Policy } from '../../../src/selinux/policy/model.js';
import type { SvirtProcess } from '../../../src/selinux/svirt-process.js';
import { FILE_ROLE, FILE_USER, MEDIA_CLASSES, MEDIA_USES, usableTypes, type MediaClass, type MediaUse, type UsableType } from '../../../src/selinux/usable-types.js';
import { missingRequirements } from '../../support/requirements.js';
import { askSepol, listSepol, type SepolQuery } from '../reference/sepol.js';
import { compilePolicy } from './compile.js';
import { Rng } from './random.js';
import { LIBSEPOL_A } from '../reference/debian.js';

const REAL = ['/etc/selinux/default/policy/policy.33', '/etc/selinux/mls/policy/policy.33'];
const skip = missingRequirements({ commands: ['cc', 'checkpolicy'], files: [LIBSEPOL_A, ...REAL] });
const POLICIES = skip ? [] : [
  { name: 'default', path: REAL[0]!, minListed: 50 },
  { name: 'mls', path: REAL[1]!, minListed: 50 },
  { name: 'tiny (labels.conf)', path: compilePolicy({ conf: 'labels', version: 33, mls: true, handleUnknown: 'deny' }), minListed: 8 },
];

const SVIRT = { kind: 'dynamic', user: 'system_u', role: 'system_r', type: 'svirt_t', mls: true } as const;
/** libvirt's range is c0..c1023, or as far as the policy's categories go (the tiny policy has 8). */
const dynamicFor = (policy: Policy): SvirtProcess => ({ ...SVIRT, categories: { min: 0, max: Math.min(1023, policy.categories.count - 1) } });

function load(path: string): Policy {
  const r = loadPolicy(readFileSync(path));
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const ctx = (base: string, range: string) => (range === '' ? base : `${base}:${range}`);
const permsOf = (use: MediaUse) => MEDIA_USES.find((u) => u.use === use)!.perms;

/** The concrete questions of each scenario for one (type, use, class), as libsepol is asked them. */
function scenarioQueries(policy: Policy, type: string, use: MediaUse, tclass: MediaClass, booleans: Record<string, boolean>): Map<ScenarioName, SepolQuery[]> {
  const out = new Map<ScenarioName, SepolQuery[]>();
  for (const sc of mcsScenarios(dynamicFor(policy), policy.mls, policy.categories.count)) {
    out.set(sc.name, sc.checks.map((c) => ({
      scontext: ctx('system_u:system_r:svirt_t', c.process),
      tcontext: ctx(`${FILE_USER}:${FILE_ROLE}:${type}`, c.file),
      tclass,
      perms: permsOf(use),
      booleans,
    })));
  }
  return out;
}

/** Asks libsepol every scenario of every item; returns per item which scenarios all-allowed. */
function sepolLevels(path: string, items: readonly Map<ScenarioName, SepolQuery[]>[]): Map<ScenarioName, boolean>[] {
  const flat = items.flatMap((m) => [...m.values()].flat());
  const answers = askSepol(path, flat);
  let k = 0;
  return items.map((m) => {
    const levels = new Map<ScenarioName, boolean>();
    for (const [name, qs] of m) {
      let all = true;
      for (let i = 0; i < qs.length; i++) {
        const a = answers[k++]!;
        if (!a.ok) throw new Error(`libsepol refused ${qs[i]!.scontext} -> ${qs[i]!.tcontext}: ${a.message}`);
        all &&= a.allowed.every(Boolean);
      }
      levels.set(name, all);
    }
    return levels;
  });
}

const show = (l: ReadonlyMap<string, boolean> | Readonly<Record<string, boolean | undefined>>) =>
  JSON.stringify(l instanceof Map ? Object.fromEntries(l) : l);

function allBooleans(policy: Policy, value: boolean): Record<string, boolean> {
  return Object.fromEntries(policy.bools.byValue.filter((b) => b).map((b) => [b!.name, value]));
}

describe.skipIf(skip)('labels vs libsepol on Debian policies', () => {
  for (const p of POLICIES) {
    const policy = load(p.path);
    const settings = [
      { name: 'defaults', booleans: {} as Record<string, boolean> },
      { name: 'all on', booleans: allBooleans(policy, true) },
      { name: 'all off', booleans: allBooleans(policy, false) },
    ];
    for (const setting of settings) {
      it(`${p.name}, booleans ${setting.name}: every listed type, the MCS condition and a sample of unlisted types agree`, () => {
        const r = usableTypes(policy, dynamicFor(policy), setting.booleans);
        if (!r.ok) throw new Error(r.error);
        const full = Object.fromEntries(r.value.booleans);
        const listed = r.value.usable;
        expect(listed.length).toBeGreaterThanOrEqual(p.minListed);
        const listedKeys = new Set(listed.map((u) => `${u.use}/${u.tclass}/${u.type}`));
        // Types as libsepol names them, never attributes, sorted within each (use, class).
        const sepolTypes = new Set(listSepol(p.path, 'types').map((row) => row[0]));
        const sepolAttributes = new Set(listSepol(p.path, 'attributes').map((row) => row[0]));
        expect(listed.filter((u) => !sepolTypes.has(u.type) || sepolAttributes.has(u.type))).toEqual([]);
        const keys = listed.map((u) => `${u.use}\t${u.tclass}\t${u.type}`);
        expect(keys).toEqual([...keys].sort());
        const ref = sepolLevels(p.path, listed.map((u) => scenarioQueries(policy, u.type, u.use, u.tclass, full)));
        const wrong = listed.map((u, i) => ({ u, want: ref[i]! })).filter(({ u, want }) => show(u.levels) !== show(want));

        // A random concrete VM and file level per listed type, against the scenario the condition names.
        const rng = new Rng(0x1abe1 + listed.length);
        const concrete: { u: UsableType; scenario: ScenarioName; q: SepolQuery }[] = [];
        for (const u of listed) {
          const [a, b, c] = distinct(rng, 3, policy.categories.count) as [number, number, number];
          const vm = `s0:c${Math.min(a, b)},c${Math.max(a, b)}`;
          for (const [scenario, file] of [['vm-subset', `s0:c${a}`], ['foreign', `s0:c${c}`], ['vm-categories', vm]] as const) {
            concrete.push({ u, scenario, q: { scontext: `system_u:system_r:svirt_t:${vm}`, tcontext: `${FILE_USER}:${FILE_ROLE}:${u.type}:${file}`, tclass: u.tclass, perms: permsOf(u.use), booleans: full } });
          }
        }
        const concreteAnswers = askSepol(p.path, concrete.map((c) => c.q));
        // The concrete check is one VM, so a scenario the engine says passes must pass here; one it says
        // fails may pass for this VM only when the failure came from another VM of the scenario.
        const conditionWrong = concrete.filter((c, i) => {
          const a = concreteAnswers[i]!;
          return !a.ok || (c.u.levels[c.scenario] === true && !a.allowed.every(Boolean)) || (c.u.levels[c.scenario] === false && c.scenario !== 'vm-categories' && a.allowed.every(Boolean));
        });

        // Unlisted sample: no scenario may allow access.
        let nearMisses = 0;
        const sample: { use: MediaUse; tclass: MediaClass; type: string }[] = [];
        const types = policy.types.byValue.filter((t) => t && !t.isAttribute).map((t) => t!.name);
        for (const { use } of MEDIA_USES) for (const tclass of MEDIA_CLASSES) {
          for (let n = 0; n < 60; n++) {
            const type = types[rng.int(0, types.length - 1)]!;
            if (!listedKeys.has(`${use}/${tclass}/${type}`)) sample.push({ use, tclass, type });
          }
        }
        // Near misses: every type where svirt_t may `read` (one permission of the set) but that is not listed.
        for (const { use } of MEDIA_USES) for (const tclass of MEDIA_CLASSES) {
          for (const type of types) {
            if (listedKeys.has(`${use}/${tclass}/${type}`)) continue;
            const a = computeAccess(policy, { scontext: 'system_u:system_r:svirt_t:s0:c1,c2', tcontext: `${FILE_USER}:${FILE_ROLE}:${type}:s0`, tclass, perms: ['read'], booleans: full });
            if (a.ok && a.allowed) { sample.push({ use, tclass, type }); nearMisses++; }
          }
        }
        const sampleRef = sepolLevels(p.path, sample.map((s) => scenarioQueries(policy, s.type, s.use, s.tclass, full)));
        const falselyUnlisted = sample.filter((_, i) => [...sampleRef[i]!.values()].some(Boolean));

        console.log(`labels ${p.name} booleans ${setting.name}: ${listed.length} listed (use/class/type), ${listed.length - wrong.length}/${listed.length} agree in every scenario; ` +
          `${concrete.length - conditionWrong.length}/${concrete.length} random category sets agree with the condition; ${sample.length - falselyUnlisted.length}/${sample.length} unlisted sampled (${nearMisses} of them near misses with read allowed) denied`);
        expect(wrong.map(({ u, want }) => `${u.use} ${u.tclass} ${u.type}: engine ${show(u.levels)} libsepol ${show(want)}`)).toEqual([]);
        expect(conditionWrong.map((c) => `${c.q.scontext} -> ${c.q.tcontext} ${c.q.tclass} (${c.scenario})`)).toEqual([]);
        expect(falselyUnlisted).toEqual([]);
      });
    }

    it(`${p.name}: every "one boolean flip adds" entry is computed by libsepol the same way`, () => {
      const r = usableTypes(policy, dynamicFor(policy), {});
      if (!r.ok) throw new Error(r.error);
      const base = Object.fromEntries(r.value.booleans);
      const flips = r.value.flips;
      expect(flips.length).toBeGreaterThan(0);
      const before = sepolLevels(p.path, flips.map((f) => scenarioQueries(policy, f.type, f.use, f.tclass, base)));
      const after = sepolLevels(p.path, flips.map((f) => scenarioQueries(policy, f.type, f.use, f.tclass, { ...base, [f.boolean]: f.value })));
      const wrong = flips.filter((f, i) => [...before[i]!.values()].some(Boolean) || show(after[i]!) !== show(f.levels));

      // Flips the engine did not report: a sample of (boolean, type) pairs stays denied under the flip.
      const rng = new Rng(0xf11b);
      const reported = new Set(flips.map((f) => `${f.boolean}/${f.use}/${f.tclass}/${f.type}`));
      const listed = new Set(r.value.usable.map((u) => `${u.use}/${u.tclass}/${u.type}`));
      const bools = [...r.value.booleans.keys()];
      const types = policy.types.byValue.filter((t) => t && !t.isAttribute).map((t) => t!.name);
      // Bias the sample to the types some flip adds (other booleans) and to file-ish types the rules name.
      const flipTypes = [...new Set(flips.map((f) => f.type))];
      const pairs: { boolean: string; type: string; use: MediaUse; tclass: MediaClass }[] = [];
      for (let n = 0; n < 300; n++) {
        const boolean = bools[rng.int(0, bools.length - 1)]!;
        const type = n % 3 === 0 && flipTypes.length > 0 ? flipTypes[rng.int(0, flipTypes.length - 1)]! : types[rng.int(0, types.length - 1)]!;
        const use = MEDIA_USES[rng.int(0, 1)]!.use;
        const tclass = MEDIA_CLASSES[rng.int(0, 1)]!;
        const key = `${use}/${tclass}/${type}`;
        if (!listed.has(key) && !reported.has(`${boolean}/${key}`)) pairs.push({ boolean, type, use, tclass });
      }
      const pairRef = sepolLevels(p.path, pairs.map((q) => scenarioQueries(policy, q.type, q.use, q.tclass, { ...base, [q.boolean]: !base[q.boolean] })));
      const missed = pairs.filter((_, i) => [...pairRef[i]!.values()].some(Boolean));
      console.log(`labels ${p.name} boolean flips: ${flips.length} entries, ${flips.length - wrong.length}/${flips.length} agree with libsepol (denied before, same levels after); ${pairs.length - missed.length}/${pairs.length} sampled unreported (boolean, type) pairs stay denied`);
      expect(wrong.map((f) => `${f.boolean}=${f.value} ${f.use} ${f.tclass} ${f.type}`)).toEqual([]);
      expect(missed).toEqual([]);
    });
  }
});


describe.skipIf(skip)('labels differential, negative control', () => {
  it('a list computed under other booleans than libsepol is asked under disagrees', () => {
    const path = compilePolicy({ conf: 'labels', version: 33, mls: true, handleUnknown: 'deny' });
    const policy = load(path);
    const r = usableTypes(policy, dynamicFor(policy), { share_nfs: true });
    if (!r.ok) throw new Error(r.error);
    const ref = sepolLevels(path, r.value.usable.map((u) => scenarioQueries(policy, u.type, u.use, u.tclass, { share_nfs: false })));
    const wrong = r.value.usable.filter((u, i) => show(u.levels) !== show(ref[i]!)).map((u) => u.type);
    expect(wrong).toEqual(['nfs_t']);
  });
});


describe.skipIf(skip)('labels --check vs libsepol', () => {
  for (const p of POLICIES) {
    it(`${p.name}: every verdict equals libsepol's over every VM context it checks`, () => {
      const policy = load(p.path);
      const proc = dynamicFor(policy);
      const rng = new Rng(0xc4ec);
      const types = policy.types.byValue.filter((t) => t && !t.isAttribute).map((t) => t!.name);
      const r = usableTypes(policy, proc, {});
      if (!r.ok) throw new Error(r.error);
      const pick = [...new Set(r.value.usable.map((u) => u.type))].concat(Array.from({ length: 40 }, () => types[rng.int(0, types.length - 1)]!));
      const max = proc.kind === 'dynamic' ? proc.categories.max : 0;
      const labels = pick.flatMap((t) => [`${FILE_USER}:${FILE_ROLE}:${t}:s0`, `${FILE_USER}:${FILE_ROLE}:${t}:s0:c${rng.int(0, max)}`]);
      const verdicts = labels.map((label) => ({ label, v: checkLabel(policy, proc, label, {}) }));
      const queries: SepolQuery[] = [];
      for (const { label, v } of verdicts) {
        if (!v.ok) throw new Error(v.error);
        for (const a of v.value) for (const s of a.processContexts) queries.push({ scontext: s, tcontext: label, tclass: a.tclass, perms: permsOf(a.use) });
      }
      const answers = askSepol(p.path, queries);
      let k = 0;
      let allowed = 0;
      const wrong: string[] = [];
      for (const { label, v } of verdicts) {
        if (!v.ok) continue;
        for (const a of v.value) {
          let all = true;
          for (let i = 0; i < a.processContexts.length; i++) {
            const ans = answers[k++]!;
            all &&= ans.ok && ans.allowed.every(Boolean);
          }
          if (all !== a.allowed) wrong.push(`${label} ${a.use} ${a.tclass}: engine ${a.allowed}`);
          if (a.allowed) allowed++;
        }
      }
      const total = verdicts.length * 4;
      console.log(`labels --check ${p.name}: ${total - wrong.length}/${total} verdicts agree with libsepol (${allowed} allowed), ${queries.length} libsepol questions`);
      expect(allowed).toBeGreaterThan(0);
      expect(allowed).toBeLessThan(total);
      expect(wrong).toEqual([]);
    });
  }
});

function distinct(rng: Rng, n: number, count: number): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const c = rng.int(0, count - 1);
    if (!out.includes(c)) out.push(c);
  }
  return out;
}
