/**
 * The smallest change to ONE inode's access ACL that lets one identity through, as the kernel checks it
 * (permission.ts): pure, from the inode, its current ACL and the bits needed.
 *
 * Why these rules:
 * - an owner gets only the owner bits; ACL entries never apply to the owner, so nothing here can help;
 * - a named entry takes effect through the mask, so the mask gets exactly the needed bits it lacks, and
 *   every other group-class entry (named users and groups, the owning group) gains what the wider mask
 *   lets through: that is reported, never hidden;
 * - `mask::---` on an inode with an ACL makes the kernel skip the ACL (mode group bits 0): widening it
 *   would bring every existing entry into force at once, with effects in both directions, so it is refused;
 * - when the inode has no ACL, the new one starts as the mode's equivalent (owning group keeps exactly
 *   its bits, the mask covers them) and only the named user entry is new: nobody else's access changes.
 */
import { entryText, permString, type Acl, type AclEntry } from './acl.js';
import { inodePermission, type AccessMask, type AclState, type Credentials } from './permission.js';
import type { Inode } from '../host/view.js';

export interface AclEdit {
  /** The ACL once changed, in canonical order with named users sorted by id (as setfacl writes them). */
  readonly after: Acl;
  /** The named user entry for the identity: its permissions before (null: no entry) and after; absent: unchanged. */
  readonly entry?: { readonly from: number | null; readonly to: number };
  /** The mask before (null: the inode had no ACL) and after; absent: unchanged. */
  readonly mask?: { readonly from: number | null; readonly to: number };
  /** Existing entries whose effective permissions grow with the wider mask, e.g. `group::r-x` from `r--` to `r-x`. */
  readonly widens: readonly { readonly entry: AclEntry; readonly from: number; readonly to: number }[];
  /** The mode the kernel gives the inode with this ACL (group bits = mask). */
  readonly mode: number;
}

export type AclEditResult = { readonly ok: true; readonly edit: AclEdit } | { readonly ok: false; readonly why: string };

const refuse = (why: string): AclEditResult => ({ ok: false, why });

/** An inode's current ACL as the kernel sees it: none, or its entries. */
export type CurrentAcl = Exclude<AclState, { kind: 'unknown' }>;

function modeWithMask(mode: number, mask: number): number {
  return (mode & ~0o070) | ((mask & 7) << 3);
}

function sortEntries(entries: AclEntry[]): AclEntry[] {
  const rank = { user_obj: 0, user: 1, group_obj: 2, group: 3, mask: 4, other: 5 } as const;
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => rank[a.e.tag] - rank[b.e.tag] || idOf(a.e) - idOf(b.e) || a.i - b.i)
    .map((x) => x.e);
}

const idOf = (e: AclEntry) => (e.tag === 'user' || e.tag === 'group' ? e.id : 0);

/** The ACL equivalent to a mode without one (user::, group::, other::). */
function fromMode(mode: number): AclEntry[] {
  return [
    { tag: 'user_obj', perm: (mode >> 6) & 7 },
    { tag: 'group_obj', perm: (mode >> 3) & 7 },
    { tag: 'other', perm: mode & 7 },
  ];
}

function grants(inode: Inode, mode: number, acl: Acl, who: Credentials, need: AccessMask): boolean {
  const r = inodePermission({ ...inode, mode }, who, need, () => ({ kind: 'acl', acl }));
  return r.granted === true;
}

/**
 * The smallest edit giving `who` the `need` bits on `inode`, or why ACLs cannot. Tries, in order, the
 * mask alone (when an entry already names the identity or one of its groups) and then the named user
 * entry plus the mask bits it needs; either is checked with the kernel's algorithm before it is offered.
 */
export function planAclEdit(inode: Inode, current: CurrentAcl, who: Credentials, need: AccessMask): AclEditResult {
  if (inode.uid === who.uid)
    return refuse(`uid ${who.uid} owns it: the kernel gives an owner only the owner bits and never reads ACL entries for the owner (only chmod u+${permString(need).replace(/-/g, '')} would help)`);
  const had = current.kind === 'acl' ? [...current.acl] : null;
  const base = had ?? fromMode(inode.mode);
  const maskEntry = base.find((e) => e.tag === 'mask');
  if (maskEntry && maskEntry.perm === 0 && base.some((e) => e.tag === 'user' || e.tag === 'group'))
    return refuse(`its ACL has mask::---, so the kernel ignores its entries; a wider mask would put ${base.filter((e) => e.tag === 'user' || e.tag === 'group').map(entryText).join(', ')} into force at once`);
  // Without a mask entry (no ACL, or a minimal one) the group-class bits are the owning group's.
  const mask0 = maskEntry?.perm ?? base.find((e) => e.tag === 'group_obj')!.perm;
  const mask1 = mask0 | need;

  const widened = (entries: readonly AclEntry[], skipUser: number | undefined) =>
    entries
      .filter((e) => (e.tag === 'user' && e.id !== skipUser) || e.tag === 'group' || e.tag === 'group_obj')
      .filter((e) => (e.perm & mask1) !== (e.perm & mask0))
      .map((e) => ({ entry: e, from: e.perm & mask0, to: e.perm & mask1 }));

  // 1. The mask alone, when an existing entry already carries the bits (a masked user entry, a group).
  if (had && maskEntry && mask1 !== mask0) {
    const after = sortEntries(had.map((e) => (e.tag === 'mask' ? { tag: 'mask', perm: mask1 } : e)));
    const mode = modeWithMask(inode.mode, mask1);
    if (grants(inode, mode, after, who, need))
      return { ok: true, edit: { after, mask: { from: mask0, to: mask1 }, widens: widened(had, undefined), mode } };
  }

  // 2. The identity's own entry, with the needed bits added, and the mask bits it needs.
  const own = base.find((e): e is AclEntry & { tag: 'user' } => e.tag === 'user' && e.id === who.uid);
  const perm1 = (own?.perm ?? 0) | need;
  let entries = base.filter((e) => e !== own && e.tag !== 'mask');
  entries.push({ tag: 'user', id: who.uid, perm: perm1 });
  entries.push({ tag: 'mask', perm: mask1 });
  entries = sortEntries(entries);
  const mode = modeWithMask(inode.mode, mask1);
  if (!grants(inode, mode, entries, who, need))
    return refuse(`even with user:${who.uid}:${permString(perm1)} and mask::${permString(mask1)} the kernel's check would deny it`);
  return {
    ok: true,
    edit: {
      after: entries,
      ...(own?.perm === perm1 ? {} : { entry: { from: own?.perm ?? null, to: perm1 } }),
      ...(maskEntry && mask1 === mask0 ? {} : { mask: { from: maskEntry ? mask0 : null, to: mask1 } }),
      widens: had ? widened(had, who.uid) : [],
      mode,
    },
  };
}
