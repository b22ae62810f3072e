/**
 * An in-memory HostView for tests: describe a tree, get the same interface the live view offers.
 *
 *   const view = memoryView({
 *     '/srv': { type: 'dir', mode: 0o755 },
 *     '/srv/a.iso': { type: 'file', mode: 0o640, uid: 0, gid: 107, acl: 'u::rw-,u:64055:r--,g::r--,m::r--,o::---' },
 *     '/x': { type: 'symlink', target: '/srv' },
 *     '/nfs': { type: 'unknown', why: 'root-squashed NFS' },
 *   }, { text: { '/etc/passwd': 'root:x:0:0::/root:/bin/sh\n' } });
 *
 * - Keys are absolute physical paths (no symlinks, `.`, `..` or trailing `/`). Missing ancestors are
 *   created as `drwxr-xr-x root:root`; `/` too.
 * - uid/gid default to 0. Modes are taken as given, exactly like the kernel: with an ACL, the group
 *   bits of `mode` are what the kernel treats as the mask, so keep them equal to `m::` unless the test
 *   is about a mismatch.
 * - `acl` is getfacl-style short text (`u::rw-,u:64055:r--,g::---,m::r--,o::---`, `user:`/`group:`
 *   spelled out works too) or raw xattr bytes (for malformed-ACL tests); `aclUnknown` makes the ACL
 *   unreadable.
 * - Paths through symlinks are resolved with the real walk (host/walk.ts), so lstat/readlink/readBytes
 *   behave as on a live system. `text` serves readText for files that need no inode (passwd, group,
 *   /proc files). `/proc/self/mountinfo` defaults to one read-write root mount; pass
 *   `text: { '/proc/self/mountinfo': null }` to make it unreadable.
 */
import { encodeAcl, type AclEntry } from '../../src/dac/acl.js';
import { missing, ok, unknown, type FileType, type HostView, type Inode, type Lookup } from '../../src/host/view.js';
import { walkPath, type WalkErrno } from '../../src/host/walk.js';

interface Owned {
  readonly uid?: number;
  readonly gid?: number;
  /** security.selinux, without the trailing NUL. */
  readonly label?: string;
}

export type MemoryNode =
  | (Owned & {
      readonly type: Exclude<FileType, 'symlink'>;
      readonly mode: number;
      readonly acl?: string | Uint8Array;
      readonly aclUnknown?: string;
      readonly content?: string | Uint8Array;
    })
  | (Owned & { readonly type: 'symlink'; readonly target: string })
  | { readonly type: 'unknown'; readonly why: string };

export interface MemoryViewOptions {
  /** readText answers for these paths first; null means "cannot be read". */
  readonly text?: Readonly<Record<string, string | null>>;
}

export const DEFAULT_MOUNTINFO = '1 0 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n';

const PERM: Record<string, number> = { r: 4, w: 2, x: 1, '-': 0 };

/** `u::rw-,u:64055:r--,g::---,m::r--,o::---` → ACL entries, in the order written. */
export function parseAclText(text: string): AclEntry[] {
  return text.split(',').map((item) => {
    const [kind = '', id = '', perms = ''] = item.trim().split(':');
    if (!/^[rwx-]{3}$/.test(perms)) throw new Error(`bad ACL permissions in '${item}'`);
    const perm = [...perms].reduce((p, c) => p | PERM[c]!, 0);
    const k = kind[0];
    if (k === 'm') return { tag: 'mask', perm };
    if (k === 'o') return { tag: 'other', perm };
    if (k !== 'u' && k !== 'g') throw new Error(`bad ACL tag in '${item}'`);
    if (id === '') return { tag: k === 'u' ? 'user_obj' : 'group_obj', perm };
    if (!/^\d+$/.test(id)) throw new Error(`memoryView ACLs take numeric ids: '${item}'`);
    return { tag: k === 'u' ? 'user' : 'group', perm, id: Number(id) };
  });
}

/** As the live view maps errno: only ENOENT/ENOTDIR are absences, ELOOP/ENAMETOOLONG are "cannot tell". */
function walkFailure(errno: WalkErrno): Lookup<never> {
  return errno === 'ENOENT' || errno === 'ENOTDIR' ? missing(errno) : unknown(errno);
}

const bytesOf = (c: string | Uint8Array | undefined) =>
  c === undefined ? new Uint8Array() : typeof c === 'string' ? new TextEncoder().encode(c) : c;

