/**
 * Defence in depth: fast-xml-parser's XMLValidator runs after the scanner accepted a document. The
 * scanner is the authority; this gate can only refuse more, never accept what the scanner refused.
 *
 * Where XMLValidator 5.x differs from XML 1.0 (found by test/xml/second-gate.test.ts):
 * - lenient (the scanner catches these first): any DOCTYPE and internal subset; '<' in attribute
 *   values; undefined entities and '&' in attribute values; '&' followed by a name and ';' in text
 *   whatever the name (&foo;) and character references to invalid characters (&#0;); '--' inside
 *   comments and a comment left open after the root; ']]>' in text; several self-closing roots (<a/><b/>);
 *   forbidden characters (U+0000-U+001F, U+FFFE); XML declarations that are malformed or name another
 *   encoding; PI targets spelling xml in another case.
 * - wrong (refuses well-formed XML): element and attribute names containing a character outside the
 *   Basic Multilingual Plane (U+10000-U+EFFFF are NameChars, but its name regex lacks the 'u' flag, so
 *   it sees two surrogates), and entity references longer than 20 characters (none exist without a DTD,
 *   so that one cannot matter). A refusal in the first case is overruled here; libvirt's own element
 *   and attribute names are ASCII, so valid libvirt XML is never affected.
 */
import { XMLValidator } from 'fast-xml-parser';
import type { XmlElement } from './tree.js';

export type SecondGateVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly line: number; readonly column: number; readonly message: string };

export function secondGate(text: string, root: XmlElement): SecondGateVerdict {
  const verdict = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (verdict === true) return { ok: true };
  if (hasNameOutsideBmp(root)) return { ok: true }; // its known false refusal, see above
  const { line, col, msg } = verdict.err;
  return { ok: false, line, column: col, message: `second XML gate (fast-xml-parser) refuses this document: ${msg}` };
}

function hasNameOutsideBmp(root: XmlElement): boolean {
  const pending: XmlElement[] = [root];
  for (let el = pending.pop(); el !== undefined; el = pending.pop()) {
    if (hasSurrogate(el.name) || el.attributes.some((a) => hasSurrogate(a.name))) return true;
    for (const c of el.children) pending.push(c); // no spread: huge child lists would overflow the stack
  }
  return false;
}

function hasSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return true;
  }
  return false;
}
