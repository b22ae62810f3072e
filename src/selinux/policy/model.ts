import type { Ebitmap } from './ebitmap.js';

/**
 * The in-memory model of a kernel binary policy (policy.NN, versions 24..33), close to libsepol's
 * policydb_t so that the access computation can mirror context_struct_compute_av step by step.
 *
 * Conventions: symbol values are 1-based as in the file; arrays indexed "by value" hold value v at index
 * v - 1; ebitmaps hold 0-based bit positions (bit v - 1 stands for value v), except the permissive map,
 * which the kernel indexes by the type value itself.
 */

/**
 * Many small sorted sets packed into one array (set i is values[offsets[i] .. offsets[i + 1])): thousands of
 * per-type bitmaps as two typed arrays instead of thousands of objects the garbage collector must copy.
 */
export interface PackedSets {
  readonly offsets: Uint32Array;
  readonly values: Uint32Array;
}

/** Set i of a PackedSets (a view, sorted ascending). */
export function packedSet(p: PackedSets, i: number): Uint32Array {
  return p.values.subarray(p.offsets[i], p.offsets[i + 1]);
}

export type HandleUnknown = 'deny' | 'reject' | 'allow';

/** A named permission set shared by several classes (`common file { ioctl read ... }`). */
export interface CommonDatum {
  readonly name: string;
  readonly value: number;
  /** Permission name -> bit number (1-based: the bit is 1 << (value - 1)). */
  readonly perms: ReadonlyMap<string, number>;
}

/** Constraint expression node types and operand flags, as in libsepol's constraint.h. */
export const CEXPR = {
  NOT: 1, AND: 2, OR: 3, ATTR: 4, NAMES: 5,
  USER: 1, ROLE: 2, TYPE: 4, TARGET: 8, XTARGET: 16,
  L1L2: 32, L1H2: 64, H1L2: 128, H1H2: 256, L1H1: 512, L2H2: 1024,
  EQ: 1, NEQ: 2, DOM: 3, DOMBY: 4, INCOMP: 5,
} as const;

/** One postfix (RPN) term of a constraint expression. */
export interface ConstraintTerm {
  readonly kind: number; // CEXPR.NOT | AND | OR | ATTR | NAMES
  readonly attr: number;
  readonly op: number;
  /** For NAMES: the expanded set of user/role/type values (bit v - 1). */
  readonly names: Ebitmap;
}

export interface Constraint {
  /** Permission bits of the class that this constraint restricts. */
  readonly permissions: number;
  readonly expr: readonly ConstraintTerm[];
  /** True when any term compares MLS levels: setools calls these mlsconstrain. */
  readonly isMls: boolean;
}

export interface ClassDatum {
  readonly name: string;
  readonly value: number;
  readonly common: CommonDatum | undefined;
  /** The class's own permissions (name -> bit number); common ones are in `common`. */
  readonly perms: ReadonlyMap<string, number>;
  readonly constraints: readonly Constraint[];
  readonly validatetrans: readonly Constraint[];
  readonly defaults: { readonly user: number; readonly role: number; readonly range: number; readonly type: number };
}

export interface RoleDatum {
  readonly name: string;
  readonly value: number;
  readonly bounds: number;
  readonly dominates: Ebitmap;
  /** Types this role is authorised for (bit = type value - 1). */
  readonly types: Ebitmap;
}

export interface TypeDatum {
  readonly name: string;
  readonly value: number;
  readonly isAttribute: boolean;
  /** The bounding type's value, 0 when unbounded. */
  readonly bounds: number;
}

export interface MlsLevel {
  readonly sens: number;
  /** Category bits (bit = category value - 1). */
  readonly cats: Ebitmap;
}

export interface MlsRange {
  readonly low: MlsLevel;
  readonly high: MlsLevel;
}

export interface UserDatum {
  readonly name: string;
  readonly value: number;
  readonly bounds: number;
  /** Roles the user is authorised for (bit = role value - 1). */
  readonly roles: Ebitmap;
  readonly range: MlsRange;
  readonly defaultLevel: MlsLevel;
}

export interface BoolDatum {
  readonly name: string;
  readonly value: number;
  readonly defaultState: boolean;
}

export interface SensitivityDatum {
  readonly name: string;
  readonly isAlias: boolean;
  /** The sensitivity value and the categories it may be combined with. */
  readonly level: MlsLevel;
}

export interface CategoryDatum {
  readonly name: string;
  readonly value: number;
  readonly isAlias: boolean;
}

/** Value-indexed table plus the name lookup (which includes aliases). */
export interface SymbolTable<T> {
  /** Number of values (libsepol's nprim). */
  readonly count: number;
  /** Datum for value v at index v - 1; undefined for a value no primary entry uses. */
  readonly byValue: readonly (T | undefined)[];
  readonly byName: ReadonlyMap<string, T>;
}

export const AVTAB = {
  ALLOWED: 0x0001, AUDITALLOW: 0x0002, AUDITDENY: 0x0004, AV: 0x0007,
  TRANSITION: 0x0010, MEMBER: 0x0020, CHANGE: 0x0040, TYPE: 0x0070,
  XPERMS_ALLOWED: 0x0100, XPERMS_AUDITALLOW: 0x0200, XPERMS_DONTAUDIT: 0x0400, XPERMS: 0x0700,
  ENABLED: 0x8000,
} as const;

