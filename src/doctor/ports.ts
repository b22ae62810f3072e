/**
 * What the doctor reads from a host, beyond the HostView every command shares: the records (following
 * symlinks, as libvirt's getxattr does), the file as stat(2) sees it, libvirt's status files, the inputs of
 * the boot stamp, and whether a process may use trusted.* at all. Live: adapters/live/doctor-reader.ts;
 * tests hand in a fake.
 */
import type { Lookup } from '../host/view.js';
import type { BootStampInputs } from './boot-stamp.js';
import type { RecordRead } from './records.js';
import type { DaemonXattrs } from './verdict.js';

export interface StatFollowed {
  readonly type: 'file' | 'dir' | 'block' | 'char' | 'fifo' | 'socket' | 'other';
  readonly uid: number;
  readonly gid: number;
  readonly dev: number;
  readonly ino: number;
}

export interface StatusFile {
  readonly file: string;
  readonly bytes: Uint8Array;
}

export interface DoctorReader {
  /** realpath(3): where libvirt's xattr calls land. */
  realPath(path: string): Lookup<string>;
  /** stat(2) of a real path. */
  stat(realPath: string): Lookup<StatFollowed>;
  /** The six trusted.libvirt.security.* attributes of a real path. */
  records(realPath: string): RecordRead;
  /** security.selinux of a real path, trailing NUL stripped. */
  selinuxLabel(realPath: string): Lookup<string | null>;
  /** Names in a directory. */
  listDir(dir: string): Lookup<readonly string[]>;
  /** Every `*.xml` in libvirt's QEMU state directory. */
  statusFiles(dir: string): Lookup<readonly StatusFile[]>;
  /** Is `pid` a live QEMU process (its comm starts with qemu)? */
  qemuAlive(pid: number): boolean;
  bootStampInputs(): BootStampInputs;
  /** May this process read and write trusted.* (root in the initial user namespace, CAP_SYS_ADMIN)? */
  selfXattrs(): DaemonXattrs;
  /** The same for the daemon whose pid file is in `runDir`; undefined when no daemon pid is found. */
  daemonXattrs(runDir: string): DaemonXattrs | undefined;
}
