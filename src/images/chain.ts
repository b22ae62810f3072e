/**
 * Backing chain resolution: every file QEMU opens for one disk, top first, with the access it needs and
 * the format it is opened with — or "unprovable" with the reason. libvirt's `relabel='no'` on the top
 * `<source>` also covers every backing file, so an annotation is safe only when this whole list is known.
 *
 * Modelled on libvirt 9/11 (virStorageSourceGetMetadataRecurse, virStorageSourceNewFromChild) and
 * QEMU 7.2 (block.c, qcow2.c, qed.c, vmdk.c):
 * - The chain is read only for the format named in `<driver type>`; libvirt never probes the top image, and
 *   an absent type is raw (the QEMU driver's default for local disks).
 * - A `<backingStore>` written in the XML is used as written (libvirt does not read that layer's backing
 *   name from the header then); an empty `<backingStore/>` ends the chain.
 * - A backing format recorded in the image is used; when none is recorded the backing file is probed, and
 *   if the probed image has a backing file of its own libvirt refuses to start ("format of backing image
 *   … was not specified in the image metadata"): unprovable.
 * - Relative backing names are relative to the directory of the referring image's path as given.
 * - A qcow2 external data file is opened by QEMU from the header (libvirt 9 does not even know it): it is
 *   listed, with read-write access for a writable top. QEMU 7.2 resolves a *relative* data file name
 *   against its own working directory, not the image's (checked with qemu-io under strace): unprovable.
 * - VMDK extent files are opened by QEMU relative to the descriptor.
 * - Non-local backing (`nbd:`, `http://`, `json:{…}`, …), loops (also through symlinks) and chains deeper
 *   than libvirt's limit of 200 are unprovable.
 */
import type { DiskAccess } from '../access/types.js';
import type { DeclaredBacking } from '../domain/model.js';
import type { HostView } from '../host/view.js';
import type { Result } from '../result.js';
import { failure, success } from '../result.js';
import { besideReferrer, locateBacking } from './backing-name.js';
import type { ByteReader } from './bytes.js';
import { canonicalPath } from './canonical.js';
import type { ImageHeader } from './header.js';
import { PROBE_BYTES, probeFormat } from './probe.js';
import { readQcow2Header } from './qcow2.js';
import { readQedHeader } from './qed.js';
import { readVmdkHeader } from './vmdk.js';
import { pathProblem } from '../host/errno.js';

/** libvirt's QEMU_DOMAIN_STORAGE_SOURCE_CHAIN_MAX_DEPTH. */
export const MAX_CHAIN_DEPTH = 200;

/** Formats QEMU opens as one file with no backing, data file or extents. */
const SINGLE_FILE_FORMATS = new Set(['raw', 'iso', 'bochs', 'cloop', 'dmg', 'vpc', 'vdi', 'luks']);
const HEADER_READERS: Record<string, (read: ByteReader) => Result<ImageHeader>> = {
  qcow2: readQcow2Header,
  qed: readQedHeader,
  vmdk: readVmdkHeader,
};

export type ChainRole = 'image' | 'data-file' | 'extent';

export interface ChainFile {
  /** The path QEMU opens, exactly as it builds it (not canonicalised: the kernel walks it as written). */
  readonly path: string;
  /** The format QEMU opens it with; data files and extents are plain data. */
  readonly format: string;
  readonly access: DiskAccess;
  readonly role: ChainRole;
  /** 0 for the top image and its own data file/extents, 1 for its backing image, … */
  readonly layer: number;
}

export type UnprovableCode =
  | 'unsupported-format'
  | 'unreadable-header'
  | 'bad-header'
  | 'remote-backing'
  | 'relative-data-file'
  | 'backing-format-unspecified'
  | 'declared-backing-unsupported'
  | 'loop'
  | 'too-deep';

export type ChainResult =
  | { readonly kind: 'chain'; readonly files: readonly ChainFile[] }
  | { readonly kind: 'unprovable'; readonly code: UnprovableCode; readonly reason: string; readonly path: string };

