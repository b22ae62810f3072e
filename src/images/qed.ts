/**
 * QED header reader, following QEMU's block/qed.c: little-endian header, backing file name at
 * backing_filename_offset/size when feature bit 0 is set; feature bit 2 says the backing file is raw and
 * must not be probed. QEMU refuses images with feature bits it does not know, and so do we.
 */
import type { Result } from '../result.js';
import { failure, success } from '../result.js';
import type { ByteReader } from './bytes.js';
import { ascii, fileName, readPadded, startsWith, u32le } from './bytes.js';
import type { ImageHeader } from './header.js';

export const QED_MAGIC = ascii('QED\0');
const HEADER_SIZE = 64;
const F_BACKING_FILE = 0x01n;
const F_NEED_CHECK = 0x02n;
const F_BACKING_FORMAT_NO_PROBE = 0x04n;
const KNOWN_FEATURES = F_BACKING_FILE | F_NEED_CHECK | F_BACKING_FORMAT_NO_PROBE;
const MIN_CLUSTER = 4096;
const MAX_CLUSTER = 64 * 1024 * 1024;
/** QEMU reads the name into a 1024-byte buffer (NUL included). */
const MAX_BACKING_NAME = 1023;

export function readQedHeader(read: ByteReader): Result<ImageHeader> {
  const head = readPadded(read, 0, HEADER_SIZE);
  if (!head.ok) return head;
  const h = head.value;
  if (!startsWith(h, 0, QED_MAGIC)) return failure('not a QED image (bad magic)');
  const clusterSize = u32le(h, 4);
  if (clusterSize < MIN_CLUSTER || clusterSize > MAX_CLUSTER || (clusterSize & (clusterSize - 1)) !== 0) {
    return failure(`QED cluster_size ${clusterSize} is not a power of two in ${MIN_CLUSTER}..${MAX_CLUSTER}`);
  }
  const headerClusters = u32le(h, 12);
  const features = (BigInt(u32le(h, 20)) << 32n) | BigInt(u32le(h, 16));
  const unknownBits = features & ~KNOWN_FEATURES;
  if (unknownBits !== 0n) return failure(`QED unsupported features 0x${unknownBits.toString(16)}`);
  if ((features & F_BACKING_FILE) === 0n) return success({ backing: undefined, dataFile: undefined, extents: [] });

  const offset = u32le(h, 56);
  const size = u32le(h, 60);
  if (size === 0) return success({ backing: undefined, dataFile: undefined, extents: [] });
  // QEMU: the name must lie inside the header clusters and fit its buffer.
  const headerBytes = clusterSize * headerClusters;
  if (size > MAX_BACKING_NAME || offset + size > headerBytes) {
    return failure(`QED backing file name (offset ${offset}, length ${size}) is too long or outside the header`);
  }
  const raw = read(offset, size);
  if (!raw.ok) return raw;
  if (raw.value.length < size) return failure('QED backing file name runs past end of file');
  const name = fileName(raw.value, 'QED backing file name');
  if (!name.ok) return name;
  const format = (features & F_BACKING_FORMAT_NO_PROBE) !== 0n ? 'raw' : undefined;
  return success({ backing: { name: name.value, format }, dataFile: undefined, extents: [] });
}
