/**
 * The live GrantEffects: ACL changes through file descriptors, never through a path someone could swap.
 *
 * Node has no openat(2), but Linux resolves `/proc/self/fd/N/NAME` by jumping to the open directory N
 * and looking NAME up in it, which is openat(N, NAME). So a path is opened component by component from
 * "/", each with O_PATH|O_NOFOLLOW: a component that is (or became) a symlink is opened as the link
 * itself and refused, and a renamed or replaced directory cannot redirect the walk, because every step
 * starts from the inode the previous step opened. The ACL is then read and changed by getfattr/setfacl
 * on `/proc/self/fd/3`, the held descriptor passed to them as their fd 3: that magic link names exactly
 * the inode held, whatever happened to its path meanwhile.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { decodeAcl, type Acl } from '../../dac/acl.js';
import type { AclSupport } from '../../dac/grant-plan.js';
import type { GrantEffects, Held, HeldInode } from '../../dac/grant-apply.js';
import { errnoWords } from '../../host/errno.js';
import { typeOf } from './live-view.js';

/** O_PATH (linux/fcntl.h); node:fs does not export it. Opens without any access check on the inode itself. */
const O_PATH = 0o10000000;
const FLAGS = O_PATH | constants.O_NOFOLLOW;

const fail = (why: string): Held<never> => ({ ok: false, why });

/** Opens an absolute physical path without following any link; the fd of its last component. */
export function openNoFollow(path: string): Held<number> {
  if (!path.startsWith('/') || path.includes('\0')) return fail(`${path} is not an absolute path`);
  const names = path.split('/').filter((n) => n !== '');
  if (names.some((n) => n === '.' || n === '..')) return fail(`${path} is not a physical path`);
  let fd: number;
  try {
    fd = openSync('/', FLAGS | constants.O_DIRECTORY);
  } catch (e) {
    return fail(`cannot open /: ${errnoWords(e)}`);
  }
  let at = '';
  for (const [i, name] of names.entries()) {
    at += `/${name}`;
    let next: number;
    try {
      next = openSync(`/proc/self/fd/${fd}/${name}`, FLAGS);
    } catch (e) {
      closeSync(fd);
      return fail(`cannot open ${at} without following links: ${errnoWords(e)}`);
    }
    closeSync(fd);
    fd = next;
    const st = fstatSync(fd);
    if (st.isSymbolicLink()) {
      closeSync(fd);
      return fail(`${at} is a symbolic link`);
    }
    if (i < names.length - 1 && !st.isDirectory()) {
      closeSync(fd);
      return fail(`${at} is not a directory`);
    }
  }
  return { ok: true, value: fd };
}

function onFd(fd: number, cmd: string, args: readonly string[]) {
  return spawnSync(cmd, [...args, '/proc/self/fd/3'], {
    stdio: ['ignore', 'pipe', 'pipe', fd],
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
  });
}

type RawAcl = { kind: 'value'; hex: string } | { kind: 'none' } | { kind: 'unsupported'; why: string } | { kind: 'error'; why: string };

function readRaw(fd: number): RawAcl {
  const r = onFd(fd, 'getfattr', ['--absolute-names', '-e', 'hex', '-n', 'system.posix_acl_access']);
  if (r.error) return { kind: 'error', why: `cannot run getfattr (package attr): ${r.error.message}` };
  if (r.status === 0) {
    const hex = /system\.posix_acl_access=0x([0-9a-f]*)/.exec(r.stdout)?.[1];
    return hex === undefined ? { kind: 'error', why: 'getfattr printed no value' } : { kind: 'value', hex };
  }
  if (/No such attribute/.test(r.stderr)) return { kind: 'none' };
  if (/Operation not supported/.test(r.stderr)) return { kind: 'unsupported', why: 'reading system.posix_acl_access fails with EOPNOTSUPP' };
  return { kind: 'error', why: `getfattr: ${r.stderr.trim().replace(/^.*: /, '')}` };
}

export function createLiveGrantEffects(): GrantEffects<number> {
  return {
    open: openNoFollow,
    stat(fd) {
      try {
        const st = fstatSync(fd);
        const type = typeOf(st);
        if (!type) return fail('unrecognised file type');
        const held: HeldInode = { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, dev: st.dev, ino: st.ino };
        return { ok: true, value: held };
      } catch (e) {
        return fail(`cannot stat: ${errnoWords(e)}`);
      }
    },
    readAcl(fd): Held<Acl | null> {
      const raw = readRaw(fd);
      if (raw.kind === 'none') return { ok: true, value: null };
      if (raw.kind !== 'value') return fail(raw.why);
      const acl = decodeAcl(Buffer.from(raw.hex, 'hex'));
      return acl.ok ? { ok: true, value: acl.value } : fail(`its ACL is malformed: ${acl.error}`);
    },
    modifyAcl(fd, spec) {
      const r = onFd(fd, 'setfacl', ['-n', '-m', spec]);
      if (r.error) return fail(`cannot run setfacl (package acl): ${r.error.message}`);
      return r.status === 0 ? { ok: true, value: undefined } : fail(`setfacl: ${r.stderr.trim().replace(/^setfacl: \/proc\/self\/fd\/3: /, '')}`);
    },
    close(fd) {
      closeSync(fd);
    },
  };
}

/**
 * Whether the filesystem holding `path` stores POSIX ACLs, asked of the filesystem itself: reading the
 * ACL xattr fails with EOPNOTSUPP where it does not, and answers (a value, or "no such attribute") where
 * it does. Read-only: nothing is written to find out.
 */
export function probeAclSupport(path: string): AclSupport {
  const h = openNoFollow(path);
  if (!h.ok) return { kind: 'unknown', why: h.why };
  try {
    const raw = readRaw(h.value);
    if (raw.kind === 'value' || raw.kind === 'none') return { kind: 'yes' };
    if (raw.kind === 'unsupported') return { kind: 'no', why: raw.why };
    return { kind: 'unknown', why: raw.why };
  } finally {
    closeSync(h.value);
  }
}
