import { ebitmapFrom, readEbitmap } from './ebitmap.js';
import { readRange } from './mls-read.js';
import type { FilenameTransition, RangeTransition, RoleAllow, RoleTransition } from './model.js';
import type { ByteReader } from './reader.js';

export interface Counts {
  readonly version: number;
  readonly types: number;
  readonly roles: number;
  readonly classes: number;
  readonly processClass: number;
}

function inRange(r: ByteReader, what: string, v: number, max: number, at: number): number {
  if (v === 0 || v > max) r.fail(`${what} ${v} outside 1..${max}`, at);
  return v;
}

/** role_transition rules; version 26 added the class (before, the process class is implied). */
export function readRoleTransitions(r: ByteReader, c: Counts): RoleTransition[] {
  r.section = 'role transitions';
  const withClass = c.version >= 26;
  const n = r.count('role transition', withClass ? 16 : 12);
  const out: RoleTransition[] = [];
  for (let i = 0; i < n; i++) {
    const at = r.offset;
    const role = inRange(r, 'role transition role', r.u32(), c.roles, at);
    const type = inRange(r, 'role transition type', r.u32(), c.types, at);
    const newRole = inRange(r, 'role transition new role', r.u32(), c.roles, at);
    const tclass = withClass ? inRange(r, 'role transition class', r.u32(), c.classes, at) : c.processClass;
    out.push({ role, type, newRole, tclass });
  }
  return out;
}

export function readRoleAllows(r: ByteReader, c: Counts): RoleAllow[] {
  r.section = 'role allows';
  const n = r.count('role allow', 8);
  const out: RoleAllow[] = [];
  for (let i = 0; i < n; i++) {
    const at = r.offset;
    const role = inRange(r, 'role allow role', r.u32(), c.roles, at);
    const newRole = inRange(r, 'role allow new role', r.u32(), c.roles, at);
    out.push({ role, newRole });
  }
  return out;
}

/**
 * Filename type transitions. Before version 33 each rule is one (name, stype, ttype, tclass, otype);
 * version 33 groups rules by (name, ttype, tclass) with source-type bitmaps per output type, which
 * must not overlap nor repeat an output type (filename_trans_check_datum).
 */
export function readFilenameTransitions(r: ByteReader, c: Counts): FilenameTransition[] {
  r.section = 'filename transitions';
  const out: FilenameTransition[] = [];
  if (c.version < 25) return out;
  const compressed = c.version >= 33;
  const n = r.count('filename transition', compressed ? 16 : 20);
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const at = r.offset;
    const name = r.name(r.u32('filename transition name length'), 'filename transition name');
    if (!compressed) {
      const stype = inRange(r, 'filename transition source type', r.u32(), c.types, at);
      const ttype = inRange(r, 'filename transition target type', r.u32(), c.types, at);
      const tclass = inRange(r, 'filename transition class', r.u32(), c.classes, at);
      const otype = inRange(r, 'filename transition new type', r.u32(), c.types, at);
      // Old policies were sometimes written with duplicates; libsepol keeps the first and moves on.
      const key = `${stype}\0${ttype}\0${tclass}\0${name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ stypes: ebitmapFrom([stype - 1]), ttype, tclass, name, otype });
      continue;
    }
    const ttype = inRange(r, 'filename transition target type', r.u32(), c.types, at);
    const tclass = inRange(r, 'filename transition class', r.u32(), c.classes, at);
    const ndatum = r.count('filename transition datum', 16);
    if (ndatum === 0) r.fail('filename transition without any datum', at);
    const key = `${ttype}\0${tclass}\0${name}`;
    if (seen.has(key)) r.fail(`duplicate filename transition for "${name}"`, at);
    seen.add(key);
    const otypes = new Set<number>();
    const stypesSeen = new Set<number>();
    for (let d = 0; d < ndatum; d++) {
      const stypes = readEbitmap(r);
      const otype = inRange(r, 'filename transition new type', r.u32(), c.types, at);
      if (otypes.has(otype)) r.fail(`filename transition "${name}" repeats new type ${otype}`, at);
      otypes.add(otype);
      for (const s of stypes) {
        if (s >= c.types) r.fail(`filename transition "${name}" names source type ${s + 1} beyond ${c.types}`, at);
        if (stypesSeen.has(s)) r.fail(`filename transition "${name}" gives source type ${s + 1} two new types`, at);
        stypesSeen.add(s);
      }
      out.push({ stypes, ttype, tclass, name, otype });
    }
  }
  return out;
}

export function readRangeTransitions(r: ByteReader, c: Counts): RangeTransition[] {
  r.section = 'range transitions';
  const n = r.count('range transition', 12);
  const out: RangeTransition[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const at = r.offset;
    const source = inRange(r, 'range transition source type', r.u32(), c.types, at);
    const target = inRange(r, 'range transition target type', r.u32(), c.types, at);
    const tclass = inRange(r, 'range transition class', r.u32(), c.classes, at);
    const range = readRange(r);
    const key = (source * 0x10000 + target) * 0x10000 + tclass;
    if (seen.has(key)) r.fail('duplicate range transition', at);
    seen.add(key);
    out.push({ source, target, tclass, range });
  }
  return out;
}
