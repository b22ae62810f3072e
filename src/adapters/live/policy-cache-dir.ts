/**
 * The parsed-policy cache on disk (src/selinux/policy/cached-load.ts): a private directory of this user's,
 * `$VIRT_SECLABEL_CACHE_DIR`, else `$XDG_CACHE_HOME/virt-seclabel`, else `~/.cache/virt-seclabel`;
 * `VIRT_SECLABEL_NO_CACHE=1` turns it off. It holds at most KEEP entries (about 7 MB each for Debian's
 * default policy: the policy bytes and the model), the least recently used going first.
 *
 * Every failure is a miss or a skipped write, never an error: the run reads the policy itself as it would
 * without a cache. The directory and each entry must be this user's and writable by nobody else (as ssh
 * treats ~/.ssh): an entry another user could write would let them choose the model this run decides with.
 */
import {
  closeSync, constants, fstatSync, futimesSync, lstatSync, mkdirSync, openSync, readdirSync, statSync,
  unlinkSync,
} from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { EntryStore } from '../../selinux/policy/cached-load.js';
import { CACHE_ENTRY, RUNNING_ENTRY, type EntryLayout } from '../../selinux/policy/cache-entry.js';
import { readFully } from '../../host/fd-io.js';
import { writeFileAtomic } from '../atomic-write.js';

export const KEEP = 4;
/** Far above any real entry (a 64 MiB policy, the largest query accepts, and its model). */
const MAX_ENTRY_BYTES = 1 << 30;
const STALE_TEMP_MS = 10 * 60 * 1000;

/** The cache directory the environment asks for, or undefined when there is none or it is turned off. */
export function cacheDirFrom(env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (env.VIRT_SECLABEL_NO_CACHE) return undefined;
  const own = env.VIRT_SECLABEL_CACHE_DIR;
  if (own) return isAbsolute(own) ? own : undefined;
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'virt-seclabel');
  const home = env.HOME;
  if (home && isAbsolute(home) && home !== '/') return join(home, '.cache', 'virt-seclabel');
  return undefined;
}

/**
 * The hook's policy store (src/app/hook-policy-store.ts), which `hook install` fills as root through
 * openCacheDir and the hook only reads through this. A store that can only be read: the directory and each entry must be root's and writable by no one else,
 * reached without following a symlink, and nothing is written (not even an mtime). Anything else is a miss:
 * the caller then reads the policy itself.
 */
