/**
 * The credentials libvirt gives the QEMU process, from qemu.conf `user`/`group`, a domain's static DAC
 * `<label>USER:GROUP</label>`, or (session mode) the invoking user.
 *
 * Mirrors libvirt (src/util/virutil.c): virGetUserID/virGetGroupID try the name first and fall back to a
 * number, while a leading `+` forces a number without any lookup. virGetGroupList then gives the process
 * getgrouplist(passwd name of the uid, passwd primary gid of the uid) plus the configured gid; a uid with
 * no passwd entry gets the configured gid alone. QEMU runs with fsuid = uid, fsgid = gid and that list.
 */
import { failure, success, type Result } from '../result.js';
import { parseId, type Accounts } from '../host/accounts.js';
import { ownerIdOf, splitOwnership } from './ownership.js';
import type { Credentials } from './permission.js';
import type { GroupEntry, PasswdEntry } from '../host/view.js';

export interface QemuIdentity extends Credentials {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups, the configured gid included (as virGetGroupList returns it). */
  readonly groups: readonly number[];
  /** The passwd name of the uid, when it has one (used in messages and suggestions). */
  readonly userName?: string;
  readonly groupName?: string;
}

/** `+N`: that number, never looked up. Otherwise a name, which libvirt falls back to reading as a number. */
export type UserSpec = { readonly kind: 'number'; readonly id: number } | { readonly kind: 'name'; readonly name: string };

export function parseUserSpec(spec: string): Result<UserSpec, string> {
  if (spec === '') return failure('empty user or group');
  // libvirt's reading (ownership.ts), then this module's stricter rule: a +number is plain digits below
  // (uid_t)-1, so "+ 5" or "+-1" (which libvirt would take) leave the identity unknown rather than odd.
  const read = ownerIdOf(spec);
  if (read.ok && read.value.kind === 'id') {
    const id = parseId(spec.slice(1));
    return id === undefined ? failure(`'${spec}' is not a valid +number id`) : success({ kind: 'number', id });
  }
  if (!read.ok) return failure(`'${spec}' is not a valid +number id`);
  if (/[:\n\0]/.test(spec)) return failure(`'${spec}' cannot be a user or group name`);
  return success({ kind: 'name', name: spec });
}

function resolveId(
  what: 'user' | 'group',
  spec: string,
  byName: (name: string) => number | undefined,
): Result<number, string> {
  const parsed = parseUserSpec(spec);
  if (!parsed.ok) return failure(`${what} ${parsed.error}`);
  if (parsed.value.kind === 'number') return success(parsed.value.id);
  const found = byName(parsed.value.name);
  if (found !== undefined) return success(found);
  const numeric = parseId(parsed.value.name);
  if (numeric !== undefined) return success(numeric);
  return failure(`unknown ${what} '${spec}': no such entry in /etc/${what === 'user' ? 'passwd' : 'group'}`);
}

/** getgrouplist(3) over /etc/group: the primary gid, then every group listing the user by name. */
export function groupList(userName: string, primary: number, groups: readonly GroupEntry[]): number[] {
  const list = [primary];
  for (const g of groups) if (g.members.includes(userName) && !list.includes(g.gid)) list.push(g.gid);
  return list;
}

export function resolveIdentity(
  conf: { readonly user: string; readonly group: string },
  passwd: readonly PasswdEntry[],
  groups: readonly GroupEntry[],
): Result<QemuIdentity, string> {
  const uid = resolveId('user', conf.user, (n) => passwd.find((p) => p.name === n)?.uid);
  if (!uid.ok) return uid;
  const gid = resolveId('group', conf.group, (n) => groups.find((g) => g.name === n)?.gid);
  if (!gid.ok) return gid;
  return success(identityFor(uid.value, gid.value, { passwd, groups }));
}

/** The credentials for a known uid/gid pair, with libvirt's group list. */
export function identityFor(uid: number, gid: number, accounts: Accounts): QemuIdentity {
  const entry = accounts.passwd.find((p) => p.uid === uid);
  const list = entry ? groupList(entry.name, entry.gid, accounts.groups) : [];
  if (!list.includes(gid)) list.push(gid);
  const groupName = accounts.groups.find((g) => g.gid === gid)?.name;
  return {
    uid,
    gid,
    groups: list,
    ...(entry ? { userName: entry.name } : {}),
    ...(groupName !== undefined ? { groupName } : {}),
  };
}

/**
 * Session mode: QEMU runs as the invoking user with the user's primary group. (The real process inherits
 * the login session's groups, which getgrouplist reproduces unless the session changed them.)
 */
export function resolveSessionIdentity(uid: number, accounts: Accounts): Result<QemuIdentity, string> {
  const entry = accounts.passwd.find((p) => p.uid === uid);
  if (!entry) return failure(`uid ${uid} has no /etc/passwd entry`);
  return success(identityFor(uid, entry.gid, accounts));
}

/** A domain `<seclabel type='static' model='dac'><label>USER:GROUP</label>`: split at the first colon. */
export function parseDacLabel(label: string): Result<{ user: string; group: string }, string> {
  const parts = splitOwnership(label);
  if (!parts || parts.user === '' || parts.group === '') return failure(`DAC label '${label}' is not USER:GROUP`);
  return success({ user: parts.user, group: parts.group });
}
