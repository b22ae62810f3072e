/** Hand-built image headers for hostile-input tests, and an in-memory host view of image files. */
import { missing, ok, unknown, type HostView, type Inode } from '../../src/host/view.js';

export interface Qcow2Spec {
  version?: number;
  clusterBits?: number;
  backingOffset?: bigint;
  backingSize?: number;
  backingName?: string;
  headerLength?: number;
  incompatible?: bigint;
  /** [magic, payload] pairs written after the header, 8-byte aligned. */
  extensions?: [number, Uint8Array | string][];
  /** Total file size; defaults to 4096. */
  size?: number;
}

export function qcow2(spec: Qcow2Spec = {}): Uint8Array {
  const version = spec.version ?? 3;
  const headerLength = spec.headerLength ?? (version === 2 ? 72 : 104);
  const buf = Buffer.alloc(spec.size ?? 4096);
  buf.write('QFI\xfb', 0, 'latin1');
  buf.writeUInt32BE(version, 4);
  buf.writeUInt32BE(spec.clusterBits ?? 16, 20);
  buf.writeBigUInt64BE(1n << 20n, 24);
  if (version === 3) {
    buf.writeBigUInt64BE(spec.incompatible ?? 0n, 72);
    buf.writeUInt32BE(4, 96);
    buf.writeUInt32BE(headerLength, 100);
  }
  let at = version === 2 ? 72 : Math.min(headerLength, buf.length - 16);
  for (const [magic, payload] of spec.extensions ?? []) {
    const bytes = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : Buffer.from(payload);
    buf.writeUInt32BE(magic, at);
    buf.writeUInt32BE(bytes.length, at + 4);
    bytes.copy(buf, at + 8);
    at += 8 + Math.ceil(bytes.length / 8) * 8;
  }
  if (spec.extensions !== undefined) at += 8; // end-of-extensions marker (zeros)
  if (spec.backingName !== undefined) {
    const name = Buffer.from(spec.backingName, 'latin1');
    name.copy(buf, at);
    buf.writeBigUInt64BE(spec.backingOffset ?? BigInt(at), 8);
    buf.writeUInt32BE(spec.backingSize ?? name.length, 16);
  } else if (spec.backingOffset !== undefined) {
    buf.writeBigUInt64BE(spec.backingOffset, 8);
    buf.writeUInt32BE(spec.backingSize ?? 0, 16);
  }
  return new Uint8Array(buf);
}

export const EXT_BACKING_FORMAT = 0xe2792aca;
export const EXT_DATA_FILE = 0x44415441;

export interface QedSpec {
  features?: bigint;
  clusterSize?: number;
  headerClusters?: number;
  backingOffset?: number;
  backingSize?: number;
  backingName?: string;
}

export function qed(spec: QedSpec = {}): Uint8Array {
  const buf = Buffer.alloc(8192);
  buf.write('QED\0', 0, 'latin1');
  buf.writeUInt32LE(spec.clusterSize ?? 65536, 4);
  buf.writeUInt32LE(4, 8);
  buf.writeUInt32LE(spec.headerClusters ?? 1, 12);
  buf.writeBigUInt64LE(spec.features ?? 0n, 16);
  if (spec.backingName !== undefined) Buffer.from(spec.backingName, 'latin1').copy(buf, spec.backingOffset ?? 64);
  buf.writeUInt32LE(spec.backingOffset ?? 64, 56);
  buf.writeUInt32LE(spec.backingSize ?? (spec.backingName?.length ?? 0), 60);
  return new Uint8Array(buf);
}

export interface VmdkSparseSpec {
  capacity?: bigint;
  descriptorSector?: bigint;
  descriptorSectors?: bigint;
  descriptor?: string;
}

export function vmdkSparse(spec: VmdkSparseSpec = {}): Uint8Array {
  const buf = Buffer.alloc(64 * 1024);
  buf.write('KDMV', 0, 'latin1');
  buf.writeUInt32LE(1, 4);
  buf.writeBigUInt64LE(spec.capacity ?? 2048n, 12);
  buf.writeBigUInt64LE(spec.descriptorSector ?? 1n, 28);
  buf.writeBigUInt64LE(spec.descriptorSectors ?? 20n, 36);
  if (spec.descriptor !== undefined) buf.write(spec.descriptor, 512, 'latin1');
  return new Uint8Array(buf);
}

const FILE: Inode = { type: 'file', mode: 0o644, uid: 0, gid: 0 };
const DIR: Inode = { type: 'dir', mode: 0o755, uid: 0, gid: 0 };

/** Files by absolute path (bytes, or a symlink target); every parent directory exists. */
export function imagesView(files: Record<string, Uint8Array | { link: string }>, log?: { offset: number; length: number }[]): HostView {
  const isDir = (p: string) => p === '/' || Object.keys(files).some((f) => f.startsWith(`${p}/`));
  const none = () => unknown('not part of this test view');
  const target = (p: string): Uint8Array | undefined => {
    for (let i = 0; i < 40; i++) {
      const f = files[p];
      if (f === undefined) return undefined;
      if (f instanceof Uint8Array) return f;
      p = f.link.startsWith('/') ? f.link : `${p.slice(0, p.lastIndexOf('/'))}/${f.link}`;
    }
    return undefined;
  };
  return {
    lstat: (p) => {
      const f = files[p];
      if (f === undefined) return isDir(p) ? ok(DIR) : missing();
      return ok(f instanceof Uint8Array ? FILE : { ...FILE, type: 'symlink' });
    },
    readlink: (p) => {
      const f = files[p];
      return f !== undefined && !(f instanceof Uint8Array) ? ok(f.link) : missing();
    },
    readBytes: (p, offset, length) => {
      log?.push({ offset, length });
      const bytes = target(p);
      if (bytes === undefined) return missing();
      return ok(bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length)));
    },
    aclAccess: none,
    selinuxLabel: none,
    readText: none,
    readBinary: none,
    listDir: none,
  };
}