export function openReadOnlyStore(dir: string, owner = 0): EntryStore {
  /** The entry opened without following a link, when it and its directory are `owner`'s and private; else undefined. */
  const openEntry = (name: string): { fd: number; size: number } | undefined => {
    if (!CACHE_ENTRY.test(name) && !RUNNING_ENTRY.test(name)) return undefined;
    const d = lstatSync(dir);
    if (!d.isDirectory() || !ownedAndPrivate(d, owner)) return undefined;
    const fd = openSync(join(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      if (st.isFile() && ownedAndPrivate(st, owner) && st.size <= MAX_ENTRY_BYTES) return { fd, size: st.size };
    } catch {
      // closed below: a descriptor fstat fails on is no entry
    }
    closeSync(fd);
    return undefined;
  };
  /** `use` on the opened entry, closed after; no entry, or any error, is undefined (a miss). */
  const withEntry = <T>(name: string, use: (entry: { fd: number; size: number }) => T | undefined): T | undefined => {
    let fd: number | undefined;
    try {
      const entry = openEntry(name);
      if (!entry) return undefined;
      fd = entry.fd;
      return use(entry);
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  };
  return {
    read: (name) => withEntry(name, ({ fd, size }) => {
      const out = Buffer.allocUnsafe(size);
      return readFully(fd, out) < out.length ? undefined : out;
    }),
    write: () => false,
    readAgainst: (name, policyPath, headLength, layout) => withEntry(name, (entry) => {
      const l = headOf(entry, headLength, layout);
      if (!l) return undefined;
      const pfd = openSync(policyPath, constants.O_RDONLY);
      try {
        const mine = Buffer.allocUnsafe(CHUNK);
        const theirs = Buffer.allocUnsafe(CHUNK);
        let at = 0;
        for (;;) {
          const n = readFully(pfd, mine);
          if (at + n > l.policyLength) return undefined;
          if (n > 0 && (readFully(entry.fd, theirs.subarray(0, n), l.policyAt + at) < n || mine.compare(theirs, 0, n, 0, n) !== 0)) return undefined;
          at += n;
          if (n < CHUNK) break;
        }
        return at === l.policyLength ? payloadOf(entry.fd, l) : undefined;
      } finally {
        closeSync(pfd);
      }
    }),
    readPayload: (name, headLength, layout) => withEntry(name, (entry) => {
      const l = headOf(entry, headLength, layout);
      return l && payloadOf(entry.fd, l);
    }),
  };
}

/** The entry's layout from its head, when `layout` accepts it and it accounts for the whole file. */
function headOf(entry: { fd: number; size: number }, headLength: number, layout: (head: Uint8Array) => EntryLayout | undefined): EntryLayout | undefined {
  if (entry.size < headLength) return undefined;
  const head = Buffer.allocUnsafe(headLength);
  if (readFully(entry.fd, head, 0) < headLength) return undefined;
  const l = layout(head);
  return l && l.total === entry.size && l.policyAt === headLength ? l : undefined;
}

function payloadOf(fd: number, l: EntryLayout): Uint8Array | undefined {
  const payload = Buffer.allocUnsafe(l.payloadLength);
  return readFully(fd, payload, l.payloadAt) === l.payloadLength ? payload : undefined;
}

const CHUNK = 64 * 1024;

/** Owned by this user, writable by no one else. */
function ownedAndPrivate(st: { uid: number; mode: number }, uid: number): boolean {
  return st.uid === uid && (st.mode & 0o022) === 0;
}

export function openCacheDir(dir: string, keep = KEEP): EntryStore {
  const uid = process.geteuid?.() ?? -1;
  const usable = (): boolean => {
    try {
      const st = lstatSync(dir);
      return st.isDirectory() && ownedAndPrivate(st, uid);
    } catch {
      return false;
    }
  };
  return {
    read(name) {
      if (!usable()) return undefined;
      let fd: number | undefined;
      try {
        fd = openSync(join(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW);
        const st = fstatSync(fd);
        if (!st.isFile() || !ownedAndPrivate(st, uid) || st.size > MAX_ENTRY_BYTES) return undefined;
        const out = Buffer.allocUnsafe(st.size);
        if (readFully(fd, out) < out.length) return undefined; // shrank under us: someone is rewriting it
        // The mtime orders entries for eviction: the one just used is the newest.
        const now = new Date();
        futimesSync(fd, now, now);
        return out;
      } catch {
        return undefined;
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    },
    write(name, parts) {
      if (!createsOnlyOwnDirectories(dir, uid)) return false;
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
      } catch {
        return false;
      }
      if (!usable()) return false;
      try {
        writeFileAtomic({ path: join(dir, name), data: parts, create: { mode: 0o600 } });
      } catch {
        return false;
      }
      prune(dir, name, keep);
      return true;
    },
  };
}

/**
 * The directories mkdir would create go into a directory of this user's. `sudo` with the invoking user's
 * HOME kept would otherwise have root create ~/.cache (or ~/.cache/virt-seclabel) in that user's home,
 * owned by root, where neither their programs nor their own runs of this one could write again.
 */
function createsOnlyOwnDirectories(dir: string, uid: number): boolean {
  for (let d = dir; ; d = dirname(d)) {
    try {
      return lstatSync(d).uid === uid;
    } catch {
      if (dirname(d) === d) return false;
    }
  }
}

/** Keeps the `keep` most recently used entries (the one just written among them) and drops old temp files. */
function prune(dir: string, written: string, keep: number): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const now = Date.now();
  const entries: { name: string; mtime: number }[] = [];
  for (const name of names) {
    const isTemp = name.startsWith('.policy-') && name.endsWith('.tmp');
    if (!CACHE_ENTRY.test(name) && !isTemp) continue;
    try {
      const mtime = statSync(join(dir, name)).mtimeMs;
      if (isTemp) {
        if (now - mtime > STALE_TEMP_MS) unlinkSync(join(dir, name));
      } else if (name !== written) {
        entries.push({ name, mtime });
      }
    } catch {
      // gone already (another run pruned it)
    }
  }
  entries.sort((a, b) => b.mtime - a.mtime);
  for (const e of entries.slice(Math.max(0, keep - 1))) {
    try { unlinkSync(join(dir, e.name)); } catch { /* gone already */ }
  }
}
