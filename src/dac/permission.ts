/**
 * The kernel's DAC permission check on one inode, for a process WITHOUT capabilities
 * (fs/namei.c acl_permission_check + fs/posix_acl.c posix_acl_permission; generic_permission's
 * CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH fallbacks never apply to QEMU, even when its uid is 0).
 *
 * Deliberately the kernel's algorithm, not the POSIX textbook one. Where they differ:
 * - the owner gets exactly the owner bits, even when "other" would grant more (mode 0077 locks the owner out);
 * - the ACL is consulted only when the mode's group bits (= the ACL mask) are non-zero: with `mask::---`
 *   the kernel skips the ACL and a named user falls back to the group/other mode bits;
 * - the owning group only matters when the group and other bits differ in the bits asked for.
 */
import { entryText, permString, type Acl, type AclEntry } from './acl.js';
import type { Inode } from '../host/view.js';

export const MAY_EXEC = 1;
export const MAY_WRITE = 2;
export const MAY_READ = 4;
/** A combination of MAY_READ, MAY_WRITE and MAY_EXEC. */
export type AccessMask = number;

/** The credentials the kernel compares: fsuid, fsgid and the supplementary groups. */
export interface Credentials {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
}

/** What the ACL lookup for an inode gave: none, a decoded ACL, or "cannot tell" (unreadable/malformed). */
export type AclState =
  | { readonly kind: 'none' }
  | { readonly kind: 'acl'; readonly acl: Acl }
  | { readonly kind: 'unknown'; readonly why: string };

export type PermissionResult =
  /** `by` says which mode class or ACL entry decided, e.g. `other r--` or `ACL user:64055:rw- masked by r--`. */
  | { readonly granted: boolean; readonly by: string }
  | { readonly granted: null; readonly why: string };

export function inGroup(cred: Credentials, gid: number): boolean {
  return cred.gid === gid || cred.groups.includes(gid);
}

export function maskText(mask: AccessMask): string {
  const parts = [mask & MAY_READ ? 'read' : '', mask & MAY_WRITE ? 'write' : '', mask & MAY_EXEC ? 'search' : ''];
  return parts.filter(Boolean).join('+');
}

/**
 * Whether `cred` gets `mask` on `inode`. `readAcl` is called only when the kernel would read the ACL
 * (not the owner, group bits non-zero), so an unreadable ACL only matters where it decides.
 */
export function inodePermission(
  inode: Inode,
  cred: Credentials,
  mask: AccessMask,
  readAcl: () => AclState,
): PermissionResult {
  const want = mask & 7;
  const mode = inode.mode;
  if (inode.uid === cred.uid) {
    const bits = (mode >> 6) & 7;
    return { granted: (want & ~bits) === 0, by: `owner ${permString(bits)}` };
  }
  if (mode & 0o070) {
    const acl = readAcl();
    if (acl.kind === 'unknown') return { granted: null, why: acl.why };
    if (acl.kind === 'acl') return aclPermission(acl.acl, inode, cred, want);
  }
  const groupBits = (mode >> 3) & 7;
  const otherBits = mode & 7;
  // The kernel looks at group ownership only when group and other differ in the bits asked for.
  if (want & (groupBits ^ otherBits) && inGroup(cred, inode.gid)) {
    return { granted: (want & ~groupBits) === 0, by: `group ${permString(groupBits)}` };
  }
  return { granted: (want & ~otherBits) === 0, by: `other ${permString(otherBits)}` };
}

/** posix_acl_permission, entry by entry in stored order (the owner case was settled by the caller). */
function aclPermission(acl: Acl, inode: Inode, cred: Credentials, want: AccessMask): PermissionResult {
  let groupMatched: AclEntry | undefined;
  for (const [i, e] of acl.entries()) {
    switch (e.tag) {
      case 'user_obj':
        // Unreachable for a non-owner, kept for fidelity with the kernel loop.
        if (inode.uid === cred.uid) return checkEntry(e, want, 'ACL');
        break;
      case 'user':
        if (e.id === cred.uid) return masked(acl, i, e, want);
        break;
      case 'group_obj':
        if (inGroup(cred, inode.gid)) {
          groupMatched ??= e;
          if ((e.perm & want) === want) return masked(acl, i, e, want);
        }
        break;
      case 'group':
        if (inGroup(cred, e.id)) {
          groupMatched ??= e;
          if ((e.perm & want) === want) return masked(acl, i, e, want);
        }
        break;
      case 'mask':
        break;
      case 'other':
        // A matching group entry that does not grant the access denies it: "other" is never reached.
        if (groupMatched) return { granted: false, by: `ACL ${entryText(groupMatched)} (no matching group entry grants ${permString(want)})` };
        return checkEntry(e, want, 'ACL');
    }
  }
  return { granted: null, why: 'ACL has no other entry' };
}

function checkEntry(e: AclEntry, want: AccessMask, prefix: string): PermissionResult {
  return { granted: (e.perm & want) === want, by: `${prefix} ${entryText(e)}` };
}

/** The kernel applies the first mask entry after the matching one; without one the entry stands alone. */
function masked(acl: Acl, index: number, e: AclEntry, want: AccessMask): PermissionResult {
  const mask = acl.slice(index + 1).find((m) => m.tag === 'mask');
  if (!mask) return checkEntry(e, want, 'ACL');
  return { granted: (e.perm & mask.perm & want) === want, by: `ACL ${entryText(e)} masked by ${permString(mask.perm)}` };
}
