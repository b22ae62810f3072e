/**
 * The file levels a `labels` answer is conditioned on. Constraints compare the VM's level with the file's
 * only through dom/domby/eq/incomp (never with a fixed category), so whether a type is usable depends on
 * how the file's categories relate to the VM's, not on which categories they are: each scenario below is
 * one such relation, checked on concrete contexts. A dynamic label's "no categories" scenario is checked
 * for every pair libvirt could pick (the representatives of svirt-process.ts), the others for one VM.
 */
import { formatContext, type MlsLevel, type SecurityContext } from './context.js';
import { processContexts, type SvirtProcess } from './svirt-process.js';

export type ScenarioName = 'no-categories' | 'vm-categories' | 'vm-subset' | 'foreign' | 'superset' | 'full-range' | 'no-mls';

export interface Scenario {
  readonly name: ScenarioName;
  /** Process and file ranges (the text after user:role:type:), every pair of which must allow access. */
  readonly checks: readonly { readonly process: string; readonly file: string }[];
}

export const SCENARIO_WORDS: Readonly<Record<ScenarioName, string>> = {
  'no-categories': 'no categories (s0)',
  'vm-categories': "exactly the VM's categories",
  'vm-subset': "a subset of the VM's categories",
  foreign: 'a category the VM lacks',
  superset: "the VM's categories plus another",
  'full-range': 'a range up to every category (s0-s0:c0.cN)',
  'no-mls': 'any (the policy has no MLS)',
};

const level = (categories: readonly number[], sensitivity = 0): MlsLevel => ({ sensitivity, categories: [...categories].sort((a, b) => a - b) });

function rangeText(low: MlsLevel, high: MlsLevel = low): string {
  // formatContext prints user:role:type:range; the range is what follows the third colon.
  return formatContext({ user: 'u', role: 'r', type: 't', range: { low, high } }).split(':').slice(3).join(':');
}

function contextRange(c: string): string {
  return c.split(':').slice(3).join(':');
}

/**
 * The scenarios for one process: its own level V (a dynamic label's is s0:cX,cY, X and Y in libvirt's
 * range), a category Z outside V, and the policy's highest category for the full range.
 */
export function mcsScenarios(proc: SvirtProcess, mls: boolean, categoryCount: number, staticContext?: SecurityContext): Scenario[] {
  if (!mls) return [{ name: 'no-mls', checks: [{ process: '', file: '' }] }];
  const full = rangeText(level([]), level(Array.from({ length: categoryCount }, (_, i) => i)));
  const none = level([]);
  if (proc.kind === 'dynamic') {
    const { min, max } = proc.categories;
    const [x, y, z] = [min, min + 1, min + 2];
    const everyVm = processContexts(proc, { user: 'u', role: 'r', type: 't', range: { low: none, high: none } }).map(contextRange);
    const out: Scenario[] = [{ name: 'no-categories', checks: everyVm.map((p) => ({ process: p, file: rangeText(none) })) }];
    if (max - min < 2) return out; // libvirt's range leaves no room for the relations below
    const vm = rangeText(level([x, y]));
    const single = rangeText(level([x]));
    out.push(
      { name: 'vm-categories', checks: [{ process: vm, file: vm }, { process: single, file: single }] },
      { name: 'vm-subset', checks: [{ process: vm, file: single }] },
      { name: 'foreign', checks: [{ process: vm, file: rangeText(level([z])) }, { process: single, file: rangeText(level([z])) }] },
      { name: 'superset', checks: [{ process: vm, file: rangeText(level([x, y, z])) }] },
      { name: 'full-range', checks: [{ process: vm, file: full }] },
    );
    return out;
  }
  const range = staticContext?.range;
  const p = range ? rangeText(range.low, range.high) : rangeText(none);
  const own = range?.high ?? none;
  const cats = own.categories;
  let z = 0;
  while (cats.includes(z)) z++;
  const out: Scenario[] = [{ name: 'no-categories', checks: [{ process: p, file: rangeText(none) }] }];
  if (cats.length > 0) out.push({ name: 'vm-categories', checks: [{ process: p, file: rangeText(own) }] });
  if (cats.length > 1) out.push({ name: 'vm-subset', checks: [{ process: p, file: rangeText(level([cats[0]!], own.sensitivity)) }] });
  if (z < categoryCount) {
    out.push({ name: 'foreign', checks: [{ process: p, file: rangeText(level([z], own.sensitivity)) }] });
    if (cats.length > 0) out.push({ name: 'superset', checks: [{ process: p, file: rangeText(level([...cats, z], own.sensitivity)) }] });
  }
  out.push({ name: 'full-range', checks: [{ process: p, file: full }] });
  return out;
}

/** The MCS condition in words, from which scenarios allow access. */
export function conditionWords(passed: ReadonlyMap<ScenarioName, boolean>): string {
  const yes = [...passed].filter(([, ok]) => ok).map(([n]) => n);
  const no = [...passed].filter(([, ok]) => !ok).map(([n]) => n);
  if (no.length === 0) return passed.has('no-mls') ? 'no MCS condition (the policy has no MLS)' : 'at any level: MCS does not restrict this type';
  const dominated: ScenarioName[] = ['no-categories', 'vm-categories', 'vm-subset'];
  const present = dominated.filter((n) => passed.has(n));
  if (present.length === yes.length && present.every((n) => passed.get(n)) && present.length > 1)
    return "only with no categories or categories the VM's level dominates";
  const lowDominated: ScenarioName[] = [...dominated, 'full-range'];
  if (lowDominated.every((n) => passed.get(n) !== false) && yes.every((n) => lowDominated.includes(n)) && passed.get('full-range'))
    return "only when the VM's level dominates the file's low level (no categories or categories the VM has, whatever the file's high level)";
  if (yes.length === 1 && yes[0] === 'no-categories') return 'only with no categories (s0)';
  if (yes.length === 1 && yes[0] === 'vm-categories') return "only with exactly the VM's own categories (what libvirt's relabel gives it)";
  return `only with ${yes.map((n) => SCENARIO_WORDS[n]).join(', or ')}`;
}
