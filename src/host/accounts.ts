/**
 * /etc/passwd and /etc/group as glibc's "files" NSS backend reads them: one entry a line, `#` comments
 * and blank lines skipped, malformed lines skipped (glibc ignores what it cannot parse, so guessing at
 * them would invent accounts). Only the files are read: accounts from LDAP/SSSD are not seen, which
 * makes a name unknown (a clear error), never a wrong identity.
 */
import { failure, success, type Result } from '../result.js';
import type { GroupEntry, HostView, PasswdEntry } from './view.js';
import { pathProblem } from './errno.js';

export const PASSWD_PATH = '/etc/passwd';
export const GROUP_PATH = '/etc/group';

/** A uid/gid as the kernel accepts it: a plain decimal below 2^32 - 1 ((uid_t)-1 is "no id"). */
export function parseId(text: string): number | undefined {
  if (!/^[0-9]{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n < 0xffffffff ? n : undefined;
}

/** Each line that is neither blank nor a comment, split at its colons (one pass, no intermediate arrays). */
function dataLines(text: string): string[][] {
  const out: string[][] = [];
  for (let start = 0; start < text.length; ) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    if (end > start && text.charCodeAt(start) !== 0x23 /* # */) out.push(text.slice(start, end).split(':'));
    start = end + 1;
  }
  return out;
}

export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const f of dataLines(text)) {
    if (f.length !== 7 || f[0] === '' || /^[+-]/.test(f[0]!)) continue;
    const uid = parseId(f[2]!);
    const gid = parseId(f[3]!);
    if (uid === undefined || gid === undefined) continue;
    entries.push({ name: f[0]!, uid, gid, home: f[5]! });
  }
  return entries;
}

export function parseGroup(text: string): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const f of dataLines(text)) {
    if (f.length !== 4 || f[0] === '' || /^[+-]/.test(f[0]!)) continue;
    const gid = parseId(f[2]!);
    if (gid === undefined) continue;
    entries.push({ name: f[0]!, gid, members: f[3] === '' ? [] : f[3]!.split(',') });
  }
  return entries;
}

export interface Accounts {
  readonly passwd: readonly PasswdEntry[];
  readonly groups: readonly GroupEntry[];
}

/**
 * /etc/passwd and /etc/group as one view saw them, read once per view: the connection (its default
 * identity: passwd alone), the DAC engine and the hook's record check each need them for the same decision
 * (a hook call read them three times).
 */
export function readAccounts(view: HostView): Result<Accounts, string> {
  let read = READ.get(view);
  if (read === undefined) READ.set(view, (read = readAccountsOnce(view)));
  return read;
}
const READ = new WeakMap<HostView, Result<Accounts, string>>();

/** /etc/passwd alone, read once per view (and shared with readAccounts). */
export function readPasswd(view: HostView): Result<readonly PasswdEntry[], string> {
  let read = READ_PASSWD.get(view);
  if (read === undefined) {
    const passwd = view.readText(PASSWD_PATH);
    read = passwd.kind === 'ok' ? success(parsePasswd(passwd.value)) : failure(passwd.kind === 'missing' ? pathProblem(PASSWD_PATH, passwd.errno) : `${PASSWD_PATH}: ${passwd.why}`);
    READ_PASSWD.set(view, read);
  }
  return read;
}
const READ_PASSWD = new WeakMap<HostView, Result<readonly PasswdEntry[], string>>();

function readAccountsOnce(view: HostView): Result<Accounts, string> {
  const passwd = readPasswd(view);
  if (!passwd.ok) return passwd;
  const group = view.readText(GROUP_PATH);
  if (group.kind !== 'ok') return failure(group.kind === 'missing' ? pathProblem(GROUP_PATH, group.errno) : `${GROUP_PATH}: ${group.why}`);
  return success({ passwd: passwd.value, groups: parseGroup(group.value) });
}

/** Names for ids in messages (`alice:kvm` instead of `1000:107`); the first entry wins, as getpwuid. */
export interface AccountNames {
  userName(uid: number): string | undefined;
  groupName(gid: number): string | undefined;
}

export function accountNames(accounts: Accounts): AccountNames {
  const users = new Map<number, string>();
  for (const p of accounts.passwd) if (!users.has(p.uid)) users.set(p.uid, p.name);
  const groups = new Map<number, string>();
  for (const g of accounts.groups) if (!groups.has(g.gid)) groups.set(g.gid, g.name);
  return { userName: (uid) => users.get(uid), groupName: (gid) => groups.get(gid) };
}

export const numericNames: AccountNames = { userName: () => undefined, groupName: () => undefined };
