/**
 * The strict well-formedness gate: a hand-written, single-pass scanner over the decoded text that
 * builds the element tree with exact offsets. It is the authority on what is well-formed XML here.
 *
 * Deliberately small: XML 1.0 without any DTD. A DOCTYPE is refused outright, so no entity can ever
 * be declared, expanded or fetched; only the five predefined entities and character references exist.
 * Every loop moves forward and every terminator search is an indexOf, so time is linear in the input
 * and hostile input cannot trigger backtracking.
 */
import { failure, success, type Result } from '../result.js';
import { codePointAt, codePointWidth, isNameChar, isNameStartChar, isXmlChar, isXmlWhitespace } from './chars.js';
import { MAX_NAME_LENGTH } from './limits.js';
import { errorAt, LineCounter, type XmlError } from './position.js';
import type { Quote, XmlAttribute, XmlElement } from './tree.js';
import { parseXmlDeclaration } from './declaration.js';

/** Deeper nesting is refused: libvirt XML is about 8 levels deep; recursion in consumers stays safe. */
export const MAX_DEPTH = 256;
/**
 * A domain has a few hundred elements. Bounding the counts bounds memory (each element is an object)
 * and time: 16 MiB of `<a/>` would otherwise be four million objects and a gigabyte of heap.
 */
export const MAX_ELEMENTS = 100_000;
export const MAX_ATTRIBUTES = 200_000;
/** Up to this many attributes in one start tag, a duplicate is looked for in the list itself. */
const FEW_ATTRIBUTES = 8;

const PREDEFINED_ENTITIES: ReadonlyMap<string, string> = new Map([
  ['lt', '<'],
  ['gt', '>'],
  ['amp', '&'],
  ['apos', "'"],
  ['quot', '"'],
]);

const LT = 0x3c;
const GT = 0x3e;
const AMP = 0x26;
const SLASH = 0x2f;
const BANG = 0x21;
const QUESTION = 0x3f;
const EQUALS = 0x3d;
const HASH = 0x23;
const SEMICOLON = 0x3b;
const RIGHT_BRACKET = 0x5d;

/** Thrown inside the scanner only; scanXml turns it into a value. */
class ScanError {
  constructor(
    readonly offset: number,
    readonly message: string,
    /** The error is a second document starting here (a stream such as `virt-install --print-xml`). */
    readonly nextDocument = false,
  ) {}
}

interface OpenElement {
  readonly name: string;
  readonly attributes: readonly XmlAttribute[];
  readonly children: XmlElement[];
  /** Character data so far (V8 joins repeated += cheaply). */
  text: string;
  readonly start: number;
  readonly startTagEnd: number;
  readonly selfClosing: boolean;
  readonly line: number;
  readonly column: number;
}

export function scanXml(text: string): Result<XmlElement, XmlError> {
  let root: XmlElement | undefined;
  let scanError: ScanError | undefined;
  try {
    root = new Scanner(text).document();
  } catch (e) {
    if (!(e instanceof ScanError)) throw e;
    scanError = e;
  }
  // Characters XML forbids anywhere are found by one separate pass; the earlier of the two errors wins,
  // so the message names the real culprit when a control character also confused the structure.
  const bad = firstForbiddenChar(text);
  if (bad >= 0 && (scanError === undefined || bad <= scanError.offset)) {
    return failure(errorAt(text, bad, `character ${describeCodePoint(codePointAt(text, bad))} is not allowed in XML`));
  }
  if (scanError !== undefined) {
    const error = errorAt(text, scanError.offset, scanError.message);
    return failure(scanError.nextDocument ? { ...error, nextDocumentAt: scanError.offset } : error);
  }
  if (root === undefined) throw new Error('scanner returned neither a root nor an error');
  return success(root);
}

/** Offset of the first code point outside XML's Char production, or -1. */
export function firstForbiddenChar(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0xd800) continue;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return i;
    }
    if (!isXmlChar(c)) return i;
  }
  return -1;
}

export function describeCodePoint(cp: number): string {
  if (cp < 0) return 'end of input';
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return cp > 0x20 && cp < 0x7f ? `'${String.fromCodePoint(cp)}'` : hex;
}

class Scanner {
  private pos = 0;
  private elements = 0;
  private attributes = 0;
  private readonly stack: OpenElement[] = [];
  private readonly lines: LineCounter;

  constructor(private readonly text: string) {
    this.lines = new LineCounter(text);
  }

  document(): XmlElement {
    this.xmlDeclaration();
    this.misc('prolog');
    if (this.pos >= this.text.length) this.fail(this.pos, 'no root element');
    const root = this.rootElement();
    this.misc('epilog');
    return root;
  }

