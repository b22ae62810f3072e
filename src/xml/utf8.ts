/**
 * UTF-8 decoding for the gate: the input must be UTF-8; a leading BOM is allowed and remembered so the
 * output can carry it again. Invalid bytes are reported with the position of the first bad sequence.
 */
import { failure, success, type Result } from '../result.js';
import { errorAt, type XmlError } from './position.js';

export interface DecodedText {
  /** The decoded text without the BOM. */
  readonly text: string;
  readonly hasBom: boolean;
}

const BOM = [0xef, 0xbb, 0xbf] as const;

/** ignoreBOM keeps a second U+FEFF in the text, where the gate then rejects it as text before the root. */
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeUtf8(bytes: Uint8Array): Result<DecodedText, XmlError> {
  const hasBom = bytes.length >= 3 && bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2];
  const body = hasBom ? bytes.subarray(3) : bytes;
  const utf16 = utf16ByteOrderMark(body);
  if (utf16 !== undefined) {
    return failure({ line: 1, column: 1, message: `input starts with a ${utf16} byte order mark; only UTF-8 is supported` });
  }
  try {
    return success({ text: strictDecoder.decode(body), hasBom });
  } catch {
    // The fast path failed: find where, so the error can point at the byte.
    const bad = firstInvalidUtf8(body);
    const before = strictDecoder.decode(body.subarray(0, bad));
    const byte = (body[bad] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    return failure(errorAt(before, before.length, `invalid UTF-8 (byte 0x${byte} at byte offset ${bad + (hasBom ? 3 : 0)}); the input must be UTF-8`));
  }
}

function utf16ByteOrderMark(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'UTF-16LE';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'UTF-16BE';
  return undefined;
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence (Unicode table 3-7). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let length: number;
    let secondLow = 0x80;
    let secondHigh = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) secondLow = 0xa0;
      if (b === 0xed) secondHigh = 0x9f; // no encoded surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) secondLow = 0x90;
      if (b === 0xf4) secondHigh = 0x8f; // nothing above U+10FFFF
    } else return i;
    if (i + length > n) return i;
    const second = bytes[i + 1] as number;
    if (second < secondLow || second > secondHigh) return i;
    for (let k = 2; k < length; k++) {
      const c = bytes[i + k] as number;
      if (c < 0x80 || c > 0xbf) return i;
    }
    i += length;
  }
  return n;
}
