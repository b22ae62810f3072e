/**
 * Which file types the svirt process may use for disks: the query behind `virt-seclabel labels`.
 *
 * Computed the way a policy analysis tool would, not type by type through the rule base:
 *  1. one scan of the avtab and the conditional avtab keeps the allow rules whose source is the process
 *     type or one of its attributes and whose class is a disk class;
 *  2. those rules are expanded through the attribute → types bitmaps into one access vector per target
 *     type (exactly the TE stage of context_struct_compute_av, for every target at once);
 *  3. only the types whose vector holds every permission QEMU needs are checked in full (constraints,
 *     MLS, typebounds: computeAv) on concrete contexts, one per MCS scenario (mcs-scenarios.ts).
 * Step 2 can only over-approximate the final answer (later stages only remove), so step 3 is exact.
 * Boolean flips rerun steps 2 and 3 under the flipped value, for every boolean, over the rules from step 1.
 */
import { failure, success, type Result } from '../result.js';
import { parseContext } from './context.js';
import { conditionWords, mcsScenarios, type Scenario, type ScenarioName } from './mcs-scenarios.js';
import { CondSwitches } from './policy/cond-eval.js';
import { computeAv } from './policy/compute-av.js';
import { AVTAB, packedSet, type ClassDatum, type ContextStruct, type Policy } from './policy/model.js';
import { resolveContext } from './policy/resolve-context.js';
import { READ_PERMS, READ_WRITE_PERMS } from './qemu-perms.js';
import type { SvirtProcess } from './svirt-process.js';

export type MediaUse = 'read-only' | 'read-write';
export type MediaClass = 'file' | 'blk_file';

/** Read-only media and shareable writable disks, with the permission sets annotate requires for each. */
export const MEDIA_USES: readonly { readonly use: MediaUse; readonly perms: readonly string[] }[] = [
  { use: 'read-only', perms: READ_PERMS },
  { use: 'read-write', perms: READ_WRITE_PERMS },
];
export const MEDIA_CLASSES: readonly MediaClass[] = ['file', 'blk_file'];

/** Files are labelled with this user and role (genfscon, file_contexts, libvirt's relabels alike). */
export const FILE_USER = 'system_u';
export const FILE_ROLE = 'object_r';

export interface UsableType {
  readonly type: string;
  readonly use: MediaUse;
  readonly tclass: MediaClass;
  /** Which file levels allow access (see SCENARIO_WORDS), and the same in words. */
  readonly levels: Readonly<Partial<Record<ScenarioName, boolean>>>;
  readonly condition: string;
}

export interface FlipAddition extends UsableType {
  readonly boolean: string;
  /** The value the boolean is flipped to. */
  readonly value: boolean;
}

export interface UsableTypesAnswer {
  readonly usable: readonly UsableType[];
  readonly flips: readonly FlipAddition[];
  /** The boolean values the answer is under (policy defaults or the caller's base, overrides applied). */
  readonly booleans: ReadonlyMap<string, boolean>;
}

/** A process context's parts, for building the concrete contexts of each scenario. */
function processParts(proc: SvirtProcess): { user: string; role: string; type: string } | string {
  if (proc.kind === 'dynamic') return proc;
  const c = parseContext(proc.context);
  return c.ok ? c.value : `--context ${proc.context}: ${c.error}`;
}

const withRange = (base: string, range: string) => (range === '' ? base : `${base}:${range}`);

export function booleanState(policy: Policy, values: Readonly<Record<string, boolean>>): boolean[] | string {
  const state = policy.bools.byValue.map((b) => b?.defaultState ?? false);
  for (const [name, value] of Object.entries(values)) {
    const b = policy.bools.byName.get(name);
    if (!b) return `unknown boolean ${name}`;
    state[b.value - 1] = value;
  }
  return state;
}

function permMask(cls: ClassDatum, perms: readonly string[]): number | string {
  let mask = 0;
  for (const p of perms) {
    const v = cls.perms.get(p) ?? cls.common?.perms.get(p);
    if (v === undefined) return `class ${cls.name} has no permission ${p}`;
    mask |= 1 << (v - 1);
  }
  return mask >>> 0;
}

/** Step 1: the allow rules (indices) that can reach the process type, per table. */
function relevantRules(policy: Policy, sourceType: number, classes: ReadonlySet<number>): { te: number[]; cond: number[] } {
  const isSource = new Uint8Array(policy.types.count + 1);
  for (const a of packedSet(policy.typeAttrMap, sourceType - 1)) isSource[a + 1] = 1;
  const pick = (t: Policy['avtab'], allowed: (spec: number) => boolean): number[] => {
    const out: number[] = [];
    for (let i = 0; i < t.size; i++) if (isSource[t.source[i]!] === 1 && classes.has(t.tclass[i]!) && allowed(t.specified[i]!)) out.push(i);
    return out;
  };
  // As computeAv: an unconditional entry counts only when its specifier is exactly "allowed".
  return { te: pick(policy.avtab, (s) => s === AVTAB.ALLOWED), cond: pick(policy.condAvtab, (s) => (s & AVTAB.ALLOWED) !== 0) };
}

/** Step 2: the TE access vector of class `tclass` for every target type value, under `conds`. */
function teVectors(policy: Policy, rules: { te: number[]; cond: number[] }, tclass: number, conds: CondSwitches): Uint32Array {
  const vec = new Uint32Array(policy.types.count + 1);
  const add = (t: Policy['avtab'], i: number) => {
    if (t.tclass[i] !== tclass) return;
    for (const member of packedSet(policy.attrTypeMap, t.target[i]! - 1)) vec[member + 1]! |= t.data[i]!;
  };
  for (const i of rules.te) add(policy.avtab, i);
  for (const i of rules.cond) if (conds.enabled(i)) add(policy.condAvtab, i);
  return vec;
}

