import type { AccessExplanation, BooleanHint } from './explanation.js';
import { typeName } from './explanation.js';
import type { ClassDatum, ContextStruct, Policy } from './policy/model.js';

/** The one human sentence of an access answer, written from its explanation. */
export function sentence(policy: Policy, cls: ClassDatum, s: ContextStruct, t: ContextStruct, denied: readonly string[], because: AccessExplanation): string {
  if (denied.length === 0) {
    const rules = because.granting.map((g) =>
      `allow ${g.source} ${g.target}:${g.tclass} { ${g.perms.join(' ')} }${g.conditional ? ` (if ${g.conditional})` : ''}`);
    return `allowed by ${rules.join('; ')}`;
  }
  const parts: string[] = [];
  for (const d of because.denials) {
    const perms = `${cls.name} { ${d.perms.join(' ')} }`;
    switch (d.cause) {
      case 'te': {
        const flips = (d.wouldGrant ?? []).map((w) => w.flip).filter((f): f is BooleanHint => f !== undefined);
        if (flips.length > 0) {
          parts.push(`denied unless ${[...new Set(flips.map((f) => `${f.name} is ${f.value ? 'on' : 'off'}`))].join(' or ')}`);
        } else if (d.wouldGrant && d.wouldGrant.length > 0) {
          parts.push(`denied unless ${d.wouldGrant.map((w) => w.condition).join(' or ')} (booleans ${[...new Set(d.wouldGrant.flatMap((w) => w.booleans))].join(', ')})`);
        } else {
          parts.push(`denied: no allow rule for ${typeName(policy, s.type)} on ${typeName(policy, t.type)}:${perms}`);
        }
        break;
      }
      case 'mls':
      case 'constraint':
        parts.push(`denied by the ${d.cause === 'mls' ? 'MLS ' : ''}constraint on ${perms}: ${d.constraint}`);
        break;
      case 'rbac':
        parts.push(`denied: no role allow for the role change on ${perms}`);
        break;
      case 'bounds':
        parts.push(`denied by typebounds on ${perms}`);
        break;
    }
  }
  return parts.join('; ');
}
