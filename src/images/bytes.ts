/**
 * Bounded, defensive access to image bytes. Header readers never touch the system: they get a
 * `ByteReader` (in production a closure over `HostView.readBytes`, in tests an in-memory buffer), so a
 * hostile header can only make them ask for bounded ranges and fail with a message, never crash.
 */
import type { Result } from '../result.js';
import { failure, success } from '../result.js';

/**
 * Up to `length` bytes at `offset`; fewer at end of file. Callers bound `length` themselves: no reader
 * here ever asks for more than a few MiB, whatever the header claims.
 */
export type ByteReader = (offset: number, length: number) => Result<Uint8Array>;

/** A reader over bytes already in memory (tests, and re-reading a window already fetched). */
export function memoryReader(bytes: Uint8Array): ByteReader {
  return (offset, length) => {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      return failure(`invalid read range ${offset}+${length}`);
    }
    return success(bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length)));
  };
}

/**
 * Reads exactly `length` bytes, padding with zeros past end of file: QEMU's file driver returns zeros for
 * reads beyond EOF, so a short image must be judged on the same bytes QEMU would see.
 */
export function readPadded(read: ByteReader, offset: number, length: number): Result<Uint8Array> {
  const got = read(offset, length);
  if (!got.ok) return got;
  if (got.value.length > length) return failure(`reader returned ${got.value.length} bytes for ${length}`);
  if (got.value.length === length) return got;
  const padded = new Uint8Array(length);
  padded.set(got.value);
  return success(padded);
}

export const u16le = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8);
export const u32le = (b: Uint8Array, at: number): number =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
export const u32be = (b: Uint8Array, at: number): number =>
  b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);

/**
 * 64-bit fields as numbers. Values above 2^53 cannot be file offsets on any real image, so they come
 * back as +Infinity, which every bounds check then rejects (no silent wrap-around).
 */
export function u64be(b: Uint8Array, at: number): number {
  const v = u32be(b, at) * 0x100000000 + u32be(b, at + 4);
  return Number.isSafeInteger(v) ? v : Infinity;
}
export function u64le(b: Uint8Array, at: number): number {
  const v = u32le(b, at + 4) * 0x100000000 + u32le(b, at);
  return Number.isSafeInteger(v) ? v : Infinity;
}

export function startsWith(b: Uint8Array, at: number, magic: readonly number[]): boolean {
  if (at + magic.length > b.length) return false;
  return magic.every((m, i) => b[at + i] === m);
}

export const ascii = (s: string): readonly number[] => [...s].map((c) => c.charCodeAt(0));

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A file name stored in an image. Linux names are bytes; a name that is not valid UTF-8, or that holds a
 * NUL (which C readers would silently truncate at), cannot be named faithfully here, so it is an error.
 */
export function fileName(bytes: Uint8Array, what: string): Result<string> {
  if (bytes.includes(0)) return failure(`${what} contains a NUL byte`);
  try {
    return success(strictUtf8.decode(bytes));
  } catch {
    return failure(`${what} is not valid UTF-8`);
  }
}

/** Text up to the first NUL, as C's string functions see a descriptor buffer. Lossy decoding is fine for searching. */
export function cString(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
}
