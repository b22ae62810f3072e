/**
 * setools' seinfo as the reference for what a policy file contains: its statistics block, parsed into
 * the PolicyStatistics field names.
 */
import { execFileSync } from 'node:child_process';
import type { PolicyStatistics } from '../../../src/selinux/policy/stats.js';

const LABELS: Record<string, keyof PolicyStatistics> = {
  Classes: 'classes', Permissions: 'permissions', Sensitivities: 'sensitivities', Categories: 'categories',
  Types: 'types', Attributes: 'attributes', Users: 'users', Roles: 'roles', Booleans: 'booleans',
  'Cond. Expr.': 'condExprs', Allow: 'allow', Auditallow: 'auditallow', Dontaudit: 'dontaudit',
  Type_trans: 'typeTrans', Type_change: 'typeChange', Type_member: 'typeMember', Range_trans: 'rangeTrans',
  'Role allow': 'roleAllow', Role_trans: 'roleTrans', Constraints: 'constraints', Validatetrans: 'validatetrans',
  'MLS Constrain': 'mlsConstraints', 'MLS Val. Tran': 'mlsValidatetrans', Permissives: 'permissives',
  Polcap: 'polcaps', Typebounds: 'typebounds', Allowxperm: 'allowxperm', Auditallowxperm: 'auditallowxperm',
  Dontauditxperm: 'dontauditxperm', 'Initial SIDs': 'initialSids', Fs_use: 'fsUse', Genfscon: 'genfscon',
  Portcon: 'portcon', Netifcon: 'netifcon', Nodecon: 'nodecon', Ibpkeycon: 'ibpkeycon', Ibendportcon: 'ibendportcon',
};

export function seinfoStatistics(policyPath: string): Partial<Record<keyof PolicyStatistics, number>> {
  const text = execFileSync('seinfo', [policyPath], { encoding: 'utf8' });
  const out: Partial<Record<keyof PolicyStatistics, number>> = {};
  for (const m of text.matchAll(/([A-Za-z_. ]+?):\s+(\d+)/g)) {
    const key = LABELS[m[1]!.trim()];
    if (key) out[key] = Number(m[2]);
  }
  const version = /Policy Version:\s+(\d+)/.exec(text);
  if (version) out.version = Number(version[1]);
  return out;
}