  private fail(offset: number, message: string): never {
    throw new ScanError(offset, message);
  }

  private code(offset = this.pos): number {
    return offset < this.text.length ? this.text.charCodeAt(offset) : -1;
  }

  private startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }

  /** Returns whether any whitespace was skipped. */
  private skipWhitespace(): boolean {
    const from = this.pos;
    while (isXmlWhitespace(this.code())) this.pos++;
    return this.pos > from;
  }

  private xmlDeclaration(): void {
    if (!this.text.startsWith('<?xml')) return;
    const next = this.code(5);
    if (!(isXmlWhitespace(next) || next === QUESTION)) return; // a PI such as <?xml-stylesheet?>
    const end = this.text.indexOf('?>', 5);
    if (end < 0) this.fail(0, 'XML declaration is not closed (missing ?>)');
    const problem = parseXmlDeclaration(this.text.slice(5, end));
    if (problem !== undefined) this.fail(5 + problem.offset, problem.message);
    this.pos = end + 2;
  }

  /** Comments, PIs and whitespace around the root; stops at the root's start tag in the prolog. */
  private misc(where: 'prolog' | 'epilog'): void {
    while (this.pos < this.text.length) {
      const c = this.code();
      if (isXmlWhitespace(c)) {
        this.pos++;
      } else if (c !== LT) {
        this.fail(this.pos, `text is not allowed ${where === 'prolog' ? 'before' : 'after'} the root element`);
      } else if (this.startsWith('<!--')) {
        this.comment();
      } else if (where === 'epilog' && /^<\?xml[\t\n\r ]/.test(this.text.slice(this.pos, this.pos + 6))) {
        throw new ScanError(this.pos, 'the XML declaration is only allowed at the very start of the document', true);
      } else if (this.startsWith('<?')) {
        this.processingInstruction();
      } else if (this.code(this.pos + 1) === BANG) {
        this.markupDeclaration();
      } else if (this.code(this.pos + 1) === SLASH) {
        this.fail(this.pos, 'end tag without a matching start tag');
      } else if (where === 'prolog') {
        return;
      } else {
        throw new ScanError(this.pos, 'a document has exactly one root element; this is a second one', true);
      }
    }
  }

  /** `<!` that is neither a comment nor (in content) CDATA. */
  private markupDeclaration(): never {
    if (this.text.slice(this.pos, this.pos + 9).toUpperCase() === '<!DOCTYPE') {
      this.fail(this.pos, 'DOCTYPE is not allowed (no DTD, entity declaration or external entity is processed)');
    }
    if (this.startsWith('<![CDATA[')) this.fail(this.pos, 'CDATA section is not allowed outside the root element');
    this.fail(this.pos, "'<!' must start a comment '<!--' or a CDATA section '<![CDATA['");
  }

  private rootElement(): XmlElement {
    const first = this.startTag();
    if (first.selfClosing) return closeElement(first, first.startTagEnd, first.startTagEnd);
    this.stack.push(first);
    for (;;) {
      const top = this.stack[this.stack.length - 1] as OpenElement;
      const c = this.code();
      if (c < 0) {
        this.fail(top.start, `element <${top.name}> at line ${top.line}, column ${top.column} is not closed before the end of the input`);
      } else if (c === AMP) {
        top.text += this.reference();
      } else if (c !== LT) {
        top.text += this.charData();
      } else if (this.code(this.pos + 1) === SLASH) {
        const endTagStart = this.pos;
        this.endTag(top);
        this.stack.pop();
        const element = closeElement(top, endTagStart, this.pos);
        const parent = this.stack[this.stack.length - 1];
        if (parent === undefined) return element;
        parent.children.push(element);
      } else if (this.startsWith('<!--')) {
        this.comment();
      } else if (this.startsWith('<![CDATA[')) {
        top.text += this.cdata();
      } else if (this.code(this.pos + 1) === BANG) {
        this.markupDeclaration();
      } else if (this.code(this.pos + 1) === QUESTION) {
        this.processingInstruction();
      } else {
        const child = this.startTag();
        if (child.selfClosing) top.children.push(closeElement(child, child.startTagEnd, child.startTagEnd));
        else this.stack.push(child);
      }
    }
  }

  private startTag(): OpenElement {
    const start = this.pos;
    if (this.stack.length + 1 > MAX_DEPTH) this.fail(start, `elements are nested deeper than ${MAX_DEPTH} levels`);
    if (++this.elements > MAX_ELEMENTS) this.fail(start, `more than ${MAX_ELEMENTS} elements`);
    this.pos++;
    const name = this.name('element name');
    const attributes: XmlAttribute[] = [];
    // Duplicates are looked for in the list itself while it is short (libvirt's elements have a few
    // attributes: no Set per element at every hook start), in a Set once it is long (hostile input stays linear).
    let seen: Set<string> | undefined;
    for (;;) {
      const hadWhitespace = this.skipWhitespace();
      const c = this.code();
      if (c === GT || (c === SLASH && this.code(this.pos + 1) === GT)) {
        this.pos += c === GT ? 1 : 2;
        const { line, column } = this.lines.at(start);
        return { name, attributes, children: [], text: '', start, startTagEnd: this.pos, selfClosing: c === SLASH, line, column };
      }
      if (c < 0) this.fail(start, `start tag <${name}> is not closed before the end of the input`);
      if (c === SLASH) this.fail(this.pos, `expected '/>' in start tag <${name}>`);
      if (c === LT) this.fail(this.pos, `start tag <${name}> is not closed: '<' found before '>'`);
      if (!hadWhitespace) this.fail(this.pos, `whitespace is required before an attribute in <${name}>, found ${describeCodePoint(codePointAt(this.text, this.pos))}`);
      const nameAt = this.pos;
      if (++this.attributes > MAX_ATTRIBUTES) this.fail(nameAt, `more than ${MAX_ATTRIBUTES} attributes`);
      const attrName = this.name('attribute name');
      if (seen === undefined && attributes.length >= FEW_ATTRIBUTES) seen = new Set(attributes.map((a) => a.name));
      if (seen ? seen.has(attrName) : attributes.some((a) => a.name === attrName)) this.fail(nameAt, `duplicate attribute '${attrName}' in <${name}>`);
      seen?.add(attrName);
      this.skipWhitespace();
      if (this.code() !== EQUALS) this.fail(this.pos, `attribute '${attrName}' needs '=' and a quoted value`);
      this.pos++;
      this.skipWhitespace();
      const quote = this.text[this.pos];
      if (quote !== '"' && quote !== "'") this.fail(this.pos, `the value of attribute '${attrName}' must be in quotes`);
      attributes.push({ name: attrName, value: this.attributeValue(quote), quote });
    }
  }

  private endTag(open: OpenElement): void {
    const lt = this.pos;
    this.pos += 2;
    const name = this.name('element name');
    this.skipWhitespace();
    if (this.code() !== GT) this.fail(this.pos, `expected '>' to close end tag </${name}>`);
    this.pos++;
    if (name !== open.name) {
      this.fail(lt, `end tag </${name}> does not match start tag <${open.name}> at line ${open.line}, column ${open.column}`);
    }
  }

  private name(what: string): string {
    const start = this.pos;
    let cp = codePointAt(this.text, this.pos);
    if (!isNameStartChar(cp)) this.fail(this.pos, `invalid ${what}: it cannot start with ${describeCodePoint(cp)}`);
    do {
      this.pos += codePointWidth(cp);
      cp = codePointAt(this.text, this.pos);
      // Stop at the limit instead of walking megabytes of a hostile name (test/hardening/attacks.test.ts).
      if (this.pos - start > MAX_NAME_LENGTH) this.fail(start, `${what} is longer than ${MAX_NAME_LENGTH} characters`);
    } while (cp >= 0 && isNameChar(cp));
    return this.text.slice(start, this.pos);
  }

  /** Decodes references and applies attribute-value normalisation (every literal whitespace becomes a space). */
  private attributeValue(quote: Quote): string {
    const open = this.pos;
    this.pos++;
    // Found with the engine's own search rather than a character at a time in cold code (the hook parses
    // libvirt's XML at every VM start), each position once, so the cost stays linear in the value:
    // the closing quote (no reference spells one: &quot; and &#34; put no quote in the text) and the first
    // '<' before it are looked for once; '&' run by run, each search ending at the next '&'.
    const close = this.text.indexOf(quote, this.pos);
    const end = close < 0 ? this.text.length : close;
    const ltAt = this.text.slice(this.pos, end).indexOf('<');
    const lt = ltAt < 0 ? -1 : this.pos + ltAt;
    const parts: string[] = [];
    for (;;) {
      const stop = lt >= 0 ? lt : end;
      const ampAt = this.text.slice(this.pos, stop).indexOf('&');
      if (ampAt < 0) {
        if (lt >= 0) this.fail(lt, "'<' is not allowed in an attribute value (write &lt;)");
        if (close < 0) this.fail(open, 'attribute value is not closed before the end of the input');
        parts.push(normaliseAttributeWhitespace(this.text.slice(this.pos, close)));
        this.pos = close + 1;
        return parts.length === 1 ? parts[0]! : parts.join('');
      }
      parts.push(normaliseAttributeWhitespace(this.text.slice(this.pos, this.pos + ampAt)));
      this.pos += ampAt;
      parts.push(this.reference());
    }
  }

  private reference(): string {
    const amp = this.pos;
    this.pos++;
    if (this.code() === HASH) return this.characterReference(amp);
    if (!isNameStartChar(codePointAt(this.text, this.pos))) {
      this.fail(amp, "'&' must start an entity or character reference (write &amp; for a literal '&')");
    }
    const name = this.name('entity name');
    if (this.code() !== SEMICOLON) this.fail(amp, `entity reference &${name} must end with ';'`);
    this.pos++;
    const value = PREDEFINED_ENTITIES.get(name);
    if (value === undefined) {
      this.fail(amp, `undefined entity &${name}; (only &lt; &gt; &amp; &apos; &quot; and character references exist without a DTD)`);
    }
    return value;
  }

  private characterReference(amp: number): string {
    this.pos++;
    const hex = this.code() === 0x78; // 'x'
    if (hex) this.pos++;
    let value = 0;
    let digits = 0;
    for (;;) {
      const d = digitValue(this.code(), hex);
      if (d < 0) break;
      // Saturate instead of growing: a million digits stay one small number that isXmlChar rejects.
      value = Math.min(value * (hex ? 16 : 10) + d, 0x110000);
      digits++;
      this.pos++;
    }
    if (digits === 0) this.fail(amp, `character reference has no ${hex ? 'hexadecimal ' : ''}digits`);
    if (this.code() !== SEMICOLON) this.fail(amp, "character reference must end with ';'");
    this.pos++;
    if (!isXmlChar(value)) {
      const shown = this.text.slice(amp, Math.min(this.pos, amp + 20));
      this.fail(amp, `character reference ${shown}${this.pos > amp + 20 ? '…' : ''} is not a valid XML character`);
    }
    return String.fromCodePoint(value);
  }

  private charData(): string {
    const start = this.pos;
    for (;;) {
      const c = this.code();
      if (c < 0 || c === LT || c === AMP) break;
      if (c === RIGHT_BRACKET && this.startsWith(']]>')) this.fail(this.pos, "']]>' is not allowed in text (write ]]&gt;)");
      this.pos++;
    }
    return normaliseLineEnds(this.text.slice(start, this.pos));
  }

  private comment(): void {
    const open = this.pos;
    const dashes = this.text.indexOf('--', open + 4);
    if (dashes < 0) this.fail(open, 'comment is not closed (missing -->)');
    if (this.code(dashes + 2) !== GT) this.fail(dashes, "'--' is not allowed inside a comment");
    this.pos = dashes + 3;
  }

  private cdata(): string {
    const open = this.pos;
    const end = this.text.indexOf(']]>', open + 9);
    if (end < 0) this.fail(open, 'CDATA section is not closed (missing ]]>)');
    this.pos = end + 3;
    return normaliseLineEnds(this.text.slice(open + 9, end));
  }

  private processingInstruction(): void {
    const open = this.pos;
    this.pos += 2;
    const target = this.name('processing instruction target');
    if (target === 'xml') this.fail(open, 'the XML declaration is only allowed at the very start of the document');
    if (target.toLowerCase() === 'xml') this.fail(open + 2, `processing instruction target '${target}' is reserved`);
    if (this.startsWith('?>')) {
      this.pos += 2;
      return;
    }
    if (!isXmlWhitespace(this.code())) this.fail(this.pos, `expected whitespace or '?>' after processing instruction target '${target}'`);
    const end = this.text.indexOf('?>', this.pos);
    if (end < 0) this.fail(open, 'processing instruction is not closed (missing ?>)');
    this.pos = end + 2;
  }
}

function closeElement(open: OpenElement, endTagStart: number, end: number): XmlElement {
  return {
    name: open.name,
    attributes: open.attributes,
    children: open.children,
    text: open.text,
    start: open.start,
    startTagEnd: open.startTagEnd,
    endTagStart,
    end,
    selfClosing: open.selfClosing,
    line: open.line,
    column: open.column,
  };
}

function digitValue(c: number, hex: boolean): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (!hex) return -1;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** XML end-of-line handling: CRLF and lone CR read as LF. */
function normaliseLineEnds(s: string): string {
  return s.includes('\r') ? s.replace(/\r\n?/g, '\n') : s;
}

function normaliseAttributeWhitespace(s: string): string {
  return s.replace(/\r\n|[\t\n\r]/g, ' ');
}