interface Prepared {
  readonly scenarios: readonly { readonly name: ScenarioName; readonly pairs: readonly { s: ContextStruct; t: ContextStruct }[] }[];
  readonly sourceType: number;
}

function prepare(policy: Policy, proc: SvirtProcess): Prepared | string {
  const parts = processParts(proc);
  if (typeof parts === 'string') return parts;
  const staticCtx = proc.kind === 'static' ? parseContext(proc.context) : undefined;
  const scenarios: Scenario[] = mcsScenarios(proc, policy.mls, policy.categories.count, staticCtx?.ok ? staticCtx.value : undefined);
  const resolved: Prepared['scenarios'][number][] = [];
  for (const sc of scenarios) {
    const pairs: { s: ContextStruct; t: ContextStruct }[] = [];
    for (const check of sc.checks) {
      const s = resolveContext(policy, proc.kind === 'static' ? proc.context : withRange(`${parts.user}:${parts.role}:${parts.type}`, check.process));
      if (!s.ok) return `process context: ${s.error}`;
      // The file's type is filled in per candidate; the process's own type stands in while resolving.
      const t = resolveContext(policy, withRange(`${FILE_USER}:${FILE_ROLE}:${parts.type}`, check.file));
      if (!t.ok) return `file context: ${t.error}`;
      pairs.push({ s: s.value, t: t.value });
    }
    resolved.push({ name: sc.name, pairs });
  }
  const type = policy.types.byName.get(parts.type);
  if (!type || type.isAttribute) return `process type ${parts.type} is not a type of this policy`;
  return { scenarios: resolved, sourceType: type.value };
}

/** Step 3 for one candidate: which scenarios allow every permission. */
function levelsFor(policy: Policy, prep: Prepared, type: number, tclass: number, mask: number, conds: CondSwitches): Map<ScenarioName, boolean> {
  const out = new Map<ScenarioName, boolean>();
  for (const sc of prep.scenarios) {
    out.set(sc.name, sc.pairs.every(({ s, t }) => ((computeAv(policy, s, { ...t, type }, tclass, mask, conds, false).allowed & mask) >>> 0) === mask));
  }
  return out;
}

function usableUnder(policy: Policy, prep: Prepared, rules: { te: number[]; cond: number[] }, conds: CondSwitches, skip?: (use: MediaUse, tclass: MediaClass, type: string) => boolean): UsableType[] {
  const out: UsableType[] = [];
  for (const tclass of MEDIA_CLASSES) {
    const cls = policy.classes.byName.get(tclass)!;
    const vec = teVectors(policy, rules, cls.value, conds);
    for (const { use, perms } of MEDIA_USES) {
      const mask = permMask(cls, perms) as number;
      for (let v = 1; v <= policy.types.count; v++) {
        if (((vec[v]! & mask) >>> 0) !== mask) continue;
        const datum = policy.types.byValue[v - 1];
        if (!datum || datum.isAttribute || skip?.(use, tclass, datum.name)) continue;
        const levels = levelsFor(policy, prep, v, cls.value, mask, conds);
        if (![...levels.values()].some(Boolean)) continue;
        out.push({ type: datum.name, use, tclass, levels: Object.fromEntries(levels), condition: conditionWords(levels) });
      }
    }
  }
  return out.sort((a, b) => (a.use === b.use ? (a.tclass === b.tclass ? (a.type < b.type ? -1 : a.type > b.type ? 1 : 0) : a.tclass < b.tclass ? -1 : 1) : a.use < b.use ? -1 : 1));
}

/**
 * Every type the process may use for read-only media and for shareable writable disks, on files and
 * block devices, under `booleans` (on top of the policy's defaults), and what flipping each boolean adds.
 */
export function usableTypes(policy: Policy, proc: SvirtProcess, booleans: Readonly<Record<string, boolean>>): Result<UsableTypesAnswer, string> {
  for (const c of MEDIA_CLASSES) {
    const cls = policy.classes.byName.get(c);
    if (!cls) return failure(`the policy has no class ${c}`);
    for (const { perms } of MEDIA_USES) {
      const m = permMask(cls, perms);
      if (typeof m === 'string') return failure(m);
    }
  }
  const state = booleanState(policy, booleans);
  if (typeof state === 'string') return failure(state);
  const prep = prepare(policy, proc);
  if (typeof prep === 'string') return failure(prep);
  const classes = new Set(MEDIA_CLASSES.map((c) => policy.classes.byName.get(c)!.value));
  const rules = relevantRules(policy, prep.sourceType, classes);
  const usable = usableUnder(policy, prep, rules, new CondSwitches(policy, state));
  const listed = new Set(usable.map((u) => `${u.use}/${u.tclass}/${u.type}`));
  const flips: FlipAddition[] = [];
  policy.bools.byValue.forEach((b, i) => {
    if (!b) return;
    const flipped = state.slice();
    flipped[i] = !state[i];
    const added = usableUnder(policy, prep, rules, new CondSwitches(policy, flipped), (use, tclass, type) => listed.has(`${use}/${tclass}/${type}`));
    for (const a of added) flips.push({ ...a, boolean: b.name, value: flipped[i]! });
  });
  flips.sort((a, b) => (a.boolean < b.boolean ? -1 : a.boolean > b.boolean ? 1 : 0));
  const values = new Map<string, boolean>();
  policy.bools.byValue.forEach((b, i) => b && values.set(b.name, state[i]!));
  return success({ usable, flips, booleans: values });
}