/**
 * ChainTop.format for a file QEMU opens with no format given (`-drive file=…` without format=, `-hda`,
 * `-cdrom`, …): QEMU probes it by its magic (and then follows a backing file the probed header names),
 * where libvirt, for a `<disk>` without `<driver type>`, says raw.
 */
export const QEMU_PROBES = 'probe';

export interface ChainTop {
  readonly path: string;
  /** `<driver type>`; undefined means raw; QEMU_PROBES: probed as QEMU does. */
  readonly format: string | undefined;
  /** The disk's `<backingStore>` as written, if any. */
  readonly declared?: DeclaredBacking;
  /** What QEMU needs on the top image; defaults to the stronger 'readwrite' when the caller does not say. */
  readonly access?: DiskAccess;
}

interface Layer {
  readonly path: string;
  readonly format: string;
  /** The `<backingStore>` below this layer as written in the XML; undefined: read it from the header. */
  readonly declared: DeclaredBacking | undefined;
  /** The format was probed because the referring image recorded none. */
  readonly probed: boolean;
}

class Unprovable {
  constructor(
    readonly code: UnprovableCode,
    readonly reason: string,
    readonly path: string,
  ) {}
}

export function resolveChain(view: HostView, top: ChainTop): ChainResult {
  try {
    return { kind: 'chain', files: walk(view, top) };
  } catch (e) {
    if (e instanceof Unprovable) return { kind: 'unprovable', code: e.code, reason: e.reason, path: e.path };
    throw e;
  }
}

function walk(view: HostView, top: ChainTop): ChainFile[] {
  const files: ChainFile[] = [];
  const seen = new Set<string>();
  let layer: Layer | undefined = topLayer(view, top);
  for (let depth = 0; layer !== undefined; depth++) {
    if (depth >= MAX_CHAIN_DEPTH) {
      throw new Unprovable('too-deep', `backing chain deeper than ${MAX_CHAIN_DEPTH} images`, layer.path);
    }
    const access: DiskAccess = depth === 0 ? (top.access ?? 'readwrite') : 'read';
    files.push({ path: layer.path, format: layer.format, access, role: 'image', layer: depth });
    if (SINGLE_FILE_FORMATS.has(layer.format)) return files;
    const readHeader = HEADER_READERS[layer.format];
    if (readHeader === undefined) {
      throw new Unprovable('unsupported-format', `format '${layer.format}' is not supported for chain reading`, layer.path);
    }

    const canonical = canonicalPath(view, layer.path);
    // The error names the component that failed; say which image it was only when that is another path.
    if (!canonical.ok) {
      const why = canonical.error.startsWith(layer.path) ? canonical.error : `${layer.path}: ${canonical.error}`;
      throw new Unprovable('unreadable-header', why, layer.path);
    }
    if (seen.has(canonical.value)) {
      throw new Unprovable('loop', `backing chain loops: ${layer.path} (${canonical.value}) appears twice`, layer.path);
    }
    seen.add(canonical.value);

    const header = readHeaderOf(view, layer, readHeader);
    files.push(...companionFiles(layer, header, access, depth));
    layer = nextLayer(view, layer, header);
  }
  return files;
}

function topLayer(view: HostView, top: ChainTop): Layer {
  if (top.format !== QEMU_PROBES) return { path: top.path, format: top.format ?? 'raw', declared: top.declared, probed: false };
  const head = view.readBytes(top.path, 0, PROBE_BYTES);
  // A file that is not there is raw to the engines, which then say QEMU cannot open it. Not `probed`:
  // that flag is libvirt's refusal of a probed backing image, and here QEMU probes, not libvirt.
  if (head.kind === 'missing') return { path: top.path, format: 'raw', declared: top.declared, probed: false };
  if (head.kind !== 'ok') throw new Unprovable('unreadable-header', `cannot probe ${top.path}'s format as QEMU does: ${head.why}`, top.path);
  return { path: top.path, format: probeFormat(head.value), declared: top.declared, probed: false };
}

