import { readConstraints } from './constraints.js';
import { EMPTY_EBITMAP, readEbitmap } from './ebitmap.js';
import { readLevel, readRange } from './mls-read.js';
import type {
  BoolDatum, CategoryDatum, ClassDatum, CommonDatum, RoleDatum, SensitivityDatum, SymbolTable, TypeDatum, UserDatum,
} from './model.js';
import type { ByteReader } from './reader.js';

/** The eight symbol tables, in file order. */
export interface SymbolTables {
  commons: SymbolTable<CommonDatum>;
  classes: SymbolTable<ClassDatum>;
  roles: SymbolTable<RoleDatum>;
  types: SymbolTable<TypeDatum>;
  users: SymbolTable<UserDatum>;
  bools: SymbolTable<BoolDatum>;
  sensitivities: SymbolTable<SensitivityDatum>;
  categories: SymbolTable<CategoryDatum>;
}

const PERM_SYMTAB_SIZE = 32;
const OBJECT_R = 'object_r';

interface Header { nprim: number; nel: number }

function readHeader(r: ByteReader, what: string): Header {
  const at = r.offset;
  const nprim = r.u32(`${what} value count`);
  const nel = r.u32(`${what} entry count`);
  // Every entry takes at least 12 bytes; libsepol applies the same bound to nprim.
  if (nprim > Math.floor(r.remaining / 12) && nprim > nel) r.fail(`${what}: ${nprim} values cannot fit`, at);
  if (nel > Math.floor(r.remaining / 12)) r.fail(`${what}: ${nel} entries cannot fit`, at);
  if (nel > 0 && nprim === 0) r.fail(`${what}: entries in a table with no values`, at);
  return { nprim, nel };
}

/**
 * Builds the value index the way libsepol's *_index functions do: every primary value within 1..nprim and
 * used once; names unique (aliases included, as hashtab_insert refuses duplicates).
 */
function index<T extends { name: string }>(
  r: ByteReader, what: string, nprim: number, entries: readonly { datum: T; value: number; primary: boolean; at: number }[],
): SymbolTable<T> {
  const byValue: (T | undefined)[] = new Array<T | undefined>(nprim).fill(undefined);
  const byName = new Map<string, T>();
  for (const e of entries) {
    if (byName.has(e.datum.name)) r.fail(`${what}: duplicate name ${e.datum.name}`, e.at);
    if (e.value === 0 || e.value > nprim) r.fail(`${what}: ${e.datum.name} has value ${e.value} outside 1..${nprim}`, e.at);
    byName.set(e.datum.name, e.datum);
    if (!e.primary) continue;
    if (byValue[e.value - 1] !== undefined) r.fail(`${what}: value ${e.value} used twice`, e.at);
    byValue[e.value - 1] = e.datum;
  }
  return { count: nprim, byValue, byName };
}

function readPerms(r: ByteReader, nel: number, nprim: number, owner: string): Map<string, number> {
  const perms = new Map<string, number>();
  for (let i = 0; i < nel; i++) {
    const at = r.offset;
    const len = r.u32('permission name length');
    const value = r.u32('permission value');
    const name = r.name(len, 'permission name');
    if (value === 0 || value > nprim) r.fail(`${owner}: permission ${name} has value ${value} outside 1..${nprim}`, at);
    if (perms.has(name)) r.fail(`${owner}: duplicate permission ${name}`, at);
    perms.set(name, value);
  }
  return perms;
}

function readCommons(r: ByteReader): SymbolTable<CommonDatum> {
  r.section = 'commons';
  const h = readHeader(r, 'commons');
  const entries = [];
  for (let i = 0; i < h.nel; i++) {
    const at = r.offset;
    const len = r.u32('common name length');
    const value = r.u32('common value');
    const nprim = r.u32('common permission count');
    const nel = r.count('common permission', 8);
    const name = r.name(len, 'common name');
    if (nprim > PERM_SYMTAB_SIZE) r.fail(`common ${name} has ${nprim} permissions (at most 32)`, at);
    const perms = readPerms(r, nel, nprim, `common ${name}`);
    entries.push({ datum: { name, value, perms }, value, primary: true, at });
  }
  return index(r, 'commons', h.nprim, entries);
}

