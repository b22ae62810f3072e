/**
 * An oracle that answers from a policy projection (policy/projection.ts) where it can, and asks the
 * whole policy everywhere else. It answers itself only what it can answer exactly as the whole policy
 * would: a question whose source type and class are in the projection's scope, and whose answer is
 * "allowed" (the same engine, on tables identical for everything such a question reaches; the allow
 * sentence names the same rules). Every other question (another source type or class, an invalid
 * context, a denial, whose explanation may weigh booleans and rules beyond the projection) goes to
 * `whole`, loaded on first use: the hook's refusals and rare labels pay for the whole policy, its
 * allowed starts do not.
 */
import { computeAccess, type AccessAnswer, type AccessRequest } from './access.js';
import type { SelinuxOracle } from './oracle.js';
import type { PolicyProjection } from './policy/projection.js';
import { typeExists } from './policy/query.js';
import { genfsRoot } from './policy-oracle.js';

/**
 * `booleans`: the values in force for the projection's booleans (PolicyProjection.booleans; a name
 * missing keeps the policy's stored value, as the whole oracle keeps it for a boolean it could not read).
 */
export function projectedOracle(proj: PolicyProjection, booleans: Readonly<Record<string, boolean>>, whole: () => SelinuxOracle): SelinuxOracle {
  const { policy } = proj;
  const base: Record<string, boolean> = {};
  for (const name of proj.booleans) if (typeof booleans[name] === 'boolean') base[name] = booleans[name];
  const sources = new Set(proj.sourceTypes);
  const classes = new Set(proj.classes);
  let full: SelinuxOracle | undefined;
  const fullOracle = () => (full ??= whole());
  const inScope = (req: AccessRequest): boolean => {
    if (!classes.has(req.tclass)) return false;
    // The type field as resolveContext cuts it: between the second and the third colon.
    const first = req.scontext.indexOf(':');
    const second = first < 0 ? -1 : req.scontext.indexOf(':', first + 1);
    if (second < 0) return false;
    const third = req.scontext.indexOf(':', second + 1);
    const type = policy.types.byName.get(third < 0 ? req.scontext.slice(second + 1) : req.scontext.slice(second + 1, third));
    return type !== undefined && !type.isAttribute && sources.has(type.value);
  };
  return {
    compute(req: AccessRequest): AccessAnswer {
      if (inScope(req)) {
        const a = computeAccess(policy, { ...req, booleans: { ...base, ...(req.booleans ?? {}) } });
        if (a.ok && a.allowed) return a;
      }
      return fullOracle().compute(req);
    },
    typeExists: (name) => typeExists(policy, name),
    booleans: () => fullOracle().booleans(),
    // From the projection's genfscon rules, read only now; the whole policy's should they not read back.
    genfsContext: (fsType) => {
      const genfs = proj.genfs();
      return genfs ? genfsRoot({ ...policy, genfs }, fsType) : fullOracle().genfsContext?.(fsType);
    },
  };
}
