/**
 * Hostile headers: every malformed image must give an error value — never a throw, a hang, or a read
 * larger than the format's own bound (2 MiB for a qcow2 cluster, 1 MiB for a VMDK descriptor).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryReader, type ByteReader } from '../../src/images/bytes.js';
import { readQcow2Header } from '../../src/images/qcow2.js';
import { readQedHeader } from '../../src/images/qed.js';
import { parseDescriptor, readVmdkHeader } from '../../src/images/vmdk.js';
import { EXT_BACKING_FORMAT, EXT_DATA_FILE, qcow2, qed, vmdkSparse } from './builders.js';

const MAX_READ = 2 * 1024 * 1024;

/** A reader that records every request, so tests can assert the reads stayed bounded. */
function spy(bytes: Uint8Array) {
  const reads: { offset: number; length: number }[] = [];
  const inner = memoryReader(bytes);
  const read: ByteReader = (offset, length) => {
    reads.push({ offset, length });
    return inner(offset, length);
  };
  return { read, reads };
}

const errorOf = (r: { ok: boolean; error?: string }) => (r.ok ? undefined : r.error);

describe('qcow2 header reader', () => {
  it('reads a v3 backing name, its format extension and the data file when the feature bit is set', () => {
    const bytes = qcow2({
      incompatible: 1n << 2n,
      extensions: [
        [EXT_BACKING_FORMAT, 'raw'],
        [EXT_DATA_FILE, '/images/data.raw'],
      ],
      backingName: 'base.raw',
    });
    const r = readQcow2Header(memoryReader(bytes));
    expect(r).toEqual({
      ok: true,
      value: { backing: { name: 'base.raw', format: 'raw' }, dataFile: '/images/data.raw', extents: [] },
    });
  });

  it('ignores a data file extension without the incompatible feature bit (as QEMU does)', () => {
    const r = readQcow2Header(memoryReader(qcow2({ extensions: [[EXT_DATA_FILE, '/x']] })));
    expect(r.ok && r.value.dataFile).toBeUndefined();
  });

  it.each([
    ['truncated file', new Uint8Array([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]), /cluster_bits|header_length/],
    ['bad magic', new Uint8Array(4096), /bad magic/],
    ['version 4', qcow2({ version: 4 }), /version 4/],
    ['cluster_bits 63', qcow2({ clusterBits: 63 }), /cluster_bits/],
    ['header_length beyond the cluster', qcow2({ headerLength: 0x7fffffff }), /header_length/],
    ['header_length too short', qcow2({ headerLength: 8 }), /too short/],
    ['backing name length 1024', qcow2({ backingName: 'a', backingSize: 1024 }), /too long/],
    ['backing name length 4 GiB', qcow2({ backingName: 'a', backingSize: 0xffffffff }), /too long/],
    ['backing offset 2^64-1', qcow2({ backingOffset: 0xffffffffffffffffn, backingSize: 8 }), /outside/],
    ['backing offset wrapping with its length', qcow2({ backingOffset: 0xfffffffffffffff8n, backingSize: 16 }), /outside/],
    ['backing name past end of file', qcow2({ backingOffset: 4090n, backingSize: 100, size: 4096 }), /past end of file/],
    ['backing name with a NUL', qcow2({ backingName: 'base\0.raw' }), /NUL/],
    ['backing name not UTF-8', qcow2({ backingName: 'base\xff.raw' }), /UTF-8/],
    ['unknown incompatible feature', qcow2({ incompatible: 1n << 40n }), /unknown incompatible/],
    ['data file bit without a name', qcow2({ incompatible: 1n << 2n }), /names none/],
    ['backing format of 100 bytes', qcow2({ extensions: [[EXT_BACKING_FORMAT, 'q'.repeat(100)]] }), /too long/],
  ])('%s gives an error, not a throw', (_name, bytes, message) => {
    const { read, reads } = spy(bytes);
    expect(errorOf(readQcow2Header(read))).toMatch(message);
    for (const { length } of reads) expect(length).toBeLessThanOrEqual(MAX_READ);
  });

  it('an extension whose length runs past the extension area is rejected', () => {
    const bytes = qcow2({ extensions: [[0x1234, 'x']] });
    Buffer.from(bytes.buffer).writeUInt32BE(0xfffffff0, 104 + 4);
    expect(errorOf(readQcow2Header(memoryReader(bytes)))).toMatch(/too large/);
  });
});

describe('QED header reader', () => {
  it('reads the backing name; the no-probe flag means raw', () => {
    expect(readQedHeader(memoryReader(qed({ features: 5n, backingName: 'base.raw' })))).toEqual({
      ok: true,
      value: { backing: { name: 'base.raw', format: 'raw' }, dataFile: undefined, extents: [] },
    });
    const probed = readQedHeader(memoryReader(qed({ features: 1n, backingName: 'b.qcow2' })));
    expect(probed.ok && probed.value.backing).toEqual({ name: 'b.qcow2', format: undefined });
  });

  it('without the backing feature bit a stored name is ignored', () => {
    const r = readQedHeader(memoryReader(qed({ features: 0n, backingName: 'ignored' })));
    expect(r.ok && r.value.backing).toBeUndefined();
  });

  it.each([
    ['unknown feature', qed({ features: 1n << 9n }), /unsupported features/],
    ['cluster size not a power of two', qed({ clusterSize: 65535 }), /power of two/],
    ['name longer than 1023', qed({ features: 1n, backingName: 'a', backingSize: 5000 }), /too long/],
    ['name outside the header clusters', qed({ features: 1n, backingName: 'a', backingOffset: 0xfffffff0, backingSize: 32 }), /outside/],
    ['name past end of file', qed({ features: 1n, clusterSize: 65536, backingOffset: 8190, backingSize: 100 }), /past end of file/],
    ['truncated', new Uint8Array([0x51, 0x45, 0x44, 0]), /power of two/],
  ])('%s gives an error', (_n, bytes, message) => {
    expect(errorOf(readQedHeader(memoryReader(bytes)))).toMatch(message);
  });
});

