/**
 * Decisions are plain data: annotate, explain, --check and the pre-commit output are renderings of the
 * same list. A decision to annotate cannot exist without the proof that justified it.
 */
import type { DiskAccess, Severity } from '../access/types.js';

export type Model = 'dac' | 'selinux';
export const MODELS: readonly Model[] = ['dac', 'selinux'];

/** Every security driver libvirt stacks for QEMU; only the labelling ones (Model) take a per-disk seclabel. */
export type SecurityDriver = Model | 'apparmor';
export const SECURITY_DRIVERS: readonly SecurityDriver[] = ['dac', 'selinux', 'apparmor'];


/** A finding placed in a file: rendered as `FILE:LINE:COL: severity: message` by report/diagnostic.ts. */
export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly severity: Severity;
  readonly message: string;
}


/** Evidence that every file of the chain is accessible to the QEMU process for this model. */
export interface Proof {
  readonly model: Model;
  /** Each file of the chain, top first, with the access that was proven on it. */
  readonly files: readonly { readonly path: string; readonly access: DiskAccess }[];
  /** One sentence: which mode bits, ACL entry or policy rule granted it. */
  readonly because: string;
}

export type ModelDecision =
  /** Add `<seclabel model=… relabel='no'/>`: access proven for the whole chain. */
  | { readonly action: 'annotate'; readonly accessible: true; readonly reason: string; readonly proof: Proof }
  /** Leave libvirt's default relabelling in place. accessible: false (denied) or null (not evaluated/unknown). */
  | {
      readonly action: 'keep';
      readonly accessible: false | null;
      readonly reason: string;
      /** Kept by rule, whatever access would be (svirt isolation of an exclusive writable disk). */
      readonly byRule?: true;
      /** DAC, files beyond disks: whether QEMU can use the file once libvirt has chowned it (see AfterChown). */
      readonly afterChown?: boolean | null;
    }
  /** The disk already has a seclabel for this model; it is left exactly as written. */
  | {
      readonly action: 'existing';
      readonly accessible: boolean | null;
      readonly reason: string;
      /** true when an existing relabel='no' is no longer backed by access (it will fail at VM start). */
      readonly stale: boolean;
      /** When stale: the engine's own sentence for what now denies access (the hook's refusal names it). */
      readonly denied?: string;
    }
  /** libvirt applies no per-disk seclabel of this model here (model inactive, disk type, labelling off). */
  | { readonly action: 'n/a'; readonly accessible: null; readonly reason: string };

export type Action = ModelDecision['action'];

/** An existing relabel='no' that access no longer backs: libvirt's start will fail on it. */
export const isStale = (md: ModelDecision): boolean => md.action === 'existing' && md.stale;

/** For a stale relabel='no', the engine's sentence for what now denies access; otherwise undefined. */
export const staleDenial = (md: ModelDecision): string | undefined => (md.action === 'existing' && md.stale ? (md.denied ?? md.reason) : undefined);

/**
 * A decision on a file beyond disks. Where libvirt honours a per-element seclabel it is a ModelDecision,
 * with the same rule that an annotation carries its proof. Elsewhere there is nothing to write, only to
 * explain: 'relabel' (libvirt chowns/relabels it at start and offers no per-element opt-out; accessible
 * says whether QEMU could use the file as it is now) or 'as-is' (libvirt never labels it, so QEMU must
 * open it as it is: accessible false means the VM fails to start).
 */
export type FileModelDecision =
  | ModelDecision
  | { readonly action: 'relabel'; readonly accessible: boolean | null; readonly reason: string; readonly afterChown?: boolean | null }
  | { readonly action: 'as-is'; readonly accessible: boolean | null; readonly reason: string };

export type FileAction = FileModelDecision['action'];

/**
 * The start fails on this file: an as-is file QEMU is proven unable to open, or (DAC) a file libvirt chowns
 * to the qemu user that even then gives its owner too little (mode 0000, 0200 for a read): `afterChown`
 * false on a relabel or keep row.
 */
export const failsAtStart = (md: FileModelDecision): boolean =>
  (md.action === 'as-is' && md.accessible === false) || ((md.action === 'relabel' || md.action === 'keep') && md.afterChown === false);
