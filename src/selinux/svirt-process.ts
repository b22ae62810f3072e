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
  | {
      readonly kind: 'dynamic';
      readonly user: string;
      readonly role: string;
      readonly type: string;
      readonly mls: boolean;
      /** The category range libvirt picks from (the daemon's own high level). */
      readonly categories: { readonly min: number; readonly max: number };
    };

export const DEFAULT_DYNAMIC = { user: 'system_u', role: 'system_r', type: 'svirt_t' } as const;

/** The daemon's own SELinux user, role and category range, which libvirt copies into every dynamic label. */
export interface DaemonIdentity {
  readonly user: string;
  readonly role: string;
  readonly categories: { readonly min: number; readonly max: number };
}

/** libvirtd (system): system_u:system_r:virtd_t:s0-s0:c0.c1023. */
export const SYSTEM_DAEMON: DaemonIdentity = { user: 'system_u', role: 'system_r', categories: { min: DYNAMIC_CATEGORY_MIN, max: DYNAMIC_CATEGORY_MAX } };

/** The daemon identity from its context (session mode: the user's own); undefined when it says no user/role. */
export function daemonFromContext(context: string): Result<DaemonIdentity, string> {
  const c = parseContext(context.replace(/\0$/, '').trim());
  if (!c.ok) return failure(c.error);
  const cats = c.value.range?.high.categories ?? [];
  const categories = cats.length > 0 ? { min: cats[0]!, max: cats[cats.length - 1]! } : { min: DYNAMIC_CATEGORY_MIN, max: DYNAMIC_CATEGORY_MAX };
  return success({ user: c.value.user, role: c.value.role, categories });
}

/**
 * As virSecuritySELinuxGenLabel + GenNewContext: the base context is the domain's <baselabel>, else the
 * policy's virtual_domain_context (its second line for TCG domains, when present); its user and role
 * are then replaced by the daemon's own, and the range by the random categories.
 */
export function dynamicProcess(opts: {
  baselabel: string | undefined;
  domainType: string | undefined;
  /** Lines of contexts/virtual_domain_context, when the policy store has it. */
  domainContexts: { readonly primary: string; readonly tcg?: string } | undefined;
  tcgTypeExists: boolean;
  mls: boolean;
  daemon: DaemonIdentity;
}): Result<SvirtProcess, string> {
  const fallback = {
    primary: `${DEFAULT_DYNAMIC.user}:${DEFAULT_DYNAMIC.role}:${DEFAULT_DYNAMIC.type}`,
    ...(opts.tcgTypeExists ? { tcg: `${DEFAULT_DYNAMIC.user}:${DEFAULT_DYNAMIC.role}:svirt_tcg_t` } : {}),
  };
  const contexts = opts.domainContexts ?? fallback;
  const baseText = opts.baselabel ?? (opts.domainType === 'qemu' ? (contexts.tcg ?? contexts.primary) : contexts.primary);
  const base = parseContext(baseText);
  if (!base.ok) return failure(`${opts.baselabel !== undefined ? '<baselabel>' : 'virtual_domain_context'}: ${base.error}`);
  return success({ kind: 'dynamic', user: opts.daemon.user, role: opts.daemon.role, type: base.value.type, mls: opts.mls, categories: opts.daemon.categories });
}

function classOf(c: number, low: ReadonlySet<number>, high: ReadonlySet<number>): number {
  return (low.has(c) ? 1 : 0) | (high.has(c) ? 2 : 0);
}

/**
 * Representative category sets for a target whose level is `target` (low/high): one single category
 * per non-empty class and one pair of distinct categories in [min, max] per reachable combination of
 * classes, each sorted ascending.
 */
export function representativePairs(
  target: { low: MlsLevel; high: MlsLevel } | undefined,
  min = DYNAMIC_CATEGORY_MIN,
  max = DYNAMIC_CATEGORY_MAX,
): number[][] {
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
  // libvirt may also pick a single category (its two random draws can coincide: s0:cX).
  const pairs: number[][] = members.filter((m) => m.length > 0).map((m) => [m[0]!]);
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
  return representativePairs(target?.range, proc.categories.min, proc.categories.max).map((categories) =>
    formatContext({ user: proc.user, role: proc.role, type: proc.type, range: { low: { sensitivity: 0, categories }, high: { sensitivity: 0, categories } } }),
  );
}

/**
 * Which svirt context to judge with: 'any-dynamic' (define time: every category pair libvirt could pick)
 * or 'generated' (the libvirt hook at start begin: the `<label>` libvirt has just generated is in the
 * XML, so it is exact).
 */
export type SvirtLabelSource = 'any-dynamic' | 'generated';
