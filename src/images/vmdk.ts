/**
 * VMDK reader, following QEMU's block/vmdk.c: a text descriptor file, or a sparse extent ("KDMV") with an
 * embedded descriptor. QEMU opens the parent named by `parentFileNameHint` and every extent file listed
 * in a descriptor (`RW 2048 FLAT "x-flat.vmdk" 0`); a monolithicSparse image is its own only extent.
 */
import type { Result } from '../result.js';
import { failure, success } from '../result.js';
import type { ByteReader } from './bytes.js';
import { ascii, cString, fileName, readPadded, startsWith, u32le, u64le } from './bytes.js';
import type { ImageHeader } from './header.js';

export const VMDK4_MAGIC = ascii('KDMV');
const VMDK3_MAGIC = ascii('COWD');
const SECTOR = 512;
/** QEMU caps a descriptor read at 1 MiB - 1 ("avoid unbounded allocation"), whatever the header declares. */
export const MAX_DESCRIPTOR = (1 << 20) - 1;
/** QEMU looks for the parent in DESC_SIZE = 20 sectors, at 0x200 in sparse files and 0 in text files. */
const PARENT_WINDOW = 20 * SECTOR;
const SPARSE_DESCRIPTOR_AT = 0x200;
const PARENT_KEY = 'parentFileNameHint';
const MAX_PARENT_NAME = 1023;
const SPARSE_HEADER_SIZE = 80;

export function readVmdkHeader(read: ByteReader): Result<ImageHeader> {
  const head = readPadded(read, 0, SPARSE_HEADER_SIZE);
  if (!head.ok) return head;
  const h = head.value;
  if (startsWith(h, 0, VMDK3_MAGIC)) return failure('VMDK3 (COWD) images are not supported');
  if (startsWith(h, 0, VMDK4_MAGIC)) return readSparse(read, h);
  return readTextDescriptor(read);
}

function readSparse(read: ByteReader, h: Uint8Array): Result<ImageHeader> {
  const version = u32le(h, 4);
  if (version < 1 || version > 3) return failure(`unsupported VMDK version ${version}`);
  const parent = readParent(read, SPARSE_DESCRIPTOR_AT);
  if (!parent.ok) return parent;
  const capacity = u64le(h, 12);
  const descriptorSector = u64le(h, 28);
  // A sparse header with zero capacity only carries a descriptor whose extents are the data (QEMU's
  // vmdk_open_vmdk4); otherwise the file is its own single extent.
  let extents: readonly string[] = [];
  if (capacity === 0 && descriptorSector !== 0) {
    const at = descriptorSector * SECTOR;
    if (!Number.isSafeInteger(at)) return failure(`VMDK descriptor offset ${descriptorSector} sectors is out of range`);
    const desc = read(at, MAX_DESCRIPTOR);
    if (!desc.ok) return desc;
    const parsed = parseDescriptor(desc.value);
    if (!parsed.ok) return parsed;
    extents = parsed.value;
  }
  return success({ backing: parent.value, dataFile: undefined, extents });
}

function readTextDescriptor(read: ByteReader): Result<ImageHeader> {
  const desc = read(0, MAX_DESCRIPTOR);
  if (!desc.ok) return desc;
  if (desc.value.length < 4) return failure('file too small to be a VMDK descriptor');
  const parsed = parseDescriptor(desc.value);
  if (!parsed.ok) return parsed;
  const parent = readParent(read, 0);
  if (!parent.ok) return parent;
  return success({ backing: parent.value, dataFile: undefined, extents: parsed.value });
}

/** The parent as vmdk_parent_open finds it: first `parentFileNameHint`, skip `="`, up to the next quote. */
function readParent(read: ByteReader, at: number): Result<ImageHeader['backing']> {
  const window = read(at, PARENT_WINDOW);
  if (!window.ok) return window;
  const text = latin1(cString(window.value));
  const key = text.indexOf(PARENT_KEY);
  if (key < 0) return success(undefined);
  const start = key + PARENT_KEY.length + 2;
  const end = text.indexOf('"', start);
  if (end < 0) return failure('VMDK parentFileNameHint has no closing quote');
  if (end - start > MAX_PARENT_NAME) return failure('VMDK parentFileNameHint is too long');
  if (end <= start) return success(undefined);
  const name = fileName(window.value.subarray(start, end), 'VMDK parent file name');
  if (!name.ok) return name;
  // QEMU opens a VMDK parent as VMDK; libvirt records no format and would probe it.
  return success({ name: name.value, format: undefined });
}

const EXTENT_LINE = /^[ \t]*(\S{1,10})[ \t]+[+-]?\d+[ \t]+(\S{1,10})[ \t]+"([^\n\r"]{1,511})"/;

/**
 * Extent files of a descriptor. QEMU skips lines that do not parse as an extent; ZERO extents have no
 * file. RDONLY and NOACCESS extents are listed too: naming more files than QEMU opens can only withhold
 * an annotation, never grant a wrong one.
 */
export function parseDescriptor(bytes: Uint8Array): Result<readonly string[]> {
  const raw = cString(bytes);
  const text = latin1(raw);
  if (!text.includes('createType')) return failure('invalid VMDK descriptor (no createType)');
  const extents: string[] = [];
  let lineStart = 0;
  for (const line of text.split('\n')) {
    const m = EXTENT_LINE.exec(line);
    if (m && ['RW', 'RDONLY', 'NOACCESS'].includes(m[1]!) && m[2] !== 'ZERO') {
      const nameStart = lineStart + line.indexOf('"') + 1;
      const name = fileName(raw.subarray(nameStart, nameStart + m[3]!.length), 'VMDK extent file name');
      if (!name.ok) return name;
      extents.push(name.value);
    }
    lineStart += line.length + 1;
  }
  return success(extents);
}

/** One character per byte, so string offsets are byte offsets; names are re-decoded strictly from bytes. */
function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return s;
}
