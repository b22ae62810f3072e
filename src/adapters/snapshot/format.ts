/**
 * The facts file: a snapshot of everything the decisions read on one host, so the same decisions can be
 * reached on a machine that has only the domain XML (the pre-commit case). It is a transcript, not a
 * model of the host: every HostView call the live run made with its answer, and every question the
 * SELinux engine asked its policy with the answer. Replaying the transcript through the same code path
 * is what makes offline decisions identical to live ones; a question the transcript lacks is "unknown".
 *
 * schemas/facts.schema.json describes the same shape for other tools; parse.ts is the check this
 * program trusts (hostile input: bounded, strict, never a crash).
 */
import type { SecurityDriver } from '../../decide/types.js';
import type { FileType } from '../../host/view.js';

export const FACTS_FORMAT_VERSION = 1;

/** An answer as stored: a Lookup whose byte values are base64 text. */
export type StoredLookup<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'missing'; readonly errno: 'ENOENT' | 'ENOTDIR' | 'ENODATA' }
  | { readonly kind: 'unknown'; readonly why: string };

/**
 * Bytes as base64 of everything up to the last non-zero byte, plus the count of zero bytes after it:
 * an image header read is mostly padding (a 64 KiB qcow2 cluster of zeros would otherwise be 87 KB).
 */
export interface StoredBytes {
  readonly head: string;
  readonly zeros: number;
}

export interface StoredInode {
  readonly type: FileType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/**
 * One HostView call and its answer. readBinary is deliberately absent: its only use is the policy file,
 * which is megabytes; the SELinux side is recorded at the oracle level instead (StoredSelinux).
 */
export type StoredCall =
  | { readonly op: 'lstat'; readonly path: string; readonly answer: StoredLookup<StoredInode> }
  | { readonly op: 'readlink'; readonly path: string; readonly answer: StoredLookup<string> }
  /** base64 of the raw system.posix_acl_access value, or null when the inode has none. */
  | { readonly op: 'aclAccess'; readonly path: string; readonly answer: StoredLookup<string | null> }
  | { readonly op: 'selinuxLabel'; readonly path: string; readonly answer: StoredLookup<string | null> }
  /** The bytes read; fewer than `length` means end of file. */
  | { readonly op: 'readBytes'; readonly path: string; readonly offset: number; readonly length: number; readonly answer: StoredLookup<StoredBytes> }
  | { readonly op: 'readText'; readonly path: string; readonly answer: StoredLookup<string> }
  | { readonly op: 'listDir'; readonly path: string; readonly answer: StoredLookup<readonly string[]> }
  /**
   * The kernel asked as QEMU's identity where the filesystem delegates (NFS, FUSE, ...): what no other
   * machine can recompute, so it is recorded as answered.
   */
  | ({ readonly op: 'kernelAccess'; readonly path: string; readonly ask: 'lookup' | 'read' | 'readwrite'; readonly answer: StoredLookup<StoredKernelAnswer> } & StoredIdentity)
  /** An image header read as QEMU's identity where root was refused (root_squash). */
  | ({ readonly op: 'readBytesAs'; readonly path: string; readonly offset: number; readonly length: number; readonly answer: StoredLookup<StoredBytes> } & StoredIdentity)
  /** lstat and readlink as QEMU's identity where root may not search a directory (root_squash, FUSE). */
  | ({ readonly op: 'lstatAs'; readonly path: string; readonly answer: StoredLookup<StoredInode> } & StoredIdentity)
  | ({ readonly op: 'readlinkAs'; readonly path: string; readonly answer: StoredLookup<string> } & StoredIdentity);

export interface StoredIdentity {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
}

export type StoredKernelAnswer =
  | { readonly kind: 'allowed'; readonly how: string; readonly write?: 'access' }
  | { readonly kind: 'denied'; readonly errno: string; readonly at: string; readonly step: 'lookup' | 'open' | 'access' };

export type ViewOp = StoredCall['op'];
export const VIEW_OPS: readonly ViewOp[] = ['lstat', 'readlink', 'aclAccess', 'selinuxLabel', 'readBytes', 'readText', 'listDir', 'kernelAccess', 'readBytesAs', 'lstatAs', 'readlinkAs'];

/** JSON data as the oracle's requests and answers are stored (they are plain data by contract). */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** Every question the SELinux engine asked its policy on the host, with the policy's answer. */
export interface StoredSelinux {
  /** Which policy answered (its path) and whether it is MLS, or why no policy could be loaded. */
  readonly policy: { readonly kind: 'loaded'; readonly source: string; readonly mls: boolean } | { readonly kind: 'failed'; readonly error: string };
  /** The boolean values the answers were computed under; null when the engine never asked. */
  readonly booleans: readonly (readonly [string, boolean])[] | null;
  readonly typeExists: readonly { readonly name: string; readonly exists: boolean }[];
  readonly compute: readonly { readonly request: Json; readonly answer: Json }[];
  /** The genfscon label of each filesystem type asked (NFS, CIFS, FUSE without labels); null: none. */
  readonly genfs?: readonly { readonly fsType: string; readonly context: string | null }[];
}

/** The host options the snapshot was taken with: offline runs decide under exactly these. */
export interface StoredHostOptions {
  readonly connect: 'system' | 'session';
  readonly qemuConf: string;
  readonly user?: string;
  readonly group?: string;
  readonly models?: readonly SecurityDriver[];
  readonly policy?: string;
  readonly booleans: Readonly<Record<string, boolean>>;
}

export interface FactsFile {
  readonly formatVersion: typeof FACTS_FORMAT_VERSION;
  /** Host name (os.hostname()) and time of collection (ISO 8601, UTC). */
  readonly host: string;
  readonly collectedAt: string;
  /** The program that wrote it, for humans reading a stale snapshot. */
  readonly generator: string;
  readonly hostOptions: StoredHostOptions;
  /** The uid/gid `facts` ran as: qemu:///session runs QEMU as the invoking user. */
  readonly invoker: { readonly uid: number; readonly gid: number } | null;
  /** What the snapshot was taken for: domain files and extra paths (informative). */
  readonly covers: { readonly domains: readonly string[]; readonly paths: readonly string[] };
  readonly view: readonly StoredCall[];
  readonly selinux: StoredSelinux | null;
}
