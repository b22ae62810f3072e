/**
 * The libvirt domain as far as labelling is concerned: disks, their sources and seclabels, and the
 * domain-level seclabels that can switch a security driver off. Every element keeps its XML node so the
 * splice can put edits at exact offsets.
 */
import type { XmlElement } from '../xml/tree.js';
import type { OtherFiles } from './files.js';

export const DISK_TYPES = ['file', 'block', 'dir', 'network', 'volume', 'nvme', 'vhostuser'] as const;
export type DiskType = (typeof DISK_TYPES)[number];

/** Disk types whose `<source>` accepts a per-disk `<seclabel>` (domaincommon.rng `devSeclabel`). */
export const LABELLABLE_DISK_TYPES: ReadonlySet<DiskType> = new Set(['file', 'block', 'volume']);

/** A `<seclabel>` inside a disk's `<source>`. */
export interface DiskSeclabel {
  readonly element: XmlElement;
  /** undefined when written without model= (matches no driver: libvirt fails at start). */
  readonly model: string | undefined;
  /** libvirt's default is relabel='yes'. */
  readonly relabel: boolean;
  readonly label: string | undefined;
}

export type DomainSeclabelType = 'none' | 'static' | 'dynamic';

/** A `<seclabel>` directly under `<domain>`. */
export interface DomainSeclabel {
  readonly element: XmlElement;
  readonly type: DomainSeclabelType;
  readonly model: string | undefined;
  /** Explicit relabel attribute; undefined means libvirt's default for the type. */
  readonly relabel: boolean | undefined;
  readonly label: string | undefined;
  readonly baselabel: string | undefined;
}

/** A `<backingStore>` as written: an explicit empty one means "no backing file". */
export type DeclaredBacking =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'layer';
      readonly type: string | undefined;
      readonly format: string | undefined;
      /** Local path for file/block layers; undefined for other types (network, …). */
      readonly path: string | undefined;
      /** The layer's own `<backingStore>`; undefined when not written (libvirt then reads the header). */
      readonly next: DeclaredBacking | undefined;
    };

export interface Disk {
  readonly element: XmlElement;
  readonly index: number;
  readonly type: DiskType | undefined;
  /** The type attribute as written, for messages when it is not one libvirt knows. */
  readonly rawType: string;
  readonly device: string;
  readonly target: string | undefined;
  readonly source: XmlElement | undefined;
  /** Local path of the top image: file= for file disks, dev= for block disks, dir= for dir disks. */
  readonly path: string | undefined;
  readonly format: string | undefined;
  readonly readonly: boolean;
  readonly shareable: boolean;
  readonly backing: DeclaredBacking | undefined;
  readonly seclabels: readonly DiskSeclabel[];
}

export interface Domain {
  readonly name: string | undefined;
  /** `<uuid>` as written; libvirt names the domain's AppArmor profile after it. */
  readonly uuid?: string;
  /** The document's text, for tools that take the whole XML (virt-aa-helper); set by domain/read.ts. */
  readonly xml?: string;
  /** `<domain type=…>`: kvm, qemu, … */
  readonly type: string | undefined;
  readonly seclabels: readonly DomainSeclabel[];
  readonly disks: readonly Disk[];
  /** Files beyond disks (firmware, kernel, chardevs, qemu:commandline); undefined in hand-built test domains. */
  readonly other?: OtherFiles;
}