/**
 * An access vector table held column-wise in typed arrays, with an open-addressing hash over
 * (source, target, class) for O(1) lookups (the kernel's avtab hash, minus `specified`, which the lookup
 * filters on). Entry i is (source[i], target[i], tclass[i], specified[i]) -> data[i]; extended-permission
 * entries keep their 8-word bitmap in xperms (index xpermIndex[i], -1 otherwise).
 */
export interface AvTable {
  readonly size: number;
  readonly source: Uint16Array;
  readonly target: Uint16Array;
  readonly tclass: Uint16Array;
  readonly specified: Uint16Array;
  readonly data: Uint32Array;
  readonly xpermIndex: Int32Array;
  readonly xperms: readonly XpermsDatum[];
  /** Hash index: bucket heads and per-entry chain links (-1 terminates). */
  readonly buckets: Int32Array;
  readonly next: Int32Array;
}

export interface XpermsDatum {
  /** 1 = ioctl function, 2 = ioctl driver, 3 = netlink message type. */
  readonly specified: number;
  readonly driver: number;
  readonly perms: Uint32Array;
}

export const COND = { BOOL: 1, NOT: 2, OR: 3, AND: 4, XOR: 5, EQ: 6, NEQ: 7 } as const;

export interface CondTerm {
  readonly kind: number;
  /** Boolean value (1-based) for COND.BOOL terms, else 0. */
  readonly bool: number;
}

/** A conditional block: its postfix expression and which cond-avtab entries it switches on/off. */
export interface CondNode {
  /** State recorded in the file (what the policy's default booleans evaluated to when written). */
  readonly storedState: number;
  readonly expr: readonly CondTerm[];
  /** Indices into Policy.condAvtab. */
  readonly trueList: Int32Array;
  readonly falseList: Int32Array;
}

export interface RoleTransition { readonly role: number; readonly type: number; readonly newRole: number; readonly tclass: number }
export interface RoleAllow { readonly role: number; readonly newRole: number }

export interface FilenameTransition {
  readonly stypes: Ebitmap;
  readonly ttype: number;
  readonly tclass: number;
  readonly name: string;
  readonly otype: number;
}

export interface ContextStruct {
  readonly user: number;
  readonly role: number;
  readonly type: number;
  readonly range: MlsRange;
}

/** Object contexts (initial SIDs, fs, ports, netifs, nodes, fs_use, nodes6, ib pkeys, ib end ports). */
export interface OContext {
  readonly kind: 'isid' | 'fs' | 'port' | 'netif' | 'node' | 'fsuse' | 'node6' | 'ibpkey' | 'ibendport';
  /** Kind-specific key, kept as plain data: sid number, name, protocol/port range, address/mask… */
  readonly key: Readonly<Record<string, number | string>>;
  readonly context: ContextStruct;
  /** fs and netif carry a second context (message / packet context). */
  readonly context2?: ContextStruct;
}

export interface GenfsEntry { readonly path: string; readonly sclass: number; readonly context: ContextStruct }
export interface Genfs { readonly fstype: string; readonly entries: readonly GenfsEntry[] }

export interface RangeTransition { readonly source: number; readonly target: number; readonly tclass: number; readonly range: MlsRange }

export interface Policy {
  readonly version: number;
  readonly mls: boolean;
  readonly handleUnknown: HandleUnknown;
  readonly policyCaps: Ebitmap;
  /** Bit = type value (not value - 1), as the kernel indexes it. */
  readonly permissiveMap: Ebitmap;
  readonly commons: SymbolTable<CommonDatum>;
  readonly classes: SymbolTable<ClassDatum>;
  readonly roles: SymbolTable<RoleDatum>;
  readonly types: SymbolTable<TypeDatum>;
  readonly users: SymbolTable<UserDatum>;
  readonly bools: SymbolTable<BoolDatum>;
  readonly sensitivities: SymbolTable<SensitivityDatum>;
  readonly categories: SymbolTable<CategoryDatum>;
  readonly avtab: AvTable;
  readonly condAvtab: AvTable;
  readonly condNodes: readonly CondNode[];
  /** For each cond-avtab entry, whether the file stored it enabled (AVTAB_ENABLED). */
  readonly condStoredEnabled: Uint8Array;
  readonly roleTransitions: readonly RoleTransition[];
  readonly roleAllows: readonly RoleAllow[];
  readonly filenameTransitions: readonly FilenameTransition[];
  readonly ocontexts: readonly OContext[];
  readonly genfs: readonly Genfs[];
  readonly rangeTransitions: readonly RangeTransition[];
  /** Set v - 1: the attributes type value v has, plus itself (bit = value - 1). */
  readonly typeAttrMap: PackedSets;
  /** Set a - 1: the member types of attribute value a (a type is its own only member). */
  readonly attrTypeMap: PackedSets;
  /** Class value of `process` and its transition|dyntransition bits (0 when absent). */
  readonly processClass: number;
  readonly processTransDyntrans: number;
}
