/**
 * The kernel's path walk for open(2) without O_NOFOLLOW (fs/namei.c link_path_walk, open_last_lookups,
 * pick_link), over a HostView and independent of who walks.
 *
 * It records, in the kernel's order, every directory that must be searched (may_lookup: MAY_EXEC on the
 * current directory before each component, `.` and `..` included) and every symlink followed, then the
 * final inode or the identity-independent error that ends the walk. A permission engine replays the
 * steps for one identity: the first step it fails is where the kernel would have stopped with EACCES,
 * before any later ENOENT/ENOTDIR/ELOOP. Because the view is read as root, the walk goes on past
 * directories a given identity could not search, which is what lets the caller tell "only a directory
 * blocks" from "the file itself is denied". The SELinux engine reuses the same steps (dir search,
 * lnk_file read).
 *
 * Paths recorded are physical: symlinks resolved, `.`/`..` applied, so every lstat goes to a real inode.
 */
import type { HostView, Inode } from './view.js';
import { errnoWords } from './errno.js';

/** Linux MAXSYMLINKS: the 41st link followed in one walk fails with ELOOP. */
export const MAX_SYMLINKS = 40;
/** PATH_MAX including the terminating NUL. */
export const PATH_MAX = 4096;
/** NAME_MAX: a longer component fails with ENAMETOOLONG at its lookup. */
export const NAME_MAX = 255;

export interface WalkedInode {
  readonly path: string;
  readonly inode: Inode;
}

export type WalkStep =
  /** MAY_EXEC needed on `dir` before the next component is looked up in it. */
  | { readonly kind: 'search'; readonly dir: WalkedInode }
  /**
   * A symlink followed. `trailing` when it was the last component of the walk (only those are subject
   * to fs.protected_symlinks); `parent` is the directory that holds it.
   */
  | {
      readonly kind: 'follow';
      readonly link: WalkedInode;
      readonly target: string;
      readonly trailing: boolean;
      readonly parent: WalkedInode;
    };

export type WalkErrno = 'ENOENT' | 'ENOTDIR' | 'ELOOP' | 'ENAMETOOLONG';

export type WalkEnd =
  | { readonly kind: 'found'; readonly file: WalkedInode }
  /** `at`: the path that does not exist, is not a directory, is the link too many, or is too long. */
  | { readonly kind: 'error'; readonly errno: WalkErrno; readonly at: string }
  | { readonly kind: 'unknown'; readonly at: string; readonly why: string };