function readClasses(r: ByteReader, commons: SymbolTable<CommonDatum>, version: number): SymbolTable<ClassDatum> {
  r.section = 'classes';
  const h = readHeader(r, 'classes');
  const entries = [];
  for (let i = 0; i < h.nel; i++) {
    const at = r.offset;
    const len = r.u32('class name length');
    const commonLen = r.u32('class common name length');
    const value = r.u32('class value');
    const nprim = r.u32('class permission count');
    const nel = r.count('class permission', 8);
    const ncons = r.count('class constraint', 8);
    const name = r.name(len, 'class name');
    if (value > 0xffff) r.fail(`class ${name} has value ${value} above 65535`, at);
    if (nprim > PERM_SYMTAB_SIZE) r.fail(`class ${name} has ${nprim} permissions (at most 32)`, at);
    let common: CommonDatum | undefined;
    if (commonLen !== 0) {
      const commonName = r.name(commonLen, 'class common name');
      common = commons.byName.get(commonName);
      if (!common) r.fail(`class ${name} uses unknown common ${commonName}`, at);
    }
    const perms = readPerms(r, nel, nprim, `class ${name}`);
    r.section = `class ${name} constraints`;
    const constraints = readConstraints(r, ncons, false, version);
    const nvalidate = r.count('validatetrans', 8);
    const validatetrans = readConstraints(r, nvalidate, true, version);
    r.section = 'classes';
    const defaults = { user: 0, role: 0, range: 0, type: 0 };
    if (version >= 27) {
      defaults.user = r.u32('default_user');
      defaults.role = r.u32('default_role');
      defaults.range = r.u32('default_range');
    }
    if (version >= 28) defaults.type = r.u32('default_type');
    entries.push({ datum: { name, value, common, perms, constraints, validatetrans, defaults }, value, primary: true, at });
  }
  return index(r, 'classes', h.nprim, entries);
}

function readRoles(r: ByteReader): SymbolTable<RoleDatum> {
  r.section = 'roles';
  const h = readHeader(r, 'roles');
  // libsepol creates object_r (value 1, no types, dominates nothing) before reading and discards the
  // file's own object_r entry: mirror that, since constraints on r1/r2 can see object_r.
  const entries: { datum: RoleDatum; value: number; primary: boolean; at: number }[] = [];
  let sawObjectR = false;
  for (let i = 0; i < h.nel; i++) {
    const at = r.offset;
    const len = r.u32('role name length');
    const value = r.u32('role value');
    const bounds = r.u32('role bounds');
    const name = r.name(len, 'role name');
    const dominates = readEbitmap(r);
    const types = readEbitmap(r);
    if (name === OBJECT_R) {
      if (value !== 1) r.fail(`role object_r has value ${value}, not 1`, at);
      sawObjectR = true;
      entries.push({ datum: { name, value: 1, bounds: 0, dominates: EMPTY_EBITMAP, types: EMPTY_EBITMAP }, value, primary: true, at });
      continue;
    }
    entries.push({ datum: { name, value, bounds, dominates, types }, value, primary: true, at });
  }
  if (!sawObjectR && h.nprim >= 1) {
    entries.unshift({ datum: { name: OBJECT_R, value: 1, bounds: 0, dominates: EMPTY_EBITMAP, types: EMPTY_EBITMAP }, value: 1, primary: true, at: r.offset });
  }
  const table = index(r, 'roles', h.nprim, entries);
  for (const role of table.byValue) {
    if (role && role.bounds > h.nprim) r.fail(`role ${role.name} is bounded by unknown role value ${role.bounds}`);
  }
  return table;
}

const PROPERTY_PRIMARY = 0x1;
const PROPERTY_ATTRIBUTE = 0x2;

function readTypes(r: ByteReader): SymbolTable<TypeDatum> {
  r.section = 'types';
  const h = readHeader(r, 'types');
  const entries = [];
  for (let i = 0; i < h.nel; i++) {
    const at = r.offset;
    const len = r.u32('type name length');
    const value = r.u32('type value');
    const properties = r.u32('type properties');
    const bounds = r.u32('type bounds');
    const name = r.name(len, 'type name');
    const primary = (properties & PROPERTY_PRIMARY) !== 0;
    const isAttribute = (properties & PROPERTY_ATTRIBUTE) !== 0;
    entries.push({ datum: { name, value, isAttribute, bounds }, value, primary, at });
  }
  const table = index(r, 'types', h.nprim, entries);
  for (const t of table.byValue) {
    if (t && t.bounds > h.nprim) r.fail(`type ${t.name} is bounded by unknown type value ${t.bounds}`);
  }
  return table;
}

