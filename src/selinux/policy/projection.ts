import { AvTableBuilder } from './avtab.js';
import { decodeFlat, encodeFlat } from './flat-payload.js';
import type {
  AvTable, BoolDatum, CategoryDatum, ClassDatum, CommonDatum, CondNode, Genfs, PackedSets, Policy, RoleDatum, SensitivityDatum,
  SymbolTable, TypeDatum, UserDatum,
} from './model.js';
import { packTable, unpackTable, type PackedTable } from './packed-table.js';

/**
 * The part of a policy that the access computation (compute-av.ts, access.ts) can reach for questions
 * whose source type is one of a few svirt types and whose class is one of a few file classes: the same
 * Policy shape, so the same engine answers on it, with everything it cannot reach left out:
 *  - TE and conditional rules whose source is neither one of those types, one of their bounding types,
 *    nor an attribute of them (a rule with another source is never looked up for such a question);
 *  - conditional nodes that switch none of the rules kept (their lists re-indexed to the kept rules);
 *  - every class outside the scope (the count stays, so class values keep their meaning);
 *  - in each type's attribute set, attributes that are the target of no kept rule (only the target
 *    side of the TE walk can meet them; a source type's own set is kept whole);
 *  - transitions, object contexts, the attribute → types map (the computation never reads them).
 * The genfscon rules, which only a file on a filesystem without security labels asks for, are kept apart,
 * read on first use (`genfs`): they are nearly half the objects a projection would otherwise rebuild at
 * every SELinux start.
 * Symbol tables (types, users, roles, booleans, levels) stay whole: a file's label may name any of them;
 * the large ones are stored packed and decoded on lookup (packed-table.ts).
 * Anything outside the scope (another source type, another class) must be asked of the whole policy: see
 * src/selinux/projected-oracle.ts, which checks the scope before it answers from a projection.
 */
export interface PolicyProjection {
  /** A Policy for the access computation: whole where a question in scope can reach, empty elsewhere. */
  readonly policy: Policy;
  /** Type values a question's source type may have (the requested svirt types; not their bounds). */
  readonly sourceTypes: readonly number[];
  /** Class names a question may name. */
  readonly classes: readonly string[];
  /** Boolean names a kept conditional node reads: the only ones whose value can change an answer. */
  readonly booleans: readonly string[];
  /**
   * The policy's genfscon rules (the projection's `policy.genfs` is empty), read on first use; undefined
   * when they cannot be read back (the caller then asks the whole policy).
   */
  readonly genfs: () => readonly Genfs[] | undefined;
}

export const PROJECTION_FORMAT = 2;

/**
 * The projection as it is stored (structured-clone data: typed arrays, strings, a few small objects).
 * The large symbol tables (types, categories, booleans) are packed (packed-table.ts): reading thousands of
 * small objects back costs more than the rest of the projection together.
 */
export interface StoredProjection {
  readonly format: typeof PROJECTION_FORMAT;
  readonly sourceTypes: readonly number[];
  readonly classes: readonly string[];
  readonly booleans: readonly string[];
  readonly version: number;
  readonly mls: boolean;
  readonly handleUnknown: Policy['handleUnknown'];
  readonly policyCaps: Policy['policyCaps'];
  readonly permissiveMap: Policy['permissiveMap'];
  readonly commonCount: number;
  readonly classCount: number;
  readonly classData: readonly ClassDatum[];
  readonly roles: SymbolTable<RoleDatum>;
  readonly users: SymbolTable<UserDatum>;
  readonly sensitivities: SymbolTable<SensitivityDatum>;
  readonly types: PackedTable;
  readonly categories: PackedTable;
  readonly bools: PackedTable;
  readonly avtab: AvTable;
  readonly condAvtab: AvTable;
  readonly condNodes: readonly CondNode[];
  readonly condStoredEnabled: Uint8Array;
  readonly roleAllows: Policy['roleAllows'];
  /** The genfscon rules as a flat payload of their own (flat-payload.ts), read only when asked for. */
  readonly genfs: Uint8Array;
  readonly typeAttrMap: PackedSets;
  readonly processClass: number;
  readonly processTransDyntrans: number;
}

/** What questions a projection must answer: the svirt process's types and the classes QEMU opens. */
export interface ProjectionScope {
  readonly sourceTypes: readonly string[];
  readonly classes: readonly string[];
}

const EMPTY_SETS: PackedSets = { offsets: new Uint32Array(1), values: new Uint32Array(0) };

/**
 * The projection of `policy` for `scope`. Source type names the policy lacks (or that name an attribute)
 * are left out of the scope, and so are class names it lacks: such a question is then asked of the whole policy.
 */