describe('VMDK reader', () => {
  const descriptor = (extra: string) =>
    `# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicFlat"\n${extra}\n`;
  const text = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

  it('lists the extents of a text descriptor, skipping ZERO extents and lines that are not extents', () => {
    const r = readVmdkHeader(
      memoryReader(
        text(descriptor('RW 2048 FLAT "a-flat.vmdk" 0\r\nRDONLY 10 SPARSE "/abs/b.vmdk"\nRW 5 ZERO\n# RW 1 FLAT "c" 0\nRW 2048 ZERO "z.vmdk"')),
      ),
    );
    expect(r.ok && r.value.extents).toEqual(['a-flat.vmdk', '/abs/b.vmdk']);
  });

  it('finds parentFileNameHint in a sparse image at 0x200 and in a text descriptor at 0', () => {
    const sparse = readVmdkHeader(memoryReader(vmdkSparse({ descriptor: descriptor('parentFileNameHint="base.vmdk"') })));
    expect(sparse.ok && sparse.value).toEqual({ backing: { name: 'base.vmdk', format: undefined }, dataFile: undefined, extents: [] });
    const t = readVmdkHeader(memoryReader(text(descriptor('parentFileNameHint="/p/base.vmdk"\nRW 1 FLAT "x" 0'))));
    expect(t.ok && t.value.backing?.name).toBe('/p/base.vmdk');
  });

  it('a descriptor declared 100 MB is read only up to QEMU\'s 1 MiB cap', () => {
    const { read, reads } = spy(vmdkSparse({ capacity: 0n, descriptorSector: 1n, descriptorSectors: 204800n, descriptor: descriptor('RW 1 FLAT "x" 0') }));
    const r = readVmdkHeader(read);
    expect(r.ok && r.value.extents).toEqual(['x']);
    for (const { length } of reads) expect(length).toBeLessThan(1 << 20);
  });

  it.each([
    ['descriptor offset past 2^53', vmdkSparse({ capacity: 0n, descriptorSector: 0xffffffffffffffn }), /out of range/],
    ['parent without closing quote', vmdkSparse({ descriptor: descriptor('parentFileNameHint="base.vmdk') }), /closing quote/],
    ['parent name of 2000 bytes', vmdkSparse({ descriptor: descriptor(`parentFileNameHint="${'a'.repeat(2000)}"`) }), /too long/],
    ['text without createType', text('hello world, not a descriptor'), /createType/],
    ['tiny file', text('ab'), /too small/],
    ['VMDK3', text('COWD\x01\0\0\0'), /VMDK3/],
    ['extent name not UTF-8', text(descriptor('RW 1 FLAT "\xff\xfe" 0')), /UTF-8/],
  ])('%s gives an error', (_n, bytes, message) => {
    expect(errorOf(readVmdkHeader(memoryReader(bytes)))).toMatch(message);
  });

  it('parseDescriptor stops at a NUL as C string functions do', () => {
    const r = parseDescriptor(text(descriptor('RW 1 FLAT "a" 0\0RW 1 FLAT "hidden" 0')));
    expect(r.ok && r.value).toEqual(['a']);
  });
});

describe('fuzzing: mutated and random headers never throw and never read past the bounds', () => {
  const seeds = [
    qcow2({ extensions: [[EXT_BACKING_FORMAT, 'raw'], [EXT_DATA_FILE, '/d']], incompatible: 4n, backingName: 'b' }),
    qcow2({ version: 2, backingName: 'base.qcow2' }),
    qed({ features: 1n, backingName: 'base' }),
    vmdkSparse({ capacity: 0n, descriptor: '# Disk DescriptorFile\ncreateType="x"\nparentFileNameHint="p"\nRW 1 FLAT "e" 0\n' }),
  ].map((b) => b.subarray(0, 1024));
  const readers = [readQcow2Header, readQedHeader, readVmdkHeader];

  it('random byte flips in real-looking headers', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(1023), fc.nat(255)), { maxLength: 24 }),
        fc.integer({ min: 0, max: 1024 }),
        (which, flips, cut) => {
          const bytes = new Uint8Array(seeds[which]!.subarray(0, cut));
          for (const [at, v] of flips) if (at < bytes.length) bytes[at] = v;
          for (const readHeader of readers) {
            const { read, reads } = spy(bytes);
            const r = readHeader(read);
            expect(typeof r.ok).toBe('boolean');
            for (const { offset, length } of reads) {
              expect(Number.isSafeInteger(offset)).toBe(true);
              expect(length).toBeLessThanOrEqual(MAX_READ);
            }
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        for (const readHeader of readers) expect(typeof readHeader(memoryReader(bytes)).ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});
