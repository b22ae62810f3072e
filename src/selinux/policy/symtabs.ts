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
 * Builds the value index the way libsepol's *_index functions do, entry by entry as the table is read:
 * every primary value within 1..nprim and used once; names unique (aliases included, as hashtab_insert
 * refuses duplicates).
 */
class Indexer<T extends { name: string }> {
  private readonly byValue: (T | undefined)[];
  private readonly byName = new Map<string, T>();

  constructor(private readonly r: ByteReader, private readonly what: string, private readonly nprim: number) {
    this.byValue = new Array<T | undefined>(nprim).fill(undefined);
  }

  add(datum: T, value: number, primary: boolean, at: number): void {
    const { r, what, nprim } = this;
    if (value === 0 || value > nprim) r.fail(`${what}: ${datum.name} has value ${value} outside 1..${nprim}`, at);
    // One hash operation per name: a duplicate shows as a set that did not grow the map.
    const before = this.byName.size;
    this.byName.set(datum.name, datum);
    if (this.byName.size === before) r.fail(`${what}: duplicate name ${datum.name}`, at);
    if (!primary) return;
    if (this.byValue[value - 1] !== undefined) r.fail(`${what}: value ${value} used twice`, at);
    this.byValue[value - 1] = datum;
  }

  table(): SymbolTable<T> {
    return { count: this.nprim, byValue: this.byValue, byName: this.byName };
  }
}

function readPerms(r: ByteReader, nel: number, nprim: number, owner: string): Map<string, number> {
  const perms = new Map<string, number>();
  const v = r.dataView;
  for (let i = 0; i < nel; i++) {
    const at = r.offset;
    r.need(8, 'permission entry');
    const len = v.getUint32(at, true);
    const value = v.getUint32(at + 4, true);
    r.advance(8);
    const name = r.name(len, 'permission name');
    if (value === 0 || value > nprim) r.fail(`${owner}: permission ${name} has value ${value} outside 1..${nprim}`, at);
    const before = perms.size;
    perms.set(name, value);
    if (perms.size === before) r.fail(`${owner}: duplicate permission ${name}`, at);
  }
  return perms;
}

function readCommons(r: ByteReader): SymbolTable<CommonDatum> {
  r.section = 'commons';
  const h = readHeader(r, 'commons');
  const index = new Indexer<CommonDatum>(r, 'commons', h.nprim);
  for (let i = 0; i < h.nel; i++) {
    const at = r.offset;
    const len = r.u32('common name length');
    const value = r.u32('common value');
    const nprim = r.u32('common permission count');
    const nel = r.count('common permission', 8);
    const name = r.name(len, 'common name');
    if (nprim > PERM_SYMTAB_SIZE) r.fail(`common ${name} has ${nprim} permissions (at most 32)`, at);
    const perms = readPerms(r, nel, nprim, `common ${name}`);
    index.add({ name, value, perms }, value, true, at);
  }
  return index.table();
}

function readClasses(r: ByteReader, commons: SymbolTable<CommonDatum>, version: number): SymbolTable<ClassDatum> {
  r.section = 'classes';
  const h = readHeader(r, 'classes');
  const index = new Indexer<ClassDatum>(r, 'classes', h.nprim);
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
    index.add({ name, value, common, perms, constraints, validatetrans, defaults }, value, true, at);
  }
  return index.table();
}

