/**
 * The one seam between the decision core and the machine it decides about.
 *
 * Everything a decision reads from a host goes through this interface, so the core can run against the
 * live system (adapters/live), a recorded snapshot taken on another machine (adapters/snapshot), or a tree
 * described in memory (tests). Every answer distinguishes "the host says it does not exist" from
 * "this view cannot tell": the core turns "unknown" into "no annotation", never into a guess.
 *
 * All methods are synchronous and deterministic for a given host state, which is what lets a recording
 * wrapper capture a live run and replay it offline through the very same code path.
 */

export type FileType = 'file' | 'dir' | 'symlink' | 'block' | 'char' | 'fifo' | 'socket';

/** What lstat(2) tells about one inode, reduced to what permission checks use. */
export interface Inode {
  readonly type: FileType;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** An answer from the host: a value, a proven absence (errno), or "cannot tell". */
export type Lookup<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'missing'; readonly errno: 'ENOENT' | 'ENOTDIR' | 'ENODATA' }
  | { readonly kind: 'unknown'; readonly why: string };

export const ok = <T>(value: T): Lookup<T> => ({ kind: 'ok', value });
export const missing = (errno: 'ENOENT' | 'ENOTDIR' | 'ENODATA' = 'ENOENT'): Lookup<never> => ({
  kind: 'missing',
  errno,
});
export const unknown = (why: string): Lookup<never> => ({ kind: 'unknown', why });

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

/**
 * One question to the kernel itself, asked as a given identity (uid, gid, supplementary groups, no
 * capabilities): look up every component of a physical path (no symlink among them, as the model's walk
 * resolved it), and for `read`/`readwrite` then ask for the final inode's access. Used only where the
 * local model is not the kernel's last word (network and FUSE filesystems, host/mounts.ts
 * delegatesPermission). Never a side effect: lookups are O_PATH|O_NOFOLLOW, a regular file is opened
 * read-only and non-blocking, never for write; anything else (and write) is asked with access(2).
 */
export interface KernelAsk {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
  readonly path: string;
  readonly op: 'lookup' | 'read' | 'readwrite';
}

/**
 * The kernel's answer. `how` says what was asked (`open O_RDONLY`, `access R_OK|W_OK`, `lookup`);
 * `write` (readwrite only) is how write was answered: access(2) only, since the probe never opens for
 * write. A denial names the component it stopped at and the errno.
 */
export type KernelAnswer =
  | { readonly kind: 'allowed'; readonly how: string; readonly write?: 'access' }
  | { readonly kind: 'denied'; readonly errno: string; readonly at: string; readonly step: 'lookup' | 'open' | 'access' };

export interface HostView {
  /** lstat(2): never follows a final symlink. Paths are absolute and already split-safe (no NUL). */
  lstat(path: string): Lookup<Inode>;
  /** readlink(2) of a symlink. */
  readlink(path: string): Lookup<string>;
  /** Raw value of the `system.posix_acl_access` xattr, no-follow; ok(null) when the inode has none. */
  aclAccess(path: string): Lookup<Uint8Array | null>;
  /** The `security.selinux` xattr, no-follow, trailing NUL stripped; ok(null) when the inode has none. */
  selinuxLabel(path: string): Lookup<string | null>;
  /**
   * Up to `length` bytes at `offset` of a regular file (following symlinks, as QEMU's open does);
   * fewer at end of file. Used for image headers only.
   */
  readBytes(path: string, offset: number, length: number): Lookup<Uint8Array>;
  /** Whole text file (qemu.conf, /etc/passwd, /etc/group, selinux config, booleans). */
  readText(path: string): Lookup<string>;
  /** Whole binary file (a policy). */
  readBinary(path: string): Lookup<Uint8Array>;
  /** Names in a directory (selinuxfs booleans, class maps). */
  listDir(path: string): Lookup<readonly string[]>;
  /**
   * Ask the kernel as QEMU's identity (see KernelAsk). Absent: this view cannot ask (a view described
   * in memory, a snapshot taken before probes were recorded), and the question stays unknown.
   */
  kernelAccess?(ask: KernelAsk): Lookup<KernelAnswer>;
  /**
   * readBytes as QEMU's identity instead of this view's reader: where root is squashed (NFS root_squash,
   * a FUSE daemon refusing root) the user that will open the image may read its header when root cannot.
   * Absent: this view cannot.
   */
  readBytesAs?(who: Identity, path: string, offset: number, length: number): Lookup<Uint8Array>;
  /**
   * lstat(2) of a physical path as QEMU's identity: every component looked up by that identity
   * (O_PATH|O_NOFOLLOW), the last one not followed. Where root may not search a directory of a filesystem
   * that delegates permission (NFS root_squash, a FUSE mount root is kept out of) and QEMU's user may.
   * Absent: this view cannot.
   */
  lstatAs?(who: Identity, path: string): Lookup<Inode>;
  /** readlink(2) of a physical path as QEMU's identity, for the same walks as lstatAs. */
  readlinkAs?(who: Identity, path: string): Lookup<string>;
}

/** Who a question is asked as: uid, gid and supplementary groups, no capabilities. */
export interface Identity {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
}
