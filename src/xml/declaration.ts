/**
 * The XML declaration `<?xml version='1.0' encoding='UTF-8' standalone='no'?>`: the fixed order of its
 * pseudo-attributes is checked, and any encoding other than UTF-8 is refused, because the bytes were
 * decoded as UTF-8 and a file that says otherwise would be misread.
 */
import { isXmlWhitespace } from './chars.js';

export interface DeclarationProblem {
  /** Offset inside the declaration body (the text between `<?xml` and `?>`). */
  readonly offset: number;
  readonly message: string;
}

const ORDER = ['version', 'encoding', 'standalone'] as const;
type PseudoAttribute = (typeof ORDER)[number];

/** Returns undefined when the declaration body is well-formed and acceptable. */
export function parseXmlDeclaration(body: string): DeclarationProblem | undefined {
  let pos = 0;
  let lastIndex = -1;
  for (;;) {
    const spaceStart = pos;
    while (pos < body.length && isXmlWhitespace(body.charCodeAt(pos))) pos++;
    if (pos === body.length) break;
    if (pos === spaceStart) return { offset: pos, message: 'XML declaration: whitespace is required between pseudo-attributes' };
    const nameStart = pos;
    while (pos < body.length && /[a-z]/.test(body[pos] as string)) pos++;
    const name = body.slice(nameStart, pos);
    const index = ORDER.indexOf(name as PseudoAttribute);
    if (index < 0) {
      return { offset: nameStart, message: `XML declaration: unexpected '${name || body[nameStart]}' (only version, encoding, standalone, in that order)` };
    }
    if (index <= lastIndex) return { offset: nameStart, message: `XML declaration: '${name}' is repeated or out of order (version, encoding, standalone)` };
    if (lastIndex < 0 && index !== 0) return { offset: nameStart, message: "XML declaration: 'version' must come first" };
    lastIndex = index;
    while (pos < body.length && isXmlWhitespace(body.charCodeAt(pos))) pos++;
    if (body[pos] !== '=') return { offset: pos, message: `XML declaration: expected '=' after '${name}'` };
    pos++;
    while (pos < body.length && isXmlWhitespace(body.charCodeAt(pos))) pos++;
    const quote = body[pos];
    if (quote !== '"' && quote !== "'") return { offset: pos, message: `XML declaration: the value of '${name}' must be in quotes` };
    const valueStart = pos + 1;
    const valueEnd = body.indexOf(quote, valueStart);
    if (valueEnd < 0) return { offset: pos, message: `XML declaration: the value of '${name}' is not closed` };
    const problem = checkValue(name as PseudoAttribute, body.slice(valueStart, valueEnd));
    if (problem !== undefined) return { offset: valueStart, message: `XML declaration: ${problem}` };
    pos = valueEnd + 1;
  }
  if (lastIndex < 0) return { offset: 0, message: "XML declaration: 'version' is required" };
  return undefined;
}

function checkValue(name: PseudoAttribute, value: string): string | undefined {
  switch (name) {
    case 'version':
      // XML 1.1 changes which characters are allowed; this gate implements 1.0 only.
      return value === '1.0' ? undefined : `version '${value}' is not supported (only 1.0)`;
    case 'encoding':
      if (!/^[A-Za-z][A-Za-z0-9._-]*$/.test(value)) return `'${value}' is not an encoding name`;
      return value.toLowerCase() === 'utf-8' ? undefined : `encoding '${value}' is not supported: the input must be UTF-8 and say so (or say nothing)`;
    case 'standalone':
      return value === 'yes' || value === 'no' ? undefined : `standalone must be 'yes' or 'no', not '${value}'`;
  }
}
