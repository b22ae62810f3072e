/**
 * The live HostView: this machine, read with synchronous node:fs calls and @napi-rs/xattr.
 *
 * Error mapping: only ENOENT/ENOTDIR are proven absences. Everything else (EACCES when not root or on
 * an NFS root-squash export, ELOOP, EIO, ...) is "cannot tell", so the core never mistakes an unreadable
 * path for a missing one.
 *
 * Extended attributes: @napi-rs/xattr 1.0.3 wraps the Rust `xattr` crate, whose get/list are
 * lgetxattr/llistxattr (they do NOT follow a final symlink; measured in test/adapters/live-view.test.ts),
 * and getAttributeSync returns null on every error, so null cannot tell "no such attribute" from
 * "could not read". We therefore list first (listAttributesSync throws on failure): a name absent from
 * a successful list is a proven absence, and a listed name whose read still fails is "unknown".
 * A listing that fails with ENOENT/ENOTDIR is a proven absence of the path itself. Symlinks cannot carry
 * POSIX ACLs on Linux, and llistxattr lists a link's own names, so aclAccess answers "none" for them.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, readdirSync, readlinkSync, realpathSync, type Stats } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { errnoCode, errnoWords } from '../../host/errno.js';
import { readFully } from '../../host/fd-io.js';
import { lazyBuiltin } from '../../builtins.js';
import { missing, ok, unknown, type FileType, type HostView, type Inode, type Lookup } from '../../host/view.js';
import { xattr } from './xattr.js';
import { createKernelProbe, type KernelProbe } from './kernel-probe.js';
import { canonicalPath } from '../../images/canonical.js';

const os = lazyBuiltin<typeof import('node:os')>('node:os');

const ACL_XATTR = 'system.posix_acl_access';
const SELINUX_XATTR = 'security.selinux';
/** No file read whole through the view is legitimately larger (policies are a few MB). */
const MAX_WHOLE_FILE = 256 * 1024 * 1024;
/** Image header reads are small; refuse absurd requests rather than allocate them. */
const MAX_READ_BYTES = 16 * 1024 * 1024;

/**
 * Only ENOENT/ENOTDIR prove absence; every other failure (EACCES on a root-squashed NFS, EIO, ELOOP) is
 * "cannot tell". The reason never names the path: whoever reports it puts the path in front, once.
 */
export function lookupFromError(e: unknown, verb: string): Lookup<never> {
  const code = errnoCode(e);
  if (code === 'ENOENT' || code === 'ENOTDIR') return missing(code);
  return unknown(`cannot ${verb}: ${errnoWords(e)}`);
}

/** @napi-rs/xattr reports failures as text ending in "(os error N)"; N is the errno number. */
export function xattrErrno(text: string): string | undefined {
  const n = /\(os error (\d+)\)/.exec(text)?.[1];
  if (n === undefined) return undefined;
  return Object.entries(os().constants.errno).find(([, v]) => v === Number(n))?.[0];
}

export function typeOf(st: Stats): FileType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isBlockDevice()) return 'block';
  if (st.isCharacterDevice()) return 'char';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  return undefined;
}

/**
 * Bytes that are not valid UTF-8 cannot be represented faithfully in a JS string path. Checked in C
 * (buffer.isUtf8) rather than by encoding the decoded text again: the same verdict (the decoder turns exactly
 * the invalid sequences into U+FFFD), without a second copy of every file the hook reads at each VM start.
 */
function utf8(buf: Buffer, what: string): Lookup<string> {
  return isUtf8(buf) ? ok(buf.toString('utf8')) : unknown(`${what} is not valid UTF-8`);
}

/**
 * Opens a regular file (following symlinks, as QEMU's own open does; O_NONBLOCK so a FIFO cannot hang
 * the tool), runs `read` on it, and closes it; open and read errors become lookups.
 */
function withRegularFile<T>(path: string, read: (fd: number, size: number) => Lookup<T>): Lookup<T> {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return lookupFromError(e, 'open');
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return unknown('not a regular file');
    return read(fd, st.size);
  } catch (e) {
    return lookupFromError(e, 'read');
  } finally {
    closeSync(fd);
  }
}