function readUsers(r: ByteReader): SymbolTable<UserDatum> {
  r.section = 'users';
  const h = readHeader(r, 'users');
  const entries = [];
  for (let i = 0; i < h.nel; i++) {
    const at = r.offset;
    const len = r.u32('user name length');
    const value = r.u32('user value');
    const bounds = r.u32('user bounds');
    const name = r.name(len, 'user name');
    const roles = readEbitmap(r);
    const range = readRange(r);
    const defaultLevel = readLevel(r);
    entries.push({ datum: { name, value, bounds, roles, range, defaultLevel }, value, primary: true, at });
  }
  return index(r, 'users', h.nprim, entries);
}

function readBools(r: ByteReader): SymbolTable<BoolDatum> {
  r.section = 'booleans';
  const h = readHeader(r, 'booleans');
  const entries = [];
  for (let i = 0; i < h.nel; i++) {
    const at = r.offset;
    const value = r.u32('boolean value');
    const state = r.u32('boolean state');
    const len = r.u32('boolean name length');
    const name = r.name(len, 'boolean name');
    if (state > 1) r.fail(`boolean ${name} has state ${state} (0 or 1 expected)`, at);
    entries.push({ datum: { name, value, defaultState: state === 1 }, value, primary: true, at });
  }
  return index(r, 'booleans', h.nprim, entries);
}

function readSensitivities(r: ByteReader): SymbolTable<SensitivityDatum> {
  r.section = 'sensitivities';
  const h = readHeader(r, 'sensitivities');
  const entries = [];
  for (let i = 0; i < h.nel; i++) {
    const at = r.offset;
    const len = r.u32('sensitivity name length');
    const isAlias = r.u32('sensitivity alias flag') !== 0;
    const name = r.name(len, 'sensitivity name');
    const level = readLevel(r);
    entries.push({ datum: { name, isAlias, level }, value: level.sens, primary: !isAlias, at });
  }
  return index(r, 'sensitivities', h.nprim, entries);
}

function readCategories(r: ByteReader): SymbolTable<CategoryDatum> {
  r.section = 'categories';
  const h = readHeader(r, 'categories');
  const entries = [];
  for (let i = 0; i < h.nel; i++) {
    const at = r.offset;
    const len = r.u32('category name length');
    const value = r.u32('category value');
    const isAlias = r.u32('category alias flag') !== 0;
    const name = r.name(len, 'category name');
    entries.push({ datum: { name, value, isAlias }, value, primary: !isAlias, at });
  }
  return index(r, 'categories', h.nprim, entries);
}

export function readSymbolTables(r: ByteReader, version: number): SymbolTables {
  const commons = readCommons(r);
  const classes = readClasses(r, commons, version);
  const roles = readRoles(r);
  const types = readTypes(r);
  const users = readUsers(r);
  const bools = readBools(r);
  const sensitivities = readSensitivities(r);
  const categories = readCategories(r);
  return { commons, classes, roles, types, users, bools, sensitivities, categories };
}

/**
 * The types a role is authorised for, as libsepol's role cache computes them (type_set_expand): a kernel
 * policy stores no attribute members, so an attribute in a role's type set authorises nothing; a bit
 * beyond the types or on an unused value makes libsepol refuse the policy, and so do we.
 */
export function expandRoleTypes(r: ByteReader, tables: SymbolTables): SymbolTable<RoleDatum> {
  r.section = 'roles';
  const { roles, types } = tables;
  const byValue = roles.byValue.map((role) => {
    if (!role) return role;
    let hasAttribute = false;
    for (const bit of role.types) {
      const t = bit < types.count ? types.byValue[bit] : undefined;
      if (!t) r.fail(`role ${role.name} names type value ${bit + 1}, which is not defined`);
      if (t.isAttribute) hasAttribute = true;
    }
    if (!hasAttribute) return role;
    return { ...role, types: role.types.filter((bit) => !types.byValue[bit]!.isAttribute) };
  });
  const byName = new Map<string, RoleDatum>();
  for (const role of byValue) if (role) byName.set(role.name, role);
  return { count: roles.count, byValue, byName };
}
