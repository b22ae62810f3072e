/**
 * qcow2 header reader (versions 2 and 3), following what QEMU's block/qcow2.c accepts when it opens an
 * image: the backing file name (offset 8, length 16), the header extensions between the header and the
 * backing name (backing format 0xE2792ACA, external data file 0x44415441), and the incompatible feature
 * bit that makes QEMU open the external data file. Anything QEMU would refuse is an error here too.
 */
import type { Result } from '../result.js';
import { failure, success } from '../result.js';
import type { ByteReader } from './bytes.js';
import { fileName, readPadded, startsWith, u32be, u64be } from './bytes.js';
import type { ImageHeader } from './header.js';

export const QCOW2_MAGIC = [0x51, 0x46, 0x49, 0xfb] as const; // "QFI\xfb"

const V2_HEADER_LENGTH = 72;
const V3_MIN_HEADER_LENGTH = 104;
/** QEMU's cluster_bits range: 512 B .. 2 MiB clusters; it also bounds every read below. */
const MIN_CLUSTER_BITS = 9;
const MAX_CLUSTER_BITS = 21;
/** QEMU and libvirt both refuse longer backing names. */
export const MAX_BACKING_NAME = 1023;
/** QEMU's backing_format buffer is 16 bytes including the NUL. */
const MAX_BACKING_FORMAT = 15;
/** Longer names than PATH_MAX-1 cannot be opened. */
const MAX_DATA_FILE_NAME = 4095;

const EXT_END = 0x00000000;
const EXT_BACKING_FORMAT = 0xe2792aca;
const EXT_DATA_FILE = 0x44415441;

const INCOMPAT_DATA_FILE = 1n << 2n;
/** dirty, corrupt, data file, compression type, extended L2: the bits QEMU 7–9 know; others make it refuse. */
const INCOMPAT_KNOWN = 0x1fn;

export function readQcow2Header(read: ByteReader): Result<ImageHeader> {
  const head = readPadded(read, 0, V3_MIN_HEADER_LENGTH);
  if (!head.ok) return head;
  const h = head.value;
  if (!startsWith(h, 0, QCOW2_MAGIC)) return failure('not a qcow2 image (bad magic)');
  const version = u32be(h, 4);
  if (version !== 2 && version !== 3) return failure(`unsupported qcow2 version ${version}`);

  const clusterBits = u32be(h, 20);
  if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
    return failure(`qcow2 cluster_bits ${clusterBits} out of range ${MIN_CLUSTER_BITS}..${MAX_CLUSTER_BITS}`);
  }
  const clusterSize = 2 ** clusterBits;

  let headerLength = V2_HEADER_LENGTH;
  let incompatible = 0n;
  if (version === 3) {
    headerLength = u32be(h, 100);
    if (headerLength < V3_MIN_HEADER_LENGTH) return failure(`qcow2 header_length ${headerLength} is too short`);
    if (headerLength > clusterSize) return failure(`qcow2 header_length ${headerLength} exceeds the cluster size`);
    incompatible = (BigInt(u32be(h, 72)) << 32n) | BigInt(u32be(h, 76));
    const unknownBits = incompatible & ~INCOMPAT_KNOWN;
    if (unknownBits !== 0n) return failure(`qcow2 unknown incompatible features 0x${unknownBits.toString(16)}`);
  }

  const backingOffset = u64be(h, 8);
  const backingSize = u32be(h, 16);
  let backingName: string | undefined;
  if (backingOffset !== 0 && backingSize !== 0) {
    if (backingOffset > clusterSize || backingSize > Math.min(MAX_BACKING_NAME, clusterSize - backingOffset)) {
      return failure(`qcow2 backing file name (offset ${backingOffset}, length ${backingSize}) is too long or outside the first cluster`);
    }
    const raw = read(backingOffset, backingSize);
    if (!raw.ok) return raw;
    if (raw.value.length < backingSize) return failure('qcow2 backing file name runs past end of file');
    const name = fileName(raw.value, 'qcow2 backing file name');
    if (!name.ok) return name;
    backingName = name.value;
  }

  const ext = readExtensions(read, headerLength, backingOffset !== 0 ? backingOffset : clusterSize, clusterSize);
  if (!ext.ok) return ext;

  const usesDataFile = (incompatible & INCOMPAT_DATA_FILE) !== 0n;
  if (usesDataFile && ext.value.dataFile === undefined) {
    return failure('qcow2 image needs an external data file but names none (QEMU would need one given explicitly)');
  }
  return success({
    backing: backingName === undefined ? undefined : { name: backingName, format: ext.value.backingFormat },
    // QEMU ignores a data file extension unless the incompatible feature bit is set.
    dataFile: usesDataFile ? ext.value.dataFile : undefined,
    extents: [],
  });
}

interface Extensions {
  readonly backingFormat: string | undefined;
  readonly dataFile: string | undefined;
}

/** Walks the extension area [start, end) the way qcow2_read_extensions does. */
function readExtensions(read: ByteReader, start: number, end: number, clusterSize: number): Result<Extensions> {
  if (end > clusterSize) end = clusterSize;
  if (start >= end) return success({ backingFormat: undefined, dataFile: undefined });
  // One bounded read (at most one cluster, 2 MiB) of the whole area; zeros past EOF as QEMU sees them.
  const area = readPadded(read, start, end - start);
  if (!area.ok) return area;
  const a = area.value;
  let backingFormat: string | undefined;
  let dataFile: string | undefined;
  let at = 0;
  while (at < a.length) {
    if (at + 8 > a.length) return failure('qcow2 header extension truncated');
    const magic = u32be(a, at);
    const len = u32be(a, at + 4);
    at += 8;
    if (len > a.length - at) return failure(`qcow2 header extension 0x${magic.toString(16)} too large (${len} bytes)`);
    const payload = a.subarray(at, at + len);
    if (magic === EXT_END) break;
    if (magic === EXT_BACKING_FORMAT) {
      if (len > MAX_BACKING_FORMAT) return failure(`qcow2 backing format extension too long (${len} bytes)`);
      const f = fileName(payload, 'qcow2 backing format');
      if (!f.ok) return f;
      backingFormat = f.value === '' ? undefined : f.value;
    } else if (magic === EXT_DATA_FILE) {
      if (len > MAX_DATA_FILE_NAME) return failure(`qcow2 data file name too long (${len} bytes)`);
      const f = fileName(payload, 'qcow2 data file name');
      if (!f.ok) return f;
      dataFile = f.value;
    }
    at += Math.ceil(len / 8) * 8;
  }
  return success({ backingFormat, dataFile });
}
