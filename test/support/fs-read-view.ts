/**
 * A minimal HostView over node:fs for the image suites, until src/host/live/live-view.ts lands: only what
 * chain resolution reads (lstat, readlink, readBytes); everything else answers "unknown".
 */
import { closeSync, lstatSync, openSync, readSync, readlinkSync, type Stats } from 'node:fs';
import type { FileType, HostView, Inode, Lookup } from '../../src/host/view.js';
import { missing, ok, unknown } from '../../src/host/view.js';

function fail(e: unknown): Lookup<never> {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return missing(code);
  return unknown(String(code ?? e));
}

function typeOf(st: Stats): FileType {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isDirectory()) return 'dir';
  if (st.isBlockDevice()) return 'block';
  if (st.isCharacterDevice()) return 'char';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  return 'file';
}

/** Every readBytes call, so tests can assert that hostile headers cause only bounded reads. */
export interface ReadLog {
  readonly reads: { path: string; offset: number; length: number }[];
}

export function fsReadView(log?: ReadLog): HostView {
  const no = (): Lookup<never> => unknown('not provided by the test view');
  return {
    lstat(path): Lookup<Inode> {
      try {
        const st = lstatSync(path);
        return ok({ type: typeOf(st), mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid) });
      } catch (e) {
        return fail(e);
      }
    },
    readlink(path) {
      try {
        return ok(readlinkSync(path));
      } catch (e) {
        return fail(e);
      }
    },
    readBytes(path, offset, length) {
      log?.reads.push({ path, offset, length });
      try {
        const fd = openSync(path, 'r');
        try {
          const buf = Buffer.alloc(length);
          const n = readSync(fd, buf, 0, length, offset);
          return ok(new Uint8Array(buf.buffer, buf.byteOffset, n));
        } finally {
          closeSync(fd);
        }
      } catch (e) {
        return fail(e);
      }
    },
    aclAccess: no,
    selinuxLabel: no,
    readText: no,
    readBinary: no,
    listDir: no,
  };
}
