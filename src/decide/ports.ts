/**
 * What the decision core asks of the engines. The core knows nothing of mode bits or policy rules; the
 * engines know nothing of disks or XML. Each engine is bound to one domain (its qemu identity or svirt
 * context) before the core asks it about files.
 */
import type { Disk, Domain } from '../domain/model.js';
import type { DiskAccess, Finding, Model } from './types.js';

/** One file QEMU opens for a disk, with the access it needs on it. */
export interface ChainFile {
  readonly path: string;
  readonly access: DiskAccess;
  /** top: the disk's own source; backing: a backing image; data-file: a qcow2 external data file; extent: a VMDK extent. */
  readonly role: 'top' | 'backing' | 'data-file' | 'extent';
  /** Image format of this layer, when known. */
  readonly format?: string;
}

export type Chain =
  | { readonly kind: 'ok'; readonly files: readonly ChainFile[] }
  | { readonly kind: 'unprovable'; readonly reason: string };

export type FileVerdict =
  | { readonly accessible: true; readonly because: string; readonly findings?: readonly Finding[] }
  | { readonly accessible: false; readonly reason: string; readonly findings?: readonly Finding[] }
  | { readonly accessible: null; readonly reason: string; readonly findings?: readonly Finding[] };

export interface AccessEngine {
  check(file: ChainFile): FileVerdict;
}

/** An engine for one domain, or why there is none (no policy, unknown qemu user, …). */
export type BoundEngine = { readonly ok: true; readonly engine: AccessEngine } | { readonly ok: false; readonly reason: string };

export interface DecisionPorts {
  resolveChain(disk: Disk): Chain;
  engineFor(model: Model, domain: Domain): BoundEngine;
}
