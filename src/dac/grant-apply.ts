/**
 * Applies a grant plan, one inode at a time, through an effects interface (the live one opens every
 * path component by component without following links; tests pass a recording fake).
 *
 * Before each change the inode reached is compared with the plan (type, mode, owner, group, ACL): any
 * difference means someone changed the path since the plan, and the run stops there. After each change
 * the ACL is read back through the same handle. The result lists exactly what was changed, what was
 * refused and what was never attempted, so a partial failure is never a mystery.
 */
import { entryText, type Acl } from './acl.js';
import type { InodeGrant } from './grant-plan.js';
import type { Inode } from '../host/view.js';

/** The inode a handle holds, as fstat(2) reports it. */
export interface HeldInode extends Inode {
  readonly dev: number;
  readonly ino: number;
}

export type Held<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly why: string };

export interface GrantEffects<H = unknown> {
  /** Opens the physical path component by component, never following a symbolic link. */
  open(path: string): Held<H>;
  stat(handle: H): Held<HeldInode>;
  /** The access ACL through the handle (null: none). */
  readAcl(handle: H): Held<Acl | null>;
  /** `setfacl -n -m SPEC` through the handle (the mask is never recalculated). */
  modifyAcl(handle: H, spec: string): Held<void>;
  close(handle: H): void;
}

export type ChangeOutcome =
  | { readonly path: string; readonly status: 'applied'; readonly spec: string }
  | { readonly path: string; readonly status: 'refused'; readonly why: string }
  | { readonly path: string; readonly status: 'failed'; readonly why: string; readonly changed: boolean }
  | { readonly path: string; readonly status: 'not-attempted' };

/** The `setfacl -n -m` argument for one edit, naming the qemu user as given (a name or a number). */
export function specFor(g: InodeGrant, user: string): string {
  const parts: string[] = [];
  if (g.entry) parts.push(`u:${user}:${perm(g.entry.to)}`);
  if (g.mask) parts.push(`m::${perm(g.mask.to)}`);
  return parts.join(',');
}

const perm = (p: number) => `${p & 4 ? 'r' : '-'}${p & 2 ? 'w' : '-'}${p & 1 ? 'x' : '-'}`;

function sameAcl(a: Acl | null, b: Acl | null): boolean {
  const key = (acl: Acl | null) => (acl ? acl.map(entryText).sort().join(',') : '');
  return key(a) === key(b);
}

function sameInode(held: HeldInode, planned: Inode, mode: number): string | undefined {
  if (held.type !== planned.type) return `it is now a ${held.type}, the plan found a ${planned.type}`;
  if (held.uid !== planned.uid || held.gid !== planned.gid) return `its owner is now ${held.uid}:${held.gid}, the plan found ${planned.uid}:${planned.gid}`;
  if (held.mode !== mode) return `its mode is now ${held.mode.toString(8)}, the plan found ${mode.toString(8)}`;
  return undefined;
}

/** Applies the edits in order; stops at the first one that is refused or fails. Specs name the qemu user by number, so no name lookup can differ from the plan's. */
export function applyGrants<H>(changes: readonly InodeGrant[], fx: GrantEffects<H>, qemuUid: number): ChangeOutcome[] {
  const out: ChangeOutcome[] = [];
  let stopped = false;
  for (const g of changes) {
    if (stopped) {
      out.push({ path: g.path, status: 'not-attempted' });
      continue;
    }
    const o = applyOne(g, fx, qemuUid);
    out.push(o);
    if (o.status !== 'applied') stopped = true;
  }
  return out;
}

function applyOne<H>(g: InodeGrant, fx: GrantEffects<H>, qemuUid: number): ChangeOutcome {
  const h = fx.open(g.path);
  if (!h.ok) return { path: g.path, status: 'refused', why: `not reachable as planned (no link followed): ${h.why}` };
  try {
    const st = fx.stat(h.value);
    if (!st.ok) return { path: g.path, status: 'refused', why: st.why };
    const differs = sameInode(st.value, g.inode, g.inode.mode);
    if (differs) return { path: g.path, status: 'refused', why: `changed since the plan: ${differs}` };
    const acl = fx.readAcl(h.value);
    if (!acl.ok) return { path: g.path, status: 'refused', why: acl.why };
    if (!sameAcl(acl.value, g.before)) return { path: g.path, status: 'refused', why: 'changed since the plan: its ACL is not the one planned on' };
    const spec = specFor(g, String(qemuUid));
    const set = fx.modifyAcl(h.value, spec);
    const after = fx.readAcl(h.value);
    const changed = !after.ok || !sameAcl(after.value, g.before);
    if (!set.ok) return { path: g.path, status: 'failed', why: set.why, changed };
    if (!after.ok) return { path: g.path, status: 'failed', why: `cannot read the ACL back: ${after.why}`, changed: true };
    if (!sameAcl(after.value, g.after))
      return { path: g.path, status: 'failed', why: `its ACL is now ${(after.value ?? []).map(entryText).join(',')}, not the planned ${g.after.map(entryText).join(',')}`, changed };
    return { path: g.path, status: 'applied', spec };
  } finally {
    fx.close(h.value);
  }
}
