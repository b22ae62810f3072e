/**
 * The only code that touches selinuxfs: the node:fs implementation of selinux/selinuxfs.ts's interface.
 * Tests hand selinux/live.ts a fake tree in a temp dir (plain files for class indexes, permissions and
 * booleans) plus an injected transaction function for the nodes a plain file cannot emulate.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { SelinuxFs, TransactionNode, TransactionResult } from '../../selinux/selinuxfs.js';

export const SELINUXFS_ROOT = '/sys/fs/selinux';

/** Replies are small (the kernel's SIMPLE_TRANSACTION_LIMIT is one page). */
const REPLY_LIMIT = 4096;

function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}: ${err.message}` : String(e);
}

function kernelTransact(root: string, node: TransactionNode, request: string): TransactionResult {
  let fd: number | undefined;
  try {
    fd = openSync(join(root, node), 'r+');
    writeSync(fd, Buffer.from(request, 'utf8'));
    const buf = Buffer.alloc(REPLY_LIMIT);
    const n = readSync(fd, buf, 0, REPLY_LIMIT, null);
    return { ok: true, reply: buf.subarray(0, n).toString('utf8') };
  } catch (e) {
    // The kernel refuses an invalid context or class with EINVAL on the write.
    return { ok: false, error: errorText(e) };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * selinuxfs at `root`. Reads are plain file reads; `transact` defaults to the kernel's write-then-read
 * protocol and can be replaced (tests back it with the policy engine).
 */
export function nodeSelinuxFs(
  root: string = SELINUXFS_ROOT,
  transact: (node: TransactionNode, request: string) => TransactionResult = (node, request) => kernelTransact(root, node, request),
): SelinuxFs {
  const safe = (rel: string): string | undefined =>
    // Names come from user input (class and permission names): never let them leave the root.
    rel.split('/').some((part) => part === '' || part === '.' || part === '..' || part.includes('\0')) ? undefined : join(root, rel);
  return {
    readText(rel) {
      const p = safe(rel);
      if (p === undefined) return undefined;
      try {
        return readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    },
    readBinary(rel) {
      const p = safe(rel);
      if (p === undefined) return undefined;
      try {
        return readFileSync(p);
      } catch {
        return undefined;
      }
    },
    listDir(rel) {
      const p = safe(rel);
      if (p === undefined) return undefined;
      try {
        return readdirSync(p);
      } catch {
        return undefined;
      }
    },
    transact,
  };
}

/** selinuxfs is there when its `enforce` node is (libselinux checks the mount the same way in effect). */
export function selinuxfsMounted(root: string = SELINUXFS_ROOT): boolean {
  return existsSync(join(root, 'enforce'));
}