export interface Walk {
  readonly steps: readonly WalkStep[];
  readonly end: WalkEnd;
}

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');
const join = (dir: string, name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`);
const parentPath = (p: string) => (p === '/' ? '/' : p.slice(0, p.lastIndexOf('/')) || '/');

/** One pathname being consumed: the top-level path or a symlink body. */
interface Frame {
  readonly names: readonly string[];
  next: number;
  /** The name ended in `/`: its last component must be a directory (LOOKUP_DIRECTORY). */
  readonly trailingSlash: boolean;
}

function frame(name: string): Frame {
  return { names: name.split('/').filter((c) => c !== ''), next: 0, trailingSlash: name.endsWith('/') };
}

export function walkPath(host: HostView, path: string): Walk {
  // One walk is one moment of the host: repeated lookups (link chains re-walk from "/") are read once.
  const seen = new Map<string, ReturnType<HostView['lstat']>>();
  const view = {
    lstat(p: string) {
      let r = seen.get(p);
      if (!r) seen.set(p, (r = host.lstat(p)));
      return r;
    },
    readlink: (p: string) => host.readlink(p),
  };
  const steps: WalkStep[] = [];
  const end = (e: WalkEnd): Walk => ({ steps, end: e });
  if (path === '') return end({ kind: 'error', errno: 'ENOENT', at: path });
  if (path.includes('\0')) return end({ kind: 'unknown', at: path, why: 'path contains a NUL byte' });
  if (byteLength(path) >= PATH_MAX) return end({ kind: 'error', errno: 'ENAMETOOLONG', at: path });
  if (!path.startsWith('/')) return end({ kind: 'unknown', at: path, why: 'relative path: no working directory to resolve it from' });

  const rootStat = view.lstat('/');
  if (rootStat.kind !== 'ok') return end({ kind: 'unknown', at: '/', why: lookupWhy(rootStat) });
  const root: WalkedInode = { path: '/', inode: rootStat.value };
  let cur = root;
  let links = 0;
  let mustBeDir = false;
  const frames: Frame[] = [frame(path)];

  for (;;) {
    while (frames.length > 1 && frames[frames.length - 1]!.next >= frames[frames.length - 1]!.names.length) frames.pop();
    const top = frames[frames.length - 1]!;
    if (top.next >= top.names.length) {
      // Only slashes (or a pure jump to "/" as the last step): the walk ends where it stands.
      return finish(cur);
    }
    const name = top.names[top.next++]!;
    const isFinal = frames.length === 1 && top.next === top.names.length;
    steps.push({ kind: 'search', dir: cur });

    let next: WalkedInode;
    if (name === '.') {
      next = cur;
    } else if (name === '..') {
      const p = parentPath(cur.path);
      const st = view.lstat(p);
      if (st.kind !== 'ok') return end({ kind: 'unknown', at: p, why: lookupWhy(st) });
      next = { path: p, inode: st.value };
    } else {
      if (isFinal && top.trailingSlash) mustBeDir = true;
      const childPath = join(cur.path, name);
      if (byteLength(name) > NAME_MAX) return end({ kind: 'error', errno: 'ENAMETOOLONG', at: childPath });
      const st = view.lstat(childPath);
      if (st.kind === 'missing') return end({ kind: 'error', errno: 'ENOENT', at: childPath });
      if (st.kind === 'unknown') return end({ kind: 'unknown', at: childPath, why: st.why });
      const child: WalkedInode = { path: childPath, inode: st.value };
      if (child.inode.type === 'symlink') {
        if (links >= MAX_SYMLINKS) return end({ kind: 'error', errno: 'ELOOP', at: childPath });
        links++;
        const body = view.readlink(childPath);
        if (body.kind !== 'ok') return end({ kind: 'unknown', at: childPath, why: lookupWhy(body) });
        const target = body.value;
        if (target === '' || target.includes('\0') || byteLength(target) >= PATH_MAX) {
          return end({ kind: 'unknown', at: childPath, why: 'symlink body that Linux cannot store' });
        }
        steps.push({ kind: 'follow', link: child, target, trailing: isFinal, parent: cur });
        // The link's own frame (if exhausted) is dropped before the body is pushed, as the kernel does.
        if (isFinal) frames.length = 0;
        else while (frames.length > 1 && frames[frames.length - 1]!.next >= frames[frames.length - 1]!.names.length) frames.pop();
        if (target.startsWith('/')) cur = root;
        const bodyFrame = frame(target);
        if (bodyFrame.names.length > 0) {
          frames.push(bodyFrame);
          continue;
        }
        // A body of only slashes is a pure jump to "/".
        if (frames.length === 0) frames.push(frame(''));
        next = cur;
      } else {
        next = child;
      }
    }

    cur = next;
    if (frames.length === 1 && frames[0]!.next >= frames[0]!.names.length) return finish(cur);
    if (cur.inode.type !== 'dir') return end({ kind: 'error', errno: 'ENOTDIR', at: cur.path });
  }

  function finish(file: WalkedInode): Walk {
    if (mustBeDir && file.inode.type !== 'dir') return end({ kind: 'error', errno: 'ENOTDIR', at: file.path });
    return end({ kind: 'found', file });
  }
}

function lookupWhy(l: { kind: 'missing'; errno: string } | { kind: 'unknown'; why: string }): string {
  return l.kind === 'missing' ? `vanished while it was being checked: ${errnoWords(l.errno)}` : l.why;
}