function readCapped(path: string, cap: number): Lookup<Buffer> {
  return withRegularFile(path, (fd, size) => {
    // One buffer of the size fstat gives (and a byte more, to see the end), grown when the file is
    // larger than it said: /proc files report size 0, so this reads until EOF rather than trusting st_size.
    // The buffer never exceeds cap + 1 bytes, and a full one is refused before the next read, so what is
    // returned is at most cap bytes.
    let buf = Buffer.allocUnsafe(Math.min(cap + 1, Math.max(size + 1, 4096)));
    let total = 0;
    for (;;) {
      if (total === buf.length) {
        if (buf.length > cap) return unknown(`larger than ${cap} bytes`);
        const bigger = Buffer.allocUnsafe(Math.min(cap + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, total);
        buf = bigger;
      }
      const n = readSync(fd, buf, total, buf.length - total, null);
      if (n === 0) break;
      total += n;
    }
    return ok(buf.subarray(0, total));
  });
}

export function lstatInode(path: string): Lookup<Inode> {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    return lookupFromError(e, 'look it up');
  }
  const type = typeOf(st);
  if (!type) return unknown('unrecognised file type');
  return ok({ type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
}

/**
 * One xattr of the inode itself (never of a symlink's target): value, proven absent (null), or unknown.
 * `unsupportedMeansNone`: a filesystem without xattrs (EOPNOTSUPP) has no ACL, and the kernel then
 * ignores ACLs; a security label, though, can come from the LSM on such a filesystem, so not for labels.
 */
function getUnlistedAttribute(path: string, name: string): Buffer | null {
  try {
    return xattr().getAttributeSync(path, name);
  } catch {
    return null;
  }
}

export function readXattr(path: string, name: string, unsupportedMeansNone: boolean): Lookup<Buffer | null> {
  let names: string[];
  try {
    names = xattr().listAttributesSync(path);
  } catch (e) {
    const code = xattrErrno(e instanceof Error ? e.message : String(e));
    if (code === 'ENOENT' || code === 'ENOTDIR') return missing(code);
    if (unsupportedMeansNone && code === 'EOPNOTSUPP') return ok(null);
    return unknown(`cannot list its extended attributes: ${errnoWords(code)}`);
  }
  if (!names.includes(name)) {
    // The kernel answers getxattr for a security label it holds in memory but never stored, and then
    // does not list it: the root of a devtmpfs mounted before the policy was loaded (found in the SELinux
    // guest: /dev read as "no label" while the kernel labels it device_t). Ask before saying "none".
    if (name.startsWith('security.')) {
      const held = getUnlistedAttribute(path, name);
      if (held !== null) return ok(held);
    }
    return ok(null);
  }
  const value = xattr().getAttributeSync(path, name);
  return value === null ? unknown(`cannot read its ${name} attribute`) : ok(value);
}

/**
 * `probe`: how kernelAccess asks the kernel as QEMU (adapters/live/kernel-probe.ts), created on the
 * first question, so a run that never meets a delegating filesystem starts no helper.
 */
export function createLiveView(probe?: () => KernelProbe): HostView {
  let kernel: KernelProbe | undefined;
  return {
    kernelAccess(ask) {
      kernel ??= probe ? probe() : createKernelProbe();
      return kernel.ask(ask);
    },

    readBytesAs(who, path, offset, length) {
      // The helper walks a physical path (it follows no link itself): resolved here, as root, or where
      // root may not search a directory on the way, link by link as the identity (as QEMU's open would).
      let real: string;
      try {
        real = realpathSync(path);
      } catch (e) {
        const code = errnoCode(e);
        if (code !== 'EACCES' && code !== 'EPERM') return lookupFromError(e, 'resolve the path');
        const k = (kernel ??= probe ? probe() : createKernelProbe());
        const c = canonicalPath({ lstat: (p) => k.lstat(who, p), readlink: (p) => k.readlink(who, p) }, path);
        if (!c.ok) return unknown(`cannot resolve the path as uid ${who.uid}: ${c.error}`);
        real = c.value;
      }
      kernel ??= probe ? probe() : createKernelProbe();
      return kernel.read(who, real, offset, length);
    },

    lstatAs(who, path) {
      kernel ??= probe ? probe() : createKernelProbe();
      return kernel.lstat(who, path);
    },

    readlinkAs(who, path) {
      kernel ??= probe ? probe() : createKernelProbe();
      return kernel.readlink(who, path);
    },

    lstat: lstatInode,

    readlink(path) {
      try {
        return utf8(readlinkSync(path, { encoding: 'buffer' }), 'its link body');
      } catch (e) {
        return lookupFromError(e, 'read the link');
      }
    },

    aclAccess(path) {
      // llistxattr on a symlink lists the link's own names, never an ACL (Linux has none on links).
      const v = readXattr(path, ACL_XATTR, true);
      return v.kind === 'ok' && v.value ? ok(new Uint8Array(v.value)) : v;
    },

    selinuxLabel(path) {
      const v = readXattr(path, SELINUX_XATTR, false);
      if (v.kind !== 'ok' || v.value === null) return v as Lookup<null>;
      // A real SELinux kernel returns the context with a trailing NUL; a plain xattr store does not.
      const bytes = v.value[v.value.length - 1] === 0 ? v.value.subarray(0, -1) : v.value;
      return utf8(bytes, 'its SELinux label');
    },

    readBytes(path, offset, length) {
      if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
        return unknown(`invalid read range ${offset}+${length}`);
      }
      if (length > MAX_READ_BYTES) return unknown(`refusing to read ${length} bytes at once`);
      return withRegularFile(path, (fd) => {
        const buf = Buffer.alloc(length);
        const got = readFully(fd, buf, offset);
        return ok(new Uint8Array(buf.buffer, buf.byteOffset, got));
      });
    },

    readText(path) {
      const b = readCapped(path, MAX_WHOLE_FILE);
      return b.kind === 'ok' ? utf8(b.value, 'its content') : b;
    },

    readBinary(path) {
      const b = readCapped(path, MAX_WHOLE_FILE);
      return b.kind === 'ok' ? ok(new Uint8Array(b.value.buffer, b.value.byteOffset, b.value.length)) : b;
    },

    listDir(path) {
      try {
        const names: string[] = [];
        for (const n of readdirSync(path, { encoding: 'buffer' })) {
          const s = utf8(n, 'a name in the directory');
          if (s.kind !== 'ok') return s;
          names.push(s.value);
        }
        return ok(names.sort());
      } catch (e) {
        return lookupFromError(e, 'list the directory');
      }
    },
  };
}
