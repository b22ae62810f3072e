/**
 * POSIX access ACLs as the kernel stores them in the `system.posix_acl_access` xattr
 * (include/uapi/linux/posix_acl_xattr.h): a little-endian u32 version (2), then 8-byte entries
 * { u16 tag, u16 perm, u32 id }. Decoding applies the kernel's own validity rules
 * (posix_acl_from_xattr + posix_acl_valid): a value the kernel would refuse cannot prove access, so it
 * is rejected here and the caller answers "not proven".
 */
import { failure, success, type Result } from '../result.js';

export type AclTag = 'user_obj' | 'user' | 'group_obj' | 'group' | 'mask' | 'other';

/** Named entries carry the uid/gid they name; the others apply to the file's owner, group or everyone. */
export type AclEntry =
  | { readonly tag: 'user_obj' | 'group_obj' | 'mask' | 'other'; readonly perm: number }
  | { readonly tag: 'user' | 'group'; readonly perm: number; readonly id: number };

/** Entries in the kernel's canonical order (user_obj, users, group_obj, groups, mask, other). */
export type Acl = readonly AclEntry[];

const TAG_CODES: Readonly<Record<AclTag, number>> = {
  user_obj: 0x01,
  user: 0x02,
  group_obj: 0x04,
  group: 0x08,
  mask: 0x10,
  other: 0x20,
};
const TAG_BY_CODE = new Map<number, AclTag>(Object.entries(TAG_CODES).map(([t, c]) => [c, t as AclTag]));

const XATTR_VERSION = 2;
const HEADER_SIZE = 4;
const ENTRY_SIZE = 8;
/** The kernel's ACL_UNDEFINED_ID, also the invalid uid/gid (-1). */
const UNDEFINED_ID = 0xffffffff;
/** Linux caps an xattr value at 64 KiB; anything larger did not come from a kernel. */
const MAX_XATTR_SIZE = 65536;

/**
 * Decodes an access ACL. `null` means "no ACL": the kernel turns a header without entries into no ACL
 * at all, and then only the mode bits count.
 */
export function decodeAcl(bytes: Uint8Array): Result<Acl | null, string> {
  if (bytes.length > MAX_XATTR_SIZE) return failure(`ACL xattr of ${bytes.length} bytes exceeds the 64 KiB xattr limit`);
  if (bytes.length < HEADER_SIZE) return failure(`ACL xattr of ${bytes.length} bytes is shorter than its header`);
  const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = data.getUint32(0, true);
  if (version !== XATTR_VERSION) return failure(`ACL xattr version ${version}, expected ${XATTR_VERSION}`);
  if ((bytes.length - HEADER_SIZE) % ENTRY_SIZE !== 0) {
    return failure(`ACL xattr size ${bytes.length} is not a header plus whole 8-byte entries`);
  }
  const count = (bytes.length - HEADER_SIZE) / ENTRY_SIZE;
  if (count === 0) return success(null);
  const entries: AclEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = HEADER_SIZE + i * ENTRY_SIZE;
    const code = data.getUint16(at, true);
    const perm = data.getUint16(at + 2, true);
    const id = data.getUint32(at + 4, true);
    const tag = TAG_BY_CODE.get(code);
    if (tag === undefined) return failure(`ACL entry ${i} has unknown tag 0x${code.toString(16)}`);
    if (tag === 'user' || tag === 'group') {
      if (id === UNDEFINED_ID) return failure(`ACL entry ${i} (${tag}) names the invalid id -1`);
      entries.push({ tag, perm, id });
    } else {
      entries.push({ tag, perm });
    }
  }
  const invalid = aclInvalidity(entries);
  return invalid === undefined ? success(entries) : failure(invalid);
}

/**
 * posix_acl_valid: perms within rwx; exactly one user_obj, group_obj and other, in canonical order;
 * a mask is required once there is a named entry. Named ids need not be sorted for the kernel.
 */
function aclInvalidity(entries: readonly AclEntry[]): string | undefined {
  type State = 'user_obj' | 'users' | 'groups' | 'after_mask' | 'done';
  let state: State = 'user_obj';
  let needsMask = false;
  for (const [i, e] of entries.entries()) {
    if (e.perm & ~7) return `ACL entry ${i} has permission bits 0x${e.perm.toString(16)} beyond rwx`;
    const bad = `ACL entry ${i} (${e.tag}) is out of the kernel's canonical order`;
    switch (e.tag) {
      case 'user_obj':
        if (state !== 'user_obj') return bad;
        state = 'users';
        break;
      case 'user':
        if (state !== 'users') return bad;
        needsMask = true;
        break;
      case 'group_obj':
        if (state !== 'users') return bad;
        state = 'groups';
        break;
      case 'group':
        if (state !== 'groups') return bad;
        needsMask = true;
        break;
      case 'mask':
        if (state !== 'groups') return bad;
        state = 'after_mask';
        break;
      case 'other':
        if (state === 'after_mask' || (state === 'groups' && !needsMask)) {
          state = 'done';
          break;
        }
        return needsMask && state === 'groups' ? `ACL has named entries but no mask` : bad;
    }
  }
  return state === 'done' ? undefined : 'ACL lacks a user_obj, group_obj or other entry';
}

/** The xattr bytes for an ACL (entries written in the given order): for test fixtures and snapshots. */
export function encodeAcl(acl: Acl): Uint8Array {
  const bytes = new Uint8Array(HEADER_SIZE + acl.length * ENTRY_SIZE);
  const data = new DataView(bytes.buffer);
  data.setUint32(0, XATTR_VERSION, true);
  acl.forEach((e, i) => {
    const at = HEADER_SIZE + i * ENTRY_SIZE;
    data.setUint16(at, TAG_CODES[e.tag], true);
    data.setUint16(at + 2, e.perm, true);
    data.setUint32(at + 4, e.tag === 'user' || e.tag === 'group' ? e.id : UNDEFINED_ID, true);
  });
  return bytes;
}

/** `rw-` style, as getfacl prints permissions. */
export function permString(perm: number): string {
  return `${perm & 4 ? 'r' : '-'}${perm & 2 ? 'w' : '-'}${perm & 1 ? 'x' : '-'}`;
}

/** getfacl's short text for one entry, e.g. `user:64055:r--`, `mask::r-x`. */
export function entryText(e: AclEntry): string {
  const kind = e.tag === 'user_obj' || e.tag === 'user' ? 'user' : e.tag === 'group_obj' || e.tag === 'group' ? 'group' : e.tag;
  const id = e.tag === 'user' || e.tag === 'group' ? String(e.id) : '';
  return `${kind}:${id}:${permString(e.perm)}`;
}