function readRoles(r: ByteReader): SymbolTable<RoleDatum> {
  r.section = 'roles';
  const h = readHeader(r, 'roles');
  // libsepol creates object_r (value 1, no types, dominates nothing) before reading and discards the
  // file's own object_r entry: mirror that, since constraints on r1/r2 can see object_r.
  const index = new Indexer<RoleDatum>(r, 'roles', h.nprim);
  const objectR: RoleDatum = { name: OBJECT_R, value: 1, bounds: 0, dominates: EMPTY_EBITMAP, types: EMPTY_EBITMAP };
  if (h.nprim >= 1) index.add(objectR, 1, true, r.offset);
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
      continue;
    }
    index.add({ name, value, bounds, dominates, types }, value, true, at);
  }
  const table = index.table();
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
  const index = new Indexer<TypeDatum>(r, 'types', h.nprim);
  const v = r.dataView;
  // Thousands of entries read once, cold: one length check and direct reads per entry.
  for (let i = 0; i < h.nel; i++) {
    const at = r.offset;
    r.need(16, 'type entry');
    const len = v.getUint32(at, true);
    const value = v.getUint32(at + 4, true);
    const properties = v.getUint32(at + 8, true);
    const bounds = v.getUint32(at + 12, true);
    r.advance(16);
    const name = r.name(len, 'type name');
    index.add({ name, value, isAttribute: (properties & PROPERTY_ATTRIBUTE) !== 0, bounds }, value, (properties & PROPERTY_PRIMARY) !== 0, at);
  }
  const table = index.table();
  for (const t of table.byValue) {
    if (t && t.bounds > h.nprim) r.fail(`type ${t.name} is bounded by unknown type value ${t.bounds}`);
  }
  return table;
}

function readUsers(r: ByteReader): SymbolTable<UserDatum> {
  r.section = 'users';
  const h = readHeader(r, 'users');
  const index = new Indexer<UserDatum>(r, 'users', h.nprim);
  for (let i = 0; i < h.nel; i++) {
    const at = r.offset;
    const len = r.u32('user name length');
    const value = r.u32('user value');
    const bounds = r.u32('user bounds');
    const name = r.name(len, 'user name');
    const roles = readEbitmap(r);
    const range = readRange(r);
    const defaultLevel = readLevel(r);
    index.add({ name, value, bounds, roles, range, defaultLevel }, value, true, at);
  }
  return index.table();
}

function readBools(r: ByteReader): SymbolTable<BoolDatum> {
  r.section = 'booleans';
  const h = readHeader(r, 'booleans');
  const index = new Indexer<BoolDatum>(r, 'booleans', h.nprim);
  for (let i = 0; i < h.nel; i++) {
    const at = r.offset;
    const value = r.u32('boolean value');
    const state = r.u32('boolean state');
    const len = r.u32('boolean name length');
    const name = r.name(len, 'boolean name');
    if (state > 1) r.fail(`boolean ${name} has state ${state} (0 or 1 expected)`, at);
    index.add({ name, value, defaultState: state === 1 }, value, true, at);
  }
  return index.table();
}

function readSensitivities(r: ByteReader): SymbolTable<SensitivityDatum> {
  r.section = 'sensitivities';
  const h = readHeader(r, 'sensitivities');
  const index = new Indexer<SensitivityDatum>(r, 'sensitivities', h.nprim);
  for (let i = 0; i < h.nel; i++) {
    const at = r.offset;
    const len = r.u32('sensitivity name length');
    const isAlias = r.u32('sensitivity alias flag') !== 0;
    const name = r.name(len, 'sensitivity name');
    const level = readLevel(r);
    index.add({ name, isAlias, level }, level.sens, !isAlias, at);
  }
  return index.table();
}

function readCategories(r: ByteReader): SymbolTable<CategoryDatum> {
  r.section = 'categories';
  const h = readHeader(r, 'categories');
  const index = new Indexer<CategoryDatum>(r, 'categories', h.nprim);
  const v = r.dataView;
  for (let i = 0; i < h.nel; i++) {
    const at = r.offset;
    r.need(12, 'category entry');
    const len = v.getUint32(at, true);
    const value = v.getUint32(at + 4, true);
    const isAlias = v.getUint32(at + 8, true) !== 0;
    r.advance(12);
    const name = r.name(len, 'category name');
    index.add({ name, value, isAlias }, value, !isAlias, at);
  }
  return index.table();
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
