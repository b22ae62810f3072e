/**
 * Bytes to a libvirt domain: the XML gate, then the domain model. The one way every command and the hook
 * read a domain document, so they all refuse the same input with the same position.
 */
import type { Result } from '../result.js';
import { failure, success } from '../result.js';
import { parseXml } from '../xml/parse.js';
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
  const parsed = parseXml(bytes);
  if (!parsed.ok) return failure({ line: parsed.error.line, column: parsed.error.column, message: parsed.error.message });
  const domain = parseDomain(parsed.value.root);
  if (!domain.ok) return failure(domain.error);
  return success({ doc: parsed.value, domain: { ...domain.value, xml: parsed.value.text } });
}
