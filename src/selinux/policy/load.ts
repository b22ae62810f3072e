import { failure, success, type Result } from '../../result.js';
import { readAvtab } from './avtab.js';
import { readConditionals } from './conditionals.js';
import { readEbitmap } from './ebitmap.js';
import { PolicyFormatError, type PolicyError } from './errors.js';
import type { HandleUnknown, Policy } from './model.js';
import { readGenfs, readOContexts } from './ocontexts.js';
import { ByteReader } from './reader.js';
import { expandRoleTypes, readSymbolTables } from './symtabs.js';
import { readFilenameTransitions, readRangeTransitions, readRoleAllows, readRoleTransitions } from './transitions.js';
import { readTypeAttrMaps } from './type-attr-map.js';

export type { PolicyError } from './errors.js';

const POLICYDB_MAGIC = 0xf97cff8c;
const POLICYDB_MOD_MAGIC = 0xf97cff8d;
const MODULE_PACKAGE_MAGIC = 0xf97cff8f;
const VERSION_MIN = 24;
const VERSION_MAX = 33;
const SYM_NUM = 8;
const CONFIG_MLS = 1;
const CONFIG_UNKNOWN_MASK = 6;

/**
 * Reads a kernel binary policy (policy.NN, versions 24..33, the layout of libsepol's policydb_read for
 * POLICY_KERN). Every section is read in file order and checked as it goes; anything malformed, truncated,
 * of another version, a module/base package or a Xen policy is refused with the section and byte offset.
 */
export function loadPolicy(bytes: Uint8Array): Result<Policy, PolicyError> {
  try {
    return success(read(new ByteReader(bytes)));
  } catch (e) {
    if (e instanceof PolicyFormatError) return failure(e.toPolicyError());
    // A reader bug must not masquerade as a valid policy, nor crash the caller.
    return failure({ offset: -1, section: 'reader', message: `internal error: ${(e as Error).message}` });
  }
}

function read(r: ByteReader): Policy {
  r.section = 'header';
  const magic = r.u32('magic number');
  if (magic === POLICYDB_MOD_MAGIC) r.fail('this is a policy module or base package, not a kernel policy', 0);
  if (magic === MODULE_PACKAGE_MAGIC) r.fail('this is a policy module package (.pp), not a kernel policy', 0);
  if ((magic & 0xffffff) === 0x685a42) r.fail('this is bzip2-compressed data (a compressed module?), not a kernel policy', 0);
  if (magic !== POLICYDB_MAGIC) r.fail(`magic number 0x${magic.toString(16)} is not a SELinux policy`, 0);
  const idLen = r.u32('identifier length');
  if (idLen === 0 || idLen > 32) r.fail(`policy identifier length ${idLen} outside 1..32`, 4);
  const id = r.name(idLen, 'policy identifier');
  if (id === 'XenFlask') r.fail('this is a Xen policy; only SELinux kernel policies are supported', 8);
  if (id !== 'SE Linux') r.fail(`policy identifier "${id}" is not "SE Linux"`, 8);
  const versionAt = r.offset;
  const version = r.u32('policy version');
  if (version < VERSION_MIN || version > VERSION_MAX) {
    r.fail(`policy version ${version} is outside the supported ${VERSION_MIN}..${VERSION_MAX}`, versionAt);
  }
  const config = r.u32('config flags');
  const symNum = r.u32('symbol table count');
  const oconNum = r.u32('object context count');
  const expectedOcon = version >= 31 ? 9 : 7;
  if (symNum !== SYM_NUM || oconNum !== expectedOcon) {
    r.fail(`table sizes (${symNum}, ${oconNum}) do not match version ${version} (${SYM_NUM}, ${expectedOcon})`, versionAt + 8);
  }
  const mls = (config & CONFIG_MLS) !== 0;
  const handleUnknown = decodeHandleUnknown(r, config & CONFIG_UNKNOWN_MASK, versionAt + 4);

  r.section = 'policy capabilities';
  const policyCaps = readEbitmap(r);
  r.section = 'permissive map';
  const permissiveMap = readEbitmap(r);

  const symtabs = readSymbolTables(r, version);
  symtabs.roles = expandRoleTypes(r, symtabs);
  const { types, classes, roles, bools } = symtabs;

  const processDatum = classes.byName.get('process');
  const processClass = processDatum?.value ?? 0;
  let processTransDyntrans = 0;
  if (processDatum) {
    for (const perm of ['transition', 'dyntransition']) {
      const bit = processDatum.perms.get(perm) ?? processDatum.common?.perms.get(perm);
      if (bit !== undefined) processTransDyntrans |= 1 << (bit - 1);
    }
  }

  const limits = { version, typeCount: types.count, classCount: classes.count };
  const avtab = readAvtab(r, limits);
  const cond = readConditionals(r, { ...limits, boolCount: bools.count }, avtab);
  const counts = { version, types: types.count, roles: roles.count, classes: classes.count, processClass };
  const roleTransitions = readRoleTransitions(r, counts);
  const roleAllows = readRoleAllows(r, counts);
  const filenameTransitions = readFilenameTransitions(r, counts);
  const ocontexts = readOContexts(r, symtabs, mls, version);
  const genfs = readGenfs(r, symtabs, mls);
  const rangeTransitions = readRangeTransitions(r, counts);
  const { typeAttrMap, attrTypeMap } = readTypeAttrMaps(r, types);
  checkBoundsChains(r, symtabs.types.byValue.map((t) => t?.bounds ?? 0), 'type');

  return {
    version, mls, handleUnknown, policyCaps, permissiveMap,
    ...symtabs,
    avtab, condAvtab: cond.table, condNodes: cond.nodes, condStoredEnabled: cond.storedEnabled,
    roleTransitions, roleAllows, filenameTransitions, ocontexts, genfs, rangeTransitions,
    typeAttrMap, attrTypeMap, processClass, processTransDyntrans,
  };
}

function decodeHandleUnknown(r: ByteReader, bits: number, at: number): HandleUnknown {
  switch (bits) {
    case 0: return 'deny';
    case 2: return 'reject';
    case 4: return 'allow';
    default: return r.fail('config asks both to reject and to allow unknown permissions', at);
  }
}

/**
 * The access computation follows typebounds recursively (a bounded type is limited by its bound, which
 * may be bounded in turn); a cycle would never end, so refuse it here, where it is a format error.
 */
function checkBoundsChains(r: ByteReader, bounds: readonly number[], what: string): void {
  r.section = `${what} bounds`;
  const state = new Uint8Array(bounds.length); // 0 unseen, 1 on the current path, 2 known finite
  for (let start = 0; start < bounds.length; start++) {
    const path: number[] = [];
    let v = start;
    while (v >= 0 && v < bounds.length && state[v] === 0) {
      state[v] = 1;
      path.push(v);
      v = (bounds[v] ?? 0) - 1;
    }
    if (v >= 0 && v < bounds.length && state[v] === 1) r.fail(`${what} value ${v + 1} is its own bound (a cycle)`);
    for (const p of path) state[p] = 2;
  }
}
