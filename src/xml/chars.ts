/**
 * Character classes of XML 1.0 (fifth edition), by code point. Kept as plain range checks rather than
 * regular expressions so every test is O(1) and cannot backtrack on hostile input.
 */

/** `S ::= (#x20 | #x9 | #xD | #xA)+` */
export function isXmlWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** `Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]` */
export function isXmlChar(codePoint: number): boolean {
  if (codePoint < 0x20) return codePoint === 0x09 || codePoint === 0x0a || codePoint === 0x0d;
  if (codePoint <= 0xd7ff) return true;
  if (codePoint < 0xe000) return false;
  if (codePoint <= 0xfffd) return true;
  return codePoint >= 0x10000 && codePoint <= 0x10ffff;
}

export function isNameStartChar(cp: number): boolean {
  if (cp < 0x80) {
    return (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a) || cp === 0x5f || cp === 0x3a;
  }
  return (
    (cp >= 0xc0 && cp <= 0xd6) ||
    (cp >= 0xd8 && cp <= 0xf6) ||
    (cp >= 0xf8 && cp <= 0x2ff) ||
    (cp >= 0x370 && cp <= 0x37d) ||
    (cp >= 0x37f && cp <= 0x1fff) ||
    (cp >= 0x200c && cp <= 0x200d) ||
    (cp >= 0x2070 && cp <= 0x218f) ||
    (cp >= 0x2c00 && cp <= 0x2fef) ||
    (cp >= 0x3001 && cp <= 0xd7ff) ||
    (cp >= 0xf900 && cp <= 0xfdcf) ||
    (cp >= 0xfdf0 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0xeffff)
  );
}

export function isNameChar(cp: number): boolean {
  if (isNameStartChar(cp)) return true;
  return (
    cp === 0x2d ||
    cp === 0x2e ||
    (cp >= 0x30 && cp <= 0x39) ||
    cp === 0xb7 ||
    (cp >= 0x300 && cp <= 0x36f) ||
    (cp >= 0x203f && cp <= 0x2040)
  );
}

/**
 * The code point at a UTF-16 index (a lone surrogate comes back as itself, which isXmlChar rejects).
 * Callers advance by `codePointWidth` so surrogate pairs count as one character.
 */
export function codePointAt(text: string, index: number): number {
  return text.codePointAt(index) ?? -1;
}

export function codePointWidth(codePoint: number): 1 | 2 {
  return codePoint > 0xffff ? 2 : 1;
}