export function memoryView(tree: Readonly<Record<string, MemoryNode>>, options: MemoryViewOptions = {}): HostView {
  const nodes = new Map<string, MemoryNode>();
  const rootDir: MemoryNode = { type: 'dir', mode: 0o755 };
  nodes.set('/', tree['/'] ?? rootDir);
  for (const [path, node] of Object.entries(tree)) {
    if (path !== '/' && (!path.startsWith('/') || path.endsWith('/') || /\/\.{0,2}(\/|$)/.test(path))) {
      throw new Error(`memoryView: '${path}' is not a normalised absolute path`);
    }
    nodes.set(path, node);
    for (let p = path.slice(0, path.lastIndexOf('/')); p !== ''; p = p.slice(0, p.lastIndexOf('/'))) {
      if (!nodes.has(p)) nodes.set(p, rootDir);
    }
  }
  const text: Record<string, string | null> = { '/proc/self/mountinfo': DEFAULT_MOUNTINFO, ...options.text };

  /** The node at a path whose final component is not followed; intermediate symlinks are. */
  function locate(path: string): Lookup<{ path: string; node: MemoryNode }> {
    const direct = nodes.get(path);
    if (direct) return ok({ path, node: direct });
    if (!path.startsWith('/')) return unknown('relative path');
    const cut = path.lastIndexOf('/');
    const parentPath = cut === 0 ? '/' : path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (parentPath === path) return missing();
    const parent = walkPath(view, parentPath);
    if (parent.end.kind === 'unknown') return unknown(parent.end.why);
    if (parent.end.kind === 'error') return walkFailure(parent.end.errno);
    const dir = parent.end.file;
    if (dir.inode.type !== 'dir') return missing('ENOTDIR');
    if (name === '' || name === '.') return ok({ path: dir.path, node: nodes.get(dir.path)! });
    const physical = dir.path === '/' ? `/${name}` : `${dir.path}/${name}`;
    const node = nodes.get(physical);
    return node ? ok({ path: physical, node }) : missing();
  }

  /** Follow a final symlink too, as open(2) does. */
  function resolve(path: string): Lookup<{ path: string; node: MemoryNode }> {
    const w = walkPath(view, path);
    if (w.end.kind === 'unknown') return unknown(w.end.why);
    if (w.end.kind === 'error') return walkFailure(w.end.errno);
    return ok({ path: w.end.file.path, node: nodes.get(w.end.file.path)! });
  }

  function inodeOf(node: Exclude<MemoryNode, { type: 'unknown' }>): Inode {
    const mode = node.type === 'symlink' ? 0o777 : node.mode;
    return { type: node.type, mode, uid: node.uid ?? 0, gid: node.gid ?? 0 };
  }

  const view: HostView = {
    lstat(path) {
      const l = locate(path);
      if (l.kind !== 'ok') return l;
      const node = l.value.node;
      return node.type === 'unknown' ? unknown(node.why) : ok(inodeOf(node));
    },
    readlink(path) {
      const l = locate(path);
      if (l.kind !== 'ok') return l;
      const node = l.value.node;
      if (node.type === 'unknown') return unknown(node.why);
      return node.type === 'symlink' ? ok(node.target) : unknown(`${path} is not a symlink (EINVAL)`);
    },
    aclAccess(path) {
      const l = locate(path);
      if (l.kind !== 'ok') return l;
      const node = l.value.node;
      if (node.type === 'unknown') return unknown(node.why);
      if (node.type === 'symlink') return ok(null);
      if (node.aclUnknown !== undefined) return unknown(node.aclUnknown);
      if (node.acl === undefined) return ok(null);
      return ok(typeof node.acl === 'string' ? encodeAcl(parseAclText(node.acl)) : node.acl);
    },
    selinuxLabel(path) {
      const l = locate(path);
      if (l.kind !== 'ok') return l;
      const node = l.value.node;
      if (node.type === 'unknown') return unknown(node.why);
      return ok(node.label ?? null);
    },
    readBytes(path, offset, length) {
      const r = resolve(path);
      if (r.kind !== 'ok') return r;
      const node = r.value.node;
      if (node.type !== 'file') return unknown(`${path} is not a regular file`);
      return ok(bytesOf(node.content).slice(offset, offset + length));
    },
    readText(path) {
      if (path in text) {
        const t = text[path];
        return t === null || t === undefined ? unknown(`${path} is unreadable in this view`) : ok(t);
      }
      const b = view.readBinary(path);
      return b.kind === 'ok' ? ok(new TextDecoder().decode(b.value)) : b;
    },
    readBinary(path) {
      const r = resolve(path);
      if (r.kind !== 'ok') return r;
      const node = r.value.node;
      return node.type === 'file' ? ok(bytesOf(node.content)) : unknown(`${path} is not a regular file`);
    },
    listDir(path) {
      const r = resolve(path);
      if (r.kind !== 'ok') return r;
      if (r.value.node.type !== 'dir') return missing('ENOTDIR');
      const prefix = r.value.path === '/' ? '/' : `${r.value.path}/`;
      const names = [...nodes.keys()]
        .filter((p) => p !== '/' && p.startsWith(prefix) && !p.slice(prefix.length).includes('/'))
        .map((p) => p.slice(prefix.length));
      return ok(names.sort());
    },
  };
  return view;
}
