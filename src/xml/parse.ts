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
  const scanned = scanXmlBytes(bytes);
  return scanned.ok ? scanned.value.secondGate() : scanned;
}

/**
 * The scanner's verdict, with the second gate still to run: parseXml is exactly this followed by
 * secondGate(). For a caller that acts on the document in some outcomes only (the hook lets most starts
 * go on without a word) and runs the gate before any of them; everyone else calls parseXml.
 */
export interface ScannedXml {
  readonly doc: XmlDocument;
  /** The document if fast-xml-parser's validator accepts it too, else its refusal (computed once). */
  secondGate(): Result<XmlDocument, XmlError>;
}

export function scanXmlBytes(bytes: Uint8Array): Result<ScannedXml, XmlError> {
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
  const doc: XmlDocument = { text, hasBom, root: scanned.value };
  let verdict: Result<XmlDocument, XmlError> | undefined;
  return success({
    doc,
    secondGate() {
      if (verdict === undefined) {
        const second = secondGate(text, doc.root);
        verdict = second.ok ? success(doc) : failure({ line: second.line, column: second.column, message: second.message });
      }
      return verdict;
    },
  });
}

/** Convenience for tests and callers that already hold a string (it is encoded as UTF-8 first). */
export function parseXmlString(text: string): Result<XmlDocument, XmlError> {
  return parseXml(new TextEncoder().encode(text));
}
