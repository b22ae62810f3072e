/**
 * The mount facts the kernel's open path consults beyond the inode: a read-only mount or superblock
 * (EROFS for writes), `nodev` (EACCES on device nodes before any permission check) and `nosymfollow`
 * (ELOOP on every symlink). Read from /proc/self/mountinfo (proc(5)).
 */
import { failure, success, type Result } from '../result.js';

export const MOUNTINFO_PATH = '/proc/self/mountinfo';

export interface MountEntry {
  readonly id: number;
  readonly parentId: number;
  readonly mountPoint: string;
  readonly fsType: string;
  /** Per-mount `ro` (e.g. a read-only bind mount): EROFS after the permission check. */
  readonly readOnly: boolean;
  /** Superblock `ro`: EROFS before the permission check (sb_permission). */
  readonly superReadOnly: boolean;
  readonly noDev: boolean;
  readonly noSymFollow: boolean;
  /** The per-mount options (field 6) and the superblock options (after the separator), as listed. */
  readonly options: readonly string[];
  readonly superOptions: readonly string[];
  /** The mount source (e.g. `server:/export`, the FUSE daemon's name or source). */
  readonly source: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(field: string): string {
  // Nearly every field has no escape: the text as read (already checked UTF-8) is the field.
  if (!field.includes('\\')) return field;
  const bytes: number[] = [];
  const raw = Buffer.from(field, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const m = raw[i] === 0x5c ? /^[0-7]{3}/.exec(raw.subarray(i + 1, i + 4).toString('latin1')) : null;
    if (m) {
      bytes.push(parseInt(m[0], 8));
      i += 3;
    } else bytes.push(raw[i]!);
  }
  return Buffer.from(bytes).toString('utf8');
}

export function parseMountInfo(text: string): Result<MountEntry[], string> {
  const entries: MountEntry[] = [];
  for (const [n, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (fields.length < 10 || dash < 0 || fields.length < dash + 4) return failure(`mountinfo line ${n + 1} is malformed`);
    const opts = fields[5]!.split(',');
    const superOpts = fields[dash + 3]!.split(',');
    const id = Number(fields[0]);
    const parentId = Number(fields[1]);
    if (!Number.isInteger(id) || !Number.isInteger(parentId)) return failure(`mountinfo line ${n + 1} has bad mount ids`);
    entries.push({
      id,
      parentId,
      mountPoint: unescape(fields[4]!),
      fsType: fields[dash + 1]!,
      readOnly: opts.includes('ro'),
      superReadOnly: superOpts.includes('ro'),
      noDev: opts.includes('nodev'),
      noSymFollow: opts.includes('nosymfollow'),
      options: opts,
      superOptions: superOpts,
      source: unescape(fields[dash + 2]!),
    });
  }
  if (!entries.some((e) => e.mountPoint === '/')) return failure('mountinfo has no root mount');
  return success(entries);
}

const under = (path: string, mountPoint: string) =>
  mountPoint === '/' || path === mountPoint || path.startsWith(`${mountPoint}/`);

/**
 * The mount a physical path (symlinks resolved) lives on, found the way a lookup crosses mounts: from
 * the root mount down the mount tree (mountinfo's parent ids; its line order is not mount order),
 * entering at each level the child mounted closest to the current mount's root (the first one a walk
 * meets), and the top of a stack of mounts on the same point.
 */
export function mountOf(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  const { root, childrenOf } = mountTree(entries);
  const top = (m: MountEntry): MountEntry => {
    // Bounded: each step goes to a different mount, and there are finitely many.
    for (let i = 0; i < entries.length; i++) {
      const over = childrenOf(m).find((c) => c.mountPoint === m.mountPoint);
      if (!over) return m;
      m = over;
    }
    return m;
  };
  if (!root) return undefined;
  let cur = top(root);
  for (let depth = 0; depth < entries.length; depth++) {
    let next: MountEntry | undefined;
    for (const c of childrenOf(cur)) {
      if (c.mountPoint === cur.mountPoint || !under(path, c.mountPoint)) continue;
      if (!next || c.mountPoint.length < next.mountPoint.length) next = c;
    }
    if (!next) return cur;
    cur = top(next);
  }
  return cur;
}

interface MountTree {
  readonly root: MountEntry | undefined;
  childrenOf(m: MountEntry): readonly MountEntry[];
}

/**
 * The root mount and each mount's children (in mountinfo's order), made once per table: every path a
 * decision looks up (each file, each directory of a walk) asks mountOf again on the same table.
 */
function mountTree(entries: readonly MountEntry[]): MountTree {
  let tree = TREES.get(entries);
  if (tree === undefined) {
    const ids = new Set(entries.map((e) => e.id));
    const byParent = new Map<number, MountEntry[]>();
    for (const c of entries) {
      if (c.id === c.parentId) continue;
      const list = byParent.get(c.parentId);
      if (list) list.push(c);
      else byParent.set(c.parentId, [c]);
    }
    const none: readonly MountEntry[] = [];
    tree = {
      root: entries.find((e) => e.mountPoint === '/' && (!ids.has(e.parentId) || e.parentId === e.id)),
      childrenOf: (m) => byParent.get(m.id) ?? none,
    };
    TREES.set(entries, tree);
  }
  return tree;
}
const TREES = new WeakMap<readonly MountEntry[], MountTree>();

/**
 * Local filesystems whose permission check is the kernel's generic_permission with POSIX ACLs, so the
 * DAC engine's answer is the kernel's. Anything else (nfs, cifs, fuse.*, ceph, 9p, virtiofs, overlay,
 * zfs with NFSv4 ACLs, ...) may decide differently and yields "not proven".
 */
const GENERIC_PERMISSION_FS = new Set([
  'ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'f2fs', 'jfs', 'reiserfs', 'tmpfs', 'devtmpfs', 'ramfs',
  'iso9660', 'udf', 'squashfs', 'erofs', 'vfat', 'msdos', 'exfat', 'hfsplus', 'nilfs2',
]);

export function usesGenericPermission(fsType: string): boolean {
  return GENERIC_PERMISSION_FS.has(fsType);
}

/**
 * Filesystems whose permission decision is not (only) the local kernel's generic check, so only the
 * kernel asked as QEMU's own identity can tell, and why each delegates:
 * - `nfs`, `nfs4`: the server decides (root squash, all_squash/anonuid, its own ACLs and id mapping);
 *   the client's access(2) sends the server an ACCESS call, and open sends it the open.
 * - `fuse`, `fuse.*`, `fuseblk`: the daemon decides at lookup and open (it may refuse whatever the mode
 *   bits say, or show each user different owners); without `default_permissions` the kernel checks no
 *   mode bits at all, and without `allow_other` no one but the mounter gets in.
 * - `cifs`, `smb3`: the server decides at open; the client's mode bits are a local fiction (or absent with
 *   noperm).
 * - `9p`: the server decides (access=user/client/any, the server's own checks).
 * - `ceph`: the MDS's capabilities decide besides the local check.
 * - `glusterfs` (a FUSE mount, listed for clarity), `lustre`, `gpfs`, `beegfs`, `ocfs2`... cluster
 *   filesystems with server-side or cluster-wide permission logic.
 * - `virtiofs`: the host's virtiofsd decides.
 */
export function delegatesPermission(fsType: string): string | undefined {
  if (fsType === 'nfs' || fsType === 'nfs4') return 'the NFS server decides';
  if (fsType === 'fuse' || fsType === 'fuseblk' || fsType.startsWith('fuse.')) return 'the FUSE daemon decides';
  if (fsType === 'cifs' || fsType === 'smb3' || fsType === 'smbfs') return 'the SMB server decides';
  if (fsType === '9p') return 'the 9p server decides';
  if (fsType === 'ceph') return 'the Ceph MDS decides';
  if (fsType === 'virtiofs') return 'the host\'s virtiofsd decides';
  if (['glusterfs', 'lustre', 'gpfs', 'beegfs', 'ocfs2', 'gfs2', 'afs', 'orangefs'].includes(fsType)) return `the ${fsType} cluster decides`;
  return undefined;
}

/** FUSE without `default_permissions`: the kernel checks no mode bits, the daemon alone decides. */
export function isFuse(fsType: string): boolean {
  return fsType === 'fuse' || fsType === 'fuseblk' || fsType.startsWith('fuse.');
}

/**
 * Whether access(2) for write is the deciding party's own answer: on NFS the client sends the server an
 * ACCESS call; elsewhere (FUSE without an access handler answers yes, CIFS checks cached mode bits) it
 * is not, and the probe never opens for write, so write stays unproven there.
 */
export function accessAsksServer(fsType: string): boolean {
  return fsType === 'nfs' || fsType === 'nfs4';
}
