import { AVTAB, type AvTable, type Policy } from './model.js';

/**
 * Rule and symbol counts, defined the way setools' `seinfo` counts them, so a loaded policy can be
 * checked against seinfo and shown in `--verbose` output.
 */
export interface PolicyStatistics {
  readonly version: number;
  readonly mls: boolean;
  readonly handleUnknown: string;
  readonly classes: number;
  /** Class-own plus common permissions, each counted once where it is declared. */
  readonly permissions: number;
  readonly sensitivities: number;
  readonly categories: number;
  readonly types: number;
  readonly attributes: number;
  readonly users: number;
  readonly roles: number;
  readonly booleans: number;
  readonly condExprs: number;
  readonly allow: number;
  readonly auditallow: number;
  readonly dontaudit: number;
  /** type_transition rules, filename ones included (one per source type). */
  readonly typeTrans: number;
  readonly typeChange: number;
  readonly typeMember: number;
  readonly rangeTrans: number;
  readonly roleAllow: number;
  readonly roleTrans: number;
  readonly constraints: number;
  readonly validatetrans: number;
  readonly mlsConstraints: number;
  readonly mlsValidatetrans: number;
  readonly permissives: number;
  readonly polcaps: number;
  readonly typebounds: number;
  readonly allowxperm: number;
  readonly auditallowxperm: number;
  readonly dontauditxperm: number;
  readonly initialSids: number;
  readonly fsUse: number;
  readonly genfscon: number;
  readonly portcon: number;
  readonly netifcon: number;
  readonly nodecon: number;
  readonly ibpkeycon: number;
  readonly ibendportcon: number;
}

function countSpecified(t: AvTable, spec: number): number {
  let n = 0;
  for (let i = 0; i < t.size; i++) if ((t.specified[i]! & ~AVTAB.ENABLED) === spec) n++;
  return n;
}

export function policyStatistics(p: Policy): PolicyStatistics {
  const rules = (spec: number) => countSpecified(p.avtab, spec) + countSpecified(p.condAvtab, spec);
  const classes = p.classes.byValue.filter((c) => c !== undefined);
  const constraints = classes.flatMap((c) => c.constraints);
  const validatetrans = classes.flatMap((c) => c.validatetrans);
  const ocons = (kind: string) => p.ocontexts.filter((o) => o.kind === kind).length;
  const types = p.types.byValue.filter((t) => t !== undefined);
  return {
    version: p.version,
    mls: p.mls,
    handleUnknown: p.handleUnknown,
    classes: p.classes.count,
    permissions: classes.reduce((n, c) => n + c.perms.size, 0) + p.commons.byValue.reduce((n, c) => n + (c?.perms.size ?? 0), 0),
    sensitivities: p.sensitivities.byValue.filter((s) => s !== undefined).length,
    categories: p.categories.byValue.filter((c) => c !== undefined).length,
    types: types.filter((t) => !t.isAttribute).length,
    attributes: types.filter((t) => t.isAttribute).length,
    users: p.users.count,
    roles: p.roles.count,
    booleans: p.bools.count,
    condExprs: p.condNodes.length,
    allow: rules(AVTAB.ALLOWED),
    auditallow: rules(AVTAB.AUDITALLOW),
    dontaudit: rules(AVTAB.AUDITDENY),
    typeTrans: rules(AVTAB.TRANSITION) + p.filenameTransitions.reduce((n, f) => n + f.stypes.length, 0),
    typeChange: rules(AVTAB.CHANGE),
    typeMember: rules(AVTAB.MEMBER),
    rangeTrans: p.rangeTransitions.length,
    roleAllow: p.roleAllows.length,
    roleTrans: p.roleTransitions.length,
    constraints: constraints.filter((c) => !c.isMls).length,
    validatetrans: validatetrans.filter((c) => !c.isMls).length,
    mlsConstraints: constraints.filter((c) => c.isMls).length,
    mlsValidatetrans: validatetrans.filter((c) => c.isMls).length,
    permissives: p.permissiveMap.length,
    polcaps: p.policyCaps.length,
    typebounds: types.filter((t) => t.bounds !== 0).length,
    allowxperm: rules(AVTAB.XPERMS_ALLOWED),
    auditallowxperm: rules(AVTAB.XPERMS_AUDITALLOW),
    dontauditxperm: rules(AVTAB.XPERMS_DONTAUDIT),
    initialSids: ocons('isid'),
    fsUse: ocons('fsuse'),
    genfscon: p.genfs.reduce((n, g) => n + g.entries.length, 0),
    portcon: ocons('port'),
    netifcon: ocons('netif'),
    nodecon: ocons('node') + ocons('node6'),
    ibpkeycon: ocons('ibpkey'),
    ibendportcon: ocons('ibendport'),
  };
}