export function projectPolicy(policy: Policy, scope: ProjectionScope): StoredProjection {
  const sourceTypes: number[] = [];
  for (const name of scope.sourceTypes) {
    const t = policy.types.byName.get(name);
    if (t && !t.isAttribute && !sourceTypes.includes(t.value)) sourceTypes.push(t.value);
  }
  const classes = scope.classes.filter((c) => policy.classes.byName.has(c));
  const classValues = new Set(classes.map((c) => policy.classes.byName.get(c)!.value));

  // Every type the computation may use as a source: the scope's types and, through typebounds, their bounds.
  const sources = new Set<number>();
  for (let t of sourceTypes) {
    for (let depth = 0; t !== 0 && !sources.has(t) && depth <= policy.types.count; depth++) {
      sources.add(t);
      t = policy.types.byValue[t - 1]?.bounds ?? 0;
    }
  }
  const sourceAttrs = new Set<number>();
  for (const t of sources) for (const a of setOf(policy.typeAttrMap, t - 1)) sourceAttrs.add(a + 1);

  const targets = new Set<number>();
  const keep = (table: AvTable) => {
    const kept: number[] = [];
    for (let i = 0; i < table.size; i++) {
      if (!sourceAttrs.has(table.source[i]!) || !classValues.has(table.tclass[i]!)) continue;
      kept.push(i);
      targets.add(table.target[i]!);
    }
    return kept;
  };
  const teKept = keep(policy.avtab);
  const condKept = keep(policy.condAvtab);
  const avtab = rebuild(policy.avtab, teKept);
  const condAvtab = rebuild(policy.condAvtab, condKept);

  const newIndex = new Int32Array(policy.condAvtab.size).fill(-1);
  condKept.forEach((old, i) => { newIndex[old] = i; });
  const condNodes: CondNode[] = [];
  const booleanValues = new Set<number>();
  for (const node of policy.condNodes) {
    const remap = (list: Int32Array) => Int32Array.from([...list].map((i) => newIndex[i]!).filter((i) => i >= 0));
    const trueList = remap(node.trueList);
    const falseList = remap(node.falseList);
    if (trueList.length === 0 && falseList.length === 0) continue;
    condNodes.push({ storedState: node.storedState, expr: node.expr, trueList, falseList });
    for (const term of node.expr) if (term.bool !== 0) booleanValues.add(term.bool);
  }
  const condStoredEnabled = Uint8Array.from(condKept.map((i) => policy.condStoredEnabled[i]!));

  // Each type keeps itself, and the attributes a kept rule targets; the source types keep all of theirs.
  const offsets = new Uint32Array(policy.types.count + 1);
  const values: number[] = [];
  for (let i = 0; i < policy.types.count; i++) {
    for (const a of setOf(policy.typeAttrMap, i)) if (a === i || sources.has(i + 1) || targets.has(a + 1)) values.push(a);
    offsets[i + 1] = values.length;
  }

  const booleans = [...booleanValues].sort((a, b) => a - b).map((v) => policy.bools.byValue[v - 1]?.name).filter((n): n is string => n !== undefined);
  return {
    format: PROJECTION_FORMAT,
    sourceTypes,
    classes,
    booleans,
    version: policy.version,
    mls: policy.mls,
    handleUnknown: policy.handleUnknown,
    policyCaps: policy.policyCaps,
    permissiveMap: policy.permissiveMap,
    commonCount: policy.commons.count,
    classCount: policy.classes.count,
    // Only the classes in scope, whole (their common, permissions and constraints): no question reaches another.
    classData: policy.classes.byValue.filter((c): c is ClassDatum => c !== undefined && classValues.has(c.value)),
    roles: policy.roles,
    users: policy.users,
    sensitivities: policy.sensitivities,
    types: packTable(policy.types, (t) => t.value, (t) => ({ flags: t.isAttribute ? 1 : 0, extra: t.bounds })),
    categories: packTable(policy.categories, (c) => c.value, (c) => ({ flags: c.isAlias ? 1 : 0, extra: 0 })),
    bools: packTable(policy.bools, (b) => b.value, (b) => ({ flags: b.defaultState ? 1 : 0, extra: 0 })),
    avtab,
    condAvtab,
    condNodes,
    condStoredEnabled,
    roleAllows: policy.roleAllows,
    genfs: Uint8Array.from(Buffer.concat(encodeFlat(policy.genfs))),
    typeAttrMap: { offsets, values: Uint32Array.from(values) },
    processClass: policy.processClass,
    processTransDyntrans: policy.processTransDyntrans,
  };
}

