/**
 * Bytes to a libvirt domain: the XML gate, then the domain model. The one way every command and the hook
 * read a domain document, so they all refuse the same input with the same position.
 */
import type { Result } from '../result.js';
import { failure, success } from '../result.js';
import { scanXmlBytes, type XmlError } from '../xml/parse.js';
import type { XmlDocument } from '../xml/tree.js';
import type { Domain } from './model.js';
import { parseDomain } from './parse.js';

export interface ReadDomain {
  readonly doc: XmlDocument;
  readonly domain: Domain;
}

/** Where the document was refused: 1-based line, column in code points, and why. */
export interface DomainReadError {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export function readDomainXml(bytes: Uint8Array): Result<ReadDomain, DomainReadError> {
  const read = readDomainXmlGateLater(bytes);
  if (!read.ok) return read;
  const gate = read.value.secondGate();
  return gate.ok ? success({ doc: read.value.doc, domain: read.value.domain }) : gate;
}

/** readDomainXml with XML's second gate left to the caller (xml/parse.ts, ScannedXml): the hook's read. */
export interface ScannedDomain extends ReadDomain {
  secondGate(): Result<void, DomainReadError>;
}

export function readDomainXmlGateLater(bytes: Uint8Array): Result<ScannedDomain, DomainReadError> {
  const scanned = scanXmlBytes(bytes);
  if (!scanned.ok) return failure(readError(scanned.error));
  const { doc } = scanned.value;
  const domain = parseDomain(doc.root);
  const gateError = (): DomainReadError | undefined => {
    const g = scanned.value.secondGate();
    return g.ok ? undefined : readError(g.error);
  };
  // A refusal is said: the gate's comes first, as in parseXml followed by parseDomain.
  if (!domain.ok) return failure(gateError() ?? domain.error);
  return success({
    doc,
    domain: { ...domain.value, xml: doc.text },
    secondGate() {
      const e = gateError();
      return e === undefined ? success(undefined) : failure(e);
    },
  });
}

const readError = (e: XmlError): DomainReadError => ({ line: e.line, column: e.column, message: e.message });
