/**
 * libvirt's reading of an owner (src/util/virutil.c, 9.0): virParseOwnershipIds splits `USER:GROUP` at the
 * first ':', virGetUserID/virGetGroupID read `+N` as a number through virStrToLong_ui and anything else as
 * an account name first, a number second. One reader for the qemu identity (identity.ts, which adds its
 * stricter checks), the doctor's records (doctor/records.ts) and the static labels the doctor and the
 * hook's record check resolve. Pure: accounts come in as lookups.
 */
import { failure, success, type Result } from '../result.js';

const UINT_MAX = 0xffffffffn;
const ULONG_MAX = 0xffffffffffffffffn;
/** C isspace in the C locale. */
const SPACE = new Set([' ', '\t', '\n', '\v', '\f', '\r']);

/**
 * virStrToLong_ui(s, NULL, 10, &u) on a 64-bit host: strtoul (leading spaces, one optional sign, at least
 * one digit, ERANGE past ULONG_MAX), the whole string consumed, then: with a '-' the magnitude must be at
 * most UINT_MAX and the value is taken modulo 2^32 ("-1" is UINT_MAX); without one it must fit in 32 bits.
 */
export function strToUint(s: string): Result<number, string> {
  let i = 0;
  while (i < s.length && SPACE.has(s[i]!)) i++;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') {
    negative = s[i] === '-';
    i++;
  }
  const start = i;
  while (i < s.length && s[i]! >= '0' && s[i]! <= '9') i++;
  if (i === start) return failure('no digits');
  if (i !== s.length) return failure('trailing characters');
  const magnitude = BigInt(s.slice(start, i));
  if (magnitude > ULONG_MAX) return failure('out of range');
  if (negative) {
    if (magnitude > UINT_MAX) return failure('out of range');
    return success(Number((-magnitude) & UINT_MAX));
  }
  if (magnitude > UINT_MAX) return failure('out of range');
  return success(Number(magnitude));
}

/** An owner id as virGetUserID/virGetGroupID read it: `+N` is a number, otherwise a name first. */
export type OwnerId = { readonly kind: 'id'; readonly id: number } | { readonly kind: 'name'; readonly name: string };

export function ownerIdOf(part: string): Result<OwnerId, string> {
  if (part.startsWith('+')) {
    const n = strToUint(part.slice(1));
    return n.ok ? success({ kind: 'id', id: n.value }) : failure(n.error);
  }
  // libvirt looks the name up first and falls back to a number; a caller with the accounts resolves it
  // (resolveOwnerId). An empty part is no name and no number: libvirt's parse fails.
  if (part === '') return failure('empty');
  return success({ kind: 'name', name: part });
}

export interface DacOwner {
  readonly user: OwnerId;
  readonly group: OwnerId;
}

/** A `USER:GROUP` label split at its first ':' as libvirt splits it; undefined without a ':'. */
export function splitOwnership(label: string): { readonly user: string; readonly group: string } | undefined {
  const colon = label.indexOf(':');
  return colon < 0 ? undefined : { user: label.slice(0, colon), group: label.slice(colon + 1) };
}

/** virParseOwnershipIds: split at the first ':'; no ':' is libvirt's "Failed to parse uid and gid". */
export function parseOwnershipIds(label: string): Result<DacOwner, string> {
  // libvirt's messages, with a hostile part cut and escaped for a terminal.
  const say = (t: string) => JSON.stringify(t.length > 64 ? `${t.slice(0, 64)}…` : t).slice(1, -1).replace(/[\u007f-\u009f]/g, '?');
  const parts = splitOwnership(label);
  if (!parts) return failure(`Failed to parse uid and gid from '${say(label)}'`);
  const user = ownerIdOf(parts.user);
  if (!user.ok) return failure(`Failed to parse user '${say(parts.user)}'`);
  const group = ownerIdOf(parts.group);
  if (!group.ok) return failure(`Failed to parse group '${say(parts.group)}'`);
  return success({ user: user.value, group: group.value });
}

/** virGetUserID's order for a part without '+': the account name first, then a number. */
export function resolveOwnerId(id: OwnerId, byName: (name: string) => number | undefined): Result<number, string> {
  if (id.kind === 'id') return success(id.id);
  const named = byName(id.name);
  if (named !== undefined) return success(named);
  const n = strToUint(id.name);
  return n.ok ? n : failure(`no account named '${id.name}'`);
}

/**
 * A DAC label resolved to numbers as libvirt would: parseOwnershipIds, then each part through
 * resolveOwnerId. The errors name the part (`user: …`, `group: …`).
 */
export function resolveOwnership(
  label: string,
  userId: (name: string) => number | undefined,
  groupId: (name: string) => number | undefined,
): Result<{ readonly uid: number; readonly gid: number }, string> {
  const parsed = parseOwnershipIds(label);
  if (!parsed.ok) return parsed;
  const uid = resolveOwnerId(parsed.value.user, userId);
  if (!uid.ok) return failure(`user: ${uid.error}`);
  const gid = resolveOwnerId(parsed.value.group, groupId);
  if (!gid.ok) return failure(`group: ${gid.error}`);
  return success({ uid: uid.value, gid: gid.value });
}