/** The stored projection as a Policy the access computation runs on (symbol tables decoded on lookup). */
export function openProjection(s: StoredProjection): PolicyProjection {
  const classByValue = new Array<ClassDatum | undefined>(s.classCount).fill(undefined);
  const classByName = new Map<string, ClassDatum>();
  for (const c of s.classData) {
    classByValue[c.value - 1] = c;
    classByName.set(c.name, c);
  }
  const commons: SymbolTable<CommonDatum> = { count: s.commonCount, byValue: [], byName: new Map() };
  const policy: Policy = {
    version: s.version,
    mls: s.mls,
    handleUnknown: s.handleUnknown,
    policyCaps: s.policyCaps,
    permissiveMap: s.permissiveMap,
    commons,
    classes: { count: s.classCount, byValue: classByValue, byName: classByName },
    roles: s.roles,
    types: unpackTable<TypeDatum>(s.types, (name, value, flags, bounds) => ({ name, value, isAttribute: (flags & 1) !== 0, bounds })),
    users: s.users,
    bools: unpackTable<BoolDatum>(s.bools, (name, value, flags) => ({ name, value, defaultState: (flags & 1) !== 0 })),
    sensitivities: s.sensitivities,
    categories: unpackTable<CategoryDatum>(s.categories, (name, value, flags) => ({ name, value, isAlias: (flags & 1) !== 0 })),
    avtab: s.avtab,
    condAvtab: s.condAvtab,
    condNodes: s.condNodes,
    condStoredEnabled: s.condStoredEnabled,
    roleTransitions: [],
    roleAllows: s.roleAllows,
    filenameTransitions: [],
    ocontexts: [],
    genfs: [],
    rangeTransitions: [],
    typeAttrMap: s.typeAttrMap,
    attrTypeMap: EMPTY_SETS,
    processClass: s.processClass,
    processTransDyntrans: s.processTransDyntrans,
  };
  let genfs: readonly Genfs[] | undefined | null = null;
  const readGenfs = () => {
    if (genfs !== null) return genfs;
    try {
      const g = decodeFlat(s.genfs);
      genfs = isGenfsList(g) ? g : undefined;
    } catch {
      genfs = undefined;
    }
    return genfs;
  };
  return { policy, sourceTypes: s.sourceTypes, classes: s.classes, booleans: s.booleans, genfs: readGenfs };
}

function isGenfsList(x: unknown): x is Genfs[] {
  const level = (l: unknown) => typeof l === 'object' && l !== null && Number.isInteger((l as { sens?: unknown }).sens) && (l as { cats?: unknown }).cats instanceof Uint32Array;
  const entry = (e: unknown) => {
    if (typeof e !== 'object' || e === null) return false;
    const { path, sclass, context: c } = e as { path?: unknown; sclass?: unknown; context?: { user?: unknown; role?: unknown; type?: unknown; range?: { low?: unknown; high?: unknown } } };
    return typeof path === 'string' && Number.isInteger(sclass) && typeof c === 'object' && c !== null && [c.user, c.role, c.type].every(Number.isInteger) &&
      typeof c.range === 'object' && c.range !== null && level(c.range.low) && level(c.range.high);
  };
  return Array.isArray(x) && x.every((g) => typeof g === 'object' && g !== null && typeof (g as { fstype?: unknown }).fstype === 'string' &&
    Array.isArray((g as { entries?: unknown }).entries) && (g as { entries: unknown[] }).entries.every(entry));
}

/**
 * A stored projection read back from disk is checked for its shape before use: a damaged or foreign
 * entry that passed the entry's own checks must still be a miss, never a crash or a wrong table.
 */
export function isStoredProjection(x: unknown): x is StoredProjection {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Partial<StoredProjection>;
  const packed = (p: PackedTable | undefined) => p !== undefined && p.names instanceof Uint8Array && p.ends instanceof Uint32Array &&
    p.values instanceof Uint32Array && p.flags instanceof Uint8Array && p.extra instanceof Uint32Array && p.primary instanceof Int32Array &&
    p.ends.length === p.values.length && p.flags.length === p.values.length && p.extra.length === p.values.length && p.primary.length === p.count &&
    (p.ends.length === 0 || p.ends[p.ends.length - 1] === p.names.length);
  const table = (t: AvTable | undefined) => t !== undefined && t.source instanceof Uint16Array && t.source.length === t.size &&
    t.target instanceof Uint16Array && t.tclass instanceof Uint16Array && t.specified instanceof Uint16Array && t.data instanceof Uint32Array &&
    t.buckets instanceof Int32Array && t.next instanceof Int32Array && t.target.length === t.size && t.tclass.length === t.size &&
    t.specified.length === t.size && t.data.length === t.size && t.next.length === t.size && Array.isArray(t.xperms);
  return s.format === PROJECTION_FORMAT && Array.isArray(s.sourceTypes) && Array.isArray(s.classes) && Array.isArray(s.booleans) &&
    Array.isArray(s.classData) && packed(s.types) && packed(s.categories) && packed(s.bools) && table(s.avtab) && table(s.condAvtab) &&
    Array.isArray(s.condNodes) && s.genfs instanceof Uint8Array && s.condStoredEnabled instanceof Uint8Array && s.condStoredEnabled.length === s.condAvtab!.size &&
    s.typeAttrMap !== undefined && s.typeAttrMap.offsets instanceof Uint32Array && s.typeAttrMap.offsets.length === s.types!.count + 1 &&
    s.typeAttrMap.values instanceof Uint32Array;
}

function setOf(p: PackedSets, i: number): Uint32Array {
  return p.values.subarray(p.offsets[i], p.offsets[i + 1]);
}

/** The entries `kept` (in file order, so each lookup visits them in the same order as the whole table does). */
function rebuild(table: AvTable, kept: readonly number[]): AvTable {
  const b = new AvTableBuilder(kept.length);
  for (const i of kept) {
    const x = table.xpermIndex[i]!;
    b.push(table.source[i]!, table.target[i]!, table.tclass[i]!, table.specified[i]!, table.data[i]!, x >= 0 ? table.xperms[x] : undefined);
  }
  return b.finish();
}
