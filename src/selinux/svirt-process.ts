/**
 * The context QEMU runs in, per domain, as libvirt's SELinux driver gives it. A static label is exact.
 * A dynamic label gets random MCS categories at start (s0:cX,cY, X≠Y in c0..c1023), unknown when we
 * decide, so a file is provably accessible only if access holds for every pair libvirt could pick.
 *
 * Constraints compare levels only with each other (dom, domby, eq, incomp on l1/h1/l2/h2), never with
 * a fixed category, so the answer for a pair depends only on how X and Y relate to the target's low
 * and high category sets. Each category falls in one of four classes (in low and high, low only, high
 * only, neither); checking one representative pair per combination of classes covers all ~523,000 pairs
 * exactly. Directories and links on the path are checked with the same representatives.
 */
import { failure, success, type Result } from '../result.js';
import { formatContext, parseContext, type MlsLevel, type SecurityContext } from './context.js';

/** libvirt's default MCS range for dynamic labels (virSecuritySELinuxMCSGetProcessRange on s0-s0:c0.c1023). */
export const DYNAMIC_CATEGORY_MIN = 0;
export const DYNAMIC_CATEGORY_MAX = 1023;

export type SvirtProcess =
  | { readonly kind: 'static'; readonly context: string }
  | { readonly kind: 'dynamic'; readonly user: string; readonly role: string; readonly type: string; readonly mls: boolean };

export const DEFAULT_DYNAMIC = { user: 'system_u', role: 'system_r', type: 'svirt_t' } as const;

export function dynamicProcess(opts: {
  baselabel: string | undefined;
  domainType: string | undefined;
  tcgTypeExists: boolean;
  mls: boolean;
}): Result<SvirtProcess, string> {
  if (opts.baselabel !== undefined) {
    const base = parseContext(opts.baselabel);
    if (!base.ok) return failure(`<baselabel>: ${base.error}`);
    return success({ kind: 'dynamic', user: base.value.user, role: base.value.role, type: base.value.type, mls: opts.mls });
  }
  // libvirt uses svirt_tcg_t for TCG domains when the policy defines it (Fedora), svirt_t otherwise.
  const type = opts.domainType === 'qemu' && opts.tcgTypeExists ? 'svirt_tcg_t' : DEFAULT_DYNAMIC.type;
  return success({ kind: 'dynamic', user: DEFAULT_DYNAMIC.user, role: DEFAULT_DYNAMIC.role, type, mls: opts.mls });
}

function classOf(c: number, low: ReadonlySet<number>, high: ReadonlySet<number>): number {
  return (low.has(c) ? 1 : 0) | (high.has(c) ? 2 : 0);
}

/**
 * Representative category pairs for a target whose level is `target` (low/high). Returns pairs of
 * distinct categories in [min, max], one per reachable combination of classes.
 */
export function representativePairs(
  target: { low: MlsLevel; high: MlsLevel } | undefined,
  min = DYNAMIC_CATEGORY_MIN,
  max = DYNAMIC_CATEGORY_MAX,
): [number, number][] {
  const low = new Set(target?.low.categories ?? []);
  const high = new Set(target?.high.categories ?? []);
  // Up to two members of each class are enough to build every combination.
  const members: number[][] = [[], [], [], []];
  const interesting = new Set<number>([...low, ...high].filter((c) => c >= min && c <= max));
  const consider = (c: number) => {
    const bucket = members[classOf(c, low, high)]!;
    if (bucket.length < 2 && !bucket.includes(c)) bucket.push(c);
  };
  for (const c of [...interesting].sort((a, b) => a - b)) consider(c);
  // The "neither" class: the smallest categories outside both sets.
  for (let c = min; c <= max && members[0]!.length < 2; c++) if (!interesting.has(c)) consider(c);
  const pairs: [number, number][] = [];
  for (let a = 0; a < 4; a++)
    for (let b = a; b < 4; b++) {
      const A = members[a]!;
      const B = members[b]!;
      if (a === b) {
        if (A.length >= 2) pairs.push([A[0]!, A[1]!]);
      } else if (A.length >= 1 && B.length >= 1) {
        pairs.push([Math.min(A[0]!, B[0]!), Math.max(A[0]!, B[0]!)]);
      }
    }
  return pairs;
}

/** Concrete process contexts to ask about, for a target label. */
export function processContexts(proc: SvirtProcess, target: SecurityContext | undefined): string[] {
  if (proc.kind === 'static') return [proc.context];
  const base = `${proc.user}:${proc.role}:${proc.type}`;
  if (!proc.mls) return [base];
  return representativePairs(target?.range).map(([x, y]) =>
    formatContext({ user: proc.user, role: proc.role, type: proc.type, range: { low: { sensitivity: 0, categories: [x, y] }, high: { sensitivity: 0, categories: [x, y] } } }),
  );
}

