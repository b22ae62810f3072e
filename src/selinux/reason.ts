import type { AccessExplanation, BooleanHint, Denial } from './explanation.js';
import { typeName } from './explanation.js';
import type { ClassDatum, ContextStruct, Policy } from './policy/model.js';

const setting = (f: BooleanHint) => `${f.name} is ${f.value ? 'on' : 'off'}`;
const settings = (fs: readonly BooleanHint[]) => (fs.length === 1 ? setting(fs[0]!) : `${fs.map((f) => `${f.name} ${f.value ? 'on' : 'off'}`).join(' and ')} together`);

/**
 * The one human sentence of an access answer, written from its explanation. A boolean is named as the
 * way to allow it only when the request was computed again under that setting and allowed
 * (`because.booleans.fixes`); otherwise the sentence says what denies even with the booleans flipped.
 */
export function sentence(policy: Policy, cls: ClassDatum, s: ContextStruct, t: ContextStruct, denied: readonly string[], because: AccessExplanation): string {
  if (denied.length === 0) {
    const rules = because.granting.map((g) =>
      `allow ${g.source} ${g.target}:${g.tclass} { ${g.perms.join(' ')} }${g.conditional ? ` (if ${g.conditional})` : ''}`);
    return `allowed by ${rules.join('; ')}`;
  }
  const fixes = because.booleans?.fixes ?? [];
  if (fixes.length > 0) {
    const rest = denialParts(policy, cls, s, t, because.denials.filter((d) => d.cause !== 'te'));
    return [`denied unless ${fixes.map(settings).join(' or ')}`, ...rest].join('; ');
  }
  const parts = denialParts(policy, cls, s, t, because.denials);
  const insufficient = because.booleans?.insufficient;
  if (insufficient) {
    const still = denialParts(policy, cls, s, t, insufficient.denials);
    parts.push(`turning ${insufficient.flips.map((f) => `${f.name} ${f.value ? 'on' : 'off'}`).join(' and ')} would not be enough: ${still.join('; ')}`);
  }
  return parts.join('; ');
}

function denialParts(policy: Policy, cls: ClassDatum, s: ContextStruct, t: ContextStruct, denials: readonly Denial[]): string[] {
  return denials.map((d) => {
    const perms = `${cls.name} { ${d.perms.join(' ')} }`;
    switch (d.cause) {
      case 'te':
        return `denied: no allow rule for ${typeName(policy, s.type)} on ${typeName(policy, t.type)}:${perms}${
          d.wouldGrant?.length ? ` under the current booleans (conditional rules under ${d.wouldGrant.map((w) => w.condition).join(', ')} carry some of them)` : ''
        }`;
      case 'mls':
      case 'constraint':
        return `denied by the ${d.cause === 'mls' ? 'MLS ' : ''}constraint on ${perms}: ${d.constraint}`;
      case 'rbac':
        return `denied: no role allow for the role change on ${perms}`;
      case 'bounds':
        return `denied by typebounds on ${perms}`;
    }
  });
}