function readHeaderOf(view: HostView, layer: Layer, readHeader: (read: ByteReader) => Result<ImageHeader>): ImageHeader {
  let readError: string | undefined;
  const read: ByteReader = (offset, length) => {
    const got = view.readBytes(layer.path, offset, length);
    if (got.kind === 'ok') return success(got.value);
    readError = got.kind === 'missing' ? pathProblem(layer.path, got.errno) : `cannot read ${layer.path}: ${got.why}`;
    return failure(readError);
  };
  const header = readHeader(read);
  if (!header.ok) {
    // A read failure already names the file; a malformed header needs the format and file said.
    if (readError !== undefined) throw new Unprovable('unreadable-header', readError, layer.path);
    throw new Unprovable('bad-header', `${layer.format} header of ${layer.path}: ${header.error}`, layer.path);
  }
  if (layer.probed && header.value.backing !== undefined) {
    throw new Unprovable(
      'backing-format-unspecified',
      `the image naming ${layer.path} does not record its format, and libvirt refuses a probed backing image ` +
        `that has a backing file of its own ("format of backing image … was not specified in the image metadata")`,
      layer.path,
    );
  }
  return header.value;
}

/** The qcow2 data file and VMDK extents of one layer: opened with the layer's own access. */
function companionFiles(layer: Layer, header: ImageHeader, access: DiskAccess, depth: number): ChainFile[] {
  const out: ChainFile[] = [];
  if (header.dataFile !== undefined) {
    const name = header.dataFile;
    if (!name.startsWith('/')) {
      throw new Unprovable(
        'relative-data-file',
        `external data file '${name}' is relative: QEMU resolves it against its working directory, not the image's`,
        layer.path,
      );
    }
    out.push({ path: name, format: 'raw', access, role: 'data-file', layer: depth });
  }
  for (const name of header.extents) {
    const where = locateBacking(name, layer.path);
    if (where.kind !== 'file') {
      throw new Unprovable('bad-header', `VMDK extent '${name}' is not a plain file name`, layer.path);
    }
    const path = besideReferrer(name, layer.path);
    if (path !== layer.path) out.push({ path, format: 'raw', access, role: 'extent', layer: depth });
  }
  return out;
}

function nextLayer(view: HostView, layer: Layer, header: ImageHeader): Layer | undefined {
  if (layer.declared !== undefined) return declaredLayer(layer.declared, layer.path);
  if (header.backing === undefined) return undefined;
  const where = locateBacking(header.backing.name, layer.path);
  if (where.kind === 'none') return undefined;
  if (where.kind === 'remote') {
    const what = where.protocol === 'json' ? 'a json: pseudo-protocol reference' : `a '${where.protocol}:' reference`;
    throw new Unprovable('remote-backing', `backing file '${header.backing.name}' is ${what}, not a local file`, layer.path);
  }
  if (header.backing.format !== undefined) {
    return { path: where.path, format: header.backing.format, declared: undefined, probed: false };
  }
  const head = view.readBytes(where.path, 0, PROBE_BYTES);
  if (head.kind !== 'ok') {
    const why = head.kind === 'missing' ? `backing file ${pathProblem(where.path, head.errno)}` : `cannot probe backing file ${where.path}: ${head.why}`;
    throw new Unprovable('unreadable-header', why, where.path);
  }
  return { path: where.path, format: probeFormat(head.value), declared: undefined, probed: true };
}

function declaredLayer(declared: DeclaredBacking, below: string): Layer | undefined {
  if (declared.kind === 'none') return undefined;
  const { type, format, path } = declared;
  if (type !== 'file' && type !== 'block') {
    throw new Unprovable('declared-backing-unsupported', `<backingStore type='${type ?? ''}'> below ${below} is not a local file`, below);
  }
  if (path === undefined || !path.startsWith('/')) {
    throw new Unprovable('declared-backing-unsupported', `<backingStore> below ${below} has no absolute source path`, below);
  }
  if (format === undefined) {
    throw new Unprovable('declared-backing-unsupported', `<backingStore> ${path} has no <format> (libvirt requires one)`, path);
  }
  return { path, format, declared: declared.next, probed: false };
}
