/**
 * The entry of the XML layer: bytes in, the element tree (or one positioned error) out.
 * Order matters for hostile input: the size limit is checked before anything is decoded, the
 * scanner (the authority) before the second gate, and nothing here ever throws on bad input.
 */
import { failure, success, type Result } from '../result.js';
import type { XmlError } from './position.js';
import { checkStartTagLengths, MAX_INPUT_BYTES } from './limits.js';
export { MAX_INPUT_BYTES } from './limits.js';
import { scanXml } from './scanner.js';
import { secondGate } from './second-gate.js';
import type { XmlDocument } from './tree.js';
import { decodeUtf8 } from './utf8.js';

export type { XmlError } from './position.js';
export { formatXmlError } from './position.js';
export { MAX_ATTRIBUTES, MAX_DEPTH, MAX_ELEMENTS } from './scanner.js';

/** Domain XML is a few kilobytes; 16 MiB is far beyond any real file and still cheap to refuse. */

export function parseXml(bytes: Uint8Array): Result<XmlDocument, XmlError> {
  if (bytes.length > MAX_INPUT_BYTES) {
    return failure({ line: 1, column: 1, message: `input is ${bytes.length} bytes, over the limit of ${MAX_INPUT_BYTES} bytes (16 MiB)` });
  }
  const decoded = decodeUtf8(bytes);
  if (!decoded.ok) return decoded;
  const { text, hasBom } = decoded.value;
  const scanned = scanXml(text);
  if (!scanned.ok) return scanned;
  const tooLong = checkStartTagLengths(scanned.value);
  if (tooLong) return failure(tooLong);
  const second = secondGate(text, scanned.value);
  if (!second.ok) return failure({ line: second.line, column: second.column, message: second.message });
  return success({ text, hasBom, root: scanned.value });
}

/** Convenience for tests and callers that already hold a string (it is encoded as UTF-8 first). */
export function parseXmlString(text: string): Result<XmlDocument, XmlError> {
  return parseXml(new TextEncoder().encode(text));
}
