import { describe, expect, it } from 'vitest';
import { parseXmlString } from '../../src/xml/parse.js';
import { scanXml } from '../../src/xml/scanner.js';
import type { XmlElement } from '../../src/xml/tree.js';
import { parseTextOrThrow } from './corpus.js';

/**
 * `⟦` marks where the error must be reported; the expected line:col is counted here by hand-simple
 * rules (LF/CRLF end a line, a column is a code point), independently of the scanner.
 */
function expectErrorAt(marked: string, message: string): void {
  const at = marked.indexOf('⟦');
  expect(at, 'test input needs a ⟦ marker').toBeGreaterThanOrEqual(0);
  const before = marked.slice(0, at);
  const lines = before.split(/\r\n|\n|\r/);
  const line = lines.length;
  const column = [...(lines[lines.length - 1] as string)].length + 1;
  const r = parseXmlString(marked.replace('⟦', ''));
  expect(r.ok, `should be refused: ${JSON.stringify(marked)}`).toBe(false);
  if (r.ok) return;
  expect(r.error.message).toContain(message);
  expect({ line: r.error.line, column: r.error.column }).toEqual({ line, column });
}

describe('the strict gate refuses each kind of malformed input at its exact position', () => {
  it.each([
    ['unclosed element at end of input', "<domain>\n  ⟦<devices>\n", 'is not closed before the end of the input'],
    ['mismatched end tag', '<a>\n  <b>\n  ⟦</a>\n', 'end tag </a> does not match start tag <b> at line 2, column 3'],
    ['end tag before any start tag', '⟦</a>', 'end tag without a matching start tag'],
    ['duplicate attribute', "<disk type='file' ⟦type='block'/>", "duplicate attribute 'type'"],
    ['duplicate attribute, other quote', `<a x='1'\n   ⟦x="1"/>`, "duplicate attribute 'x'"],
    // Looked for in the list up to 8 attributes, in a Set beyond: both ways, the first and a middle one.
    ['duplicate of the first of 8 attributes', `<a ${[...'abcdefgh'].map((n) => `${n}='1'`).join(' ')} ⟦a='2'/>`, "duplicate attribute 'a'"],
    ['duplicate of the first of 20 attributes', `<a ${[...'abcdefghijklmnopqrst'].map((n) => `${n}='1'`).join(' ')} ⟦a='2'/>`, "duplicate attribute 'a'"],
    ['duplicate among 20 attributes', `<a ${[...'abcdefghij'].map((n) => `${n}='1'`).join(' ')} ⟦e='2' ${[...'klmnopqrst'].map((n) => `${n}='1'`).join(' ')}/>`, "duplicate attribute 'e'"],
    ['second root element', '<a/>\n⟦<b/>', 'exactly one root element'],
    ['second root after a comment', '<a></a><!-- c -->⟦<a/>', 'exactly one root element'],
    ['text before the root', '  ⟦hello <a/>', 'text is not allowed before the root element'],
    ['text after the root', '<a/>\n⟦x', 'text is not allowed after the root element'],
    ['entity reference after the root', '<a/>⟦&amp;', 'text is not allowed after the root element'],
    ['no root at all', '<!-- only a comment -->\n⟦', 'no root element'],
    ['empty input', '⟦', 'no root element'],
    ['undefined entity in text', '<a>x ⟦&nbsp; y</a>', 'undefined entity &nbsp;'],
    ['undefined entity in an attribute', "<a b='⟦&foo;'/>", 'undefined entity &foo;'],
    ['entity without semicolon', '<a>⟦&amp </a>', "must end with ';'"],
    ['bare ampersand', '<a>fish ⟦& chips</a>', "'&' must start an entity"],
    ['char ref to NUL', '<a>⟦&#0;</a>', 'not a valid XML character'],
    ['char ref to a control char', '<a>⟦&#x1;</a>', 'not a valid XML character'],
    ['char ref to a surrogate', '<a>⟦&#xDFFF;</a>', 'not a valid XML character'],
    ['char ref to U+FFFE', "<a b='⟦&#65534;'/>", 'not a valid XML character'],
    ['char ref beyond Unicode', '<a>⟦&#x110000;</a>', 'not a valid XML character'],
    ['char ref with a thousand digits', `<a>⟦&#${'9'.repeat(1000)};</a>`, 'not a valid XML character'],
    ['char ref without digits', '<a>⟦&#x;</a>', 'character reference has no hexadecimal digits'],
    ["'<' in an attribute value", "<a b='x⟦<y'/>", "'<' is not allowed in an attribute value"],
    ['unclosed attribute value', "<a b=⟦'x/>", 'attribute value is not closed'],
    ['unquoted attribute value', '<a b=⟦x/>', 'must be in quotes'],
    ['attribute without value', '<a b⟦/>', "attribute 'b' needs '='"],
    ['no whitespace between attributes', "<a b='1'⟦c='2'/>", 'whitespace is required before an attribute'],
    ['control character in text', '<a>\n x⟦\u0007</a>', 'character U+0007 is not allowed in XML'],
    ['control character in a comment', '<!-- ⟦\u0000 --><a/>', 'character U+0000 is not allowed in XML'],
    ['U+FFFF in an attribute', "<a b='⟦\uffff'/>", 'character U+FFFF is not allowed in XML'],
    ['name starting with a digit', '<⟦1a/>', 'invalid element name'],
    ['name starting with a hyphen', "<a ⟦-b='1'/>", 'invalid attribute name'],
    ['space after <', '<⟦ a/>', 'invalid element name'],
    ['bad end tag name', '<a></⟦ a>', 'invalid element name'],
    ["']]>' in text", '<a>x ⟦]]> y</a>', "']]>' is not allowed in text"],
    ["'--' inside a comment", '<a><!-- a ⟦-- b --></a>', "'--' is not allowed inside a comment"],
    ['comment ending in --->', '<a><!-- a ⟦---></a>', "'--' is not allowed inside a comment"],
    ['unclosed comment', '<a>⟦<!-- forever</a>', 'comment is not closed'],
    ['unclosed CDATA', '<a>⟦<![CDATA[ forever</a>', 'CDATA section is not closed'],
    ['CDATA outside the root', '⟦<![CDATA[x]]><a/>', 'CDATA section is not allowed outside the root element'],
    ['unknown <! markup', '<a>⟦<!ELEMENT a ANY></a>', "'<!' must start a comment"],
    ['PI without whitespace after target', '<a>⟦<?pi"data"?></a>'.replace('⟦<?pi', '<?pi⟦'), "expected whitespace or '?>'"],
    ['unclosed PI', '<a/>⟦<?pi data', 'processing instruction is not closed'],
    ['XML declaration not at the start', '\n⟦<?xml version="1.0"?><a/>', 'only allowed at the very start'],
    ['XML declaration after a BOM and a space', ' ⟦<?xml version="1.0"?><a/>', 'only allowed at the very start'],
    ['reserved PI target', '<?xml version="1.0"?><a><?⟦XmL x?></a>', "target 'XmL' is reserved"],
    ['declaration without version', '<?xml ⟦encoding="UTF-8"?><a/>', "'version' must come first"],
    ['declaration with version 1.1', '<?xml version="⟦1.1"?><a/>', "version '1.1' is not supported"],
    ['declaration with unknown pseudo-attribute', '<?xml version="1.0" ⟦foo="bar"?><a/>', "unexpected 'foo'"],
    ['declaration out of order', '<?xml version="1.0" standalone="yes" ⟦encoding="UTF-8"?><a/>', 'out of order'],
    ['declaration with bad standalone', '<?xml version="1.0" standalone="⟦maybe"?><a/>', "standalone must be 'yes' or 'no'"],
    ['declaration with another encoding', "<?xml version='1.0' encoding='⟦UTF-16'?><a/>", "encoding 'UTF-16' is not supported"],
    ['declaration not closed', '⟦<?xml version="1.0"', 'XML declaration is not closed'],
    ['DOCTYPE in the prolog', '<?xml version="1.0"?>\n⟦<!DOCTYPE domain><domain/>', 'DOCTYPE is not allowed'],
    ['DOCTYPE in lower case', '⟦<!doctype a><a/>', 'DOCTYPE is not allowed'],
    ['DOCTYPE inside content', '<a>⟦<!DOCTYPE a></a>', 'DOCTYPE is not allowed'],
    ['start tag cut off', "<a>\n  ⟦<b c='1'", 'start tag <b> is not closed before the end of the input'],
    ["'<' inside a start tag", '<a ⟦<b/>', "'<' found before '>'"],
    ['slash not followed by >', '<a ⟦/ >', "expected '/>'"],
    ['end tag not closed', '<a></a⟦', "expected '>' to close end tag </a>"],
    ['error after CRLF lines', '<a>\r\n<b>\r\n⟦</a>', 'does not match'],
    ['error after lone CR lines', '<a>\r<b>\r⟦</a>', 'does not match'],
    ['column counts a non-BMP character once', '<a t="\u{1F600}\u{1F600}" ⟦t="x"/>', "duplicate attribute 't'"],
  ])('%s', (_name, marked, message) => expectErrorAt(marked, message));
});

describe('text that cannot come from UTF-8 bytes', () => {
  it('refuses a lone surrogate handed to the scanner directly', () => {
    const r = scanXml('<a>x\ud800</a>');
    expect(r.ok ? 'ok' : r.error).toEqual({ line: 1, column: 5, message: 'character U+D800 is not allowed in XML' });
  });
});

describe('well-formed input is accepted and mapped to a tree with exact offsets', () => {
  const text =
    "<?xml version='1.0' encoding='UTF-8'?>\n<!-- c -->\n<?pi x?>\n<domain type='kvm' xmlns:q=\"urn:q\">\r\n" +
    "  <disk type=\"file\"><source file='/a&amp;b&apos;c&#x41;&#66;'/></disk>\n" +
    "  <q:x>t&lt;1<![CDATA[<raw>&amp;]]><!-- not text -->2</q:x>\n" +
    "  <e\n    a = 'tab\there\r\nline&#10;kept' ></e >\n</domain>\n<!-- after -->\n";
  const doc = parseTextOrThrow(text);
  const [disk, x, e] = doc.root.children as [XmlElement, XmlElement, XmlElement];
  const source = disk.children[0] as XmlElement;

  it('records names, attribute values (references decoded) and quotes', () => {
    expect(doc.root.name).toBe('domain');
    expect(doc.root.attributes).toEqual([
      { name: 'type', value: 'kvm', quote: "'" },
      { name: 'xmlns:q', value: 'urn:q', quote: '"' },
    ]);
    expect(disk.attributes[0]).toEqual({ name: 'type', value: 'file', quote: '"' });
    expect(source.attributes[0]).toEqual({ name: 'file', value: "/a&b'cAB", quote: "'" });
    expect(x.name).toBe('q:x');
  });

  it('normalises attribute whitespace but keeps character references (XML 1.0 section 3.3.3)', () => {
    expect(e.attributes[0]?.value).toBe('tab here line\nkept');
  });

  it('decodes text and CDATA, excluding comments', () => {
    expect(x.text).toBe('t<1<raw>&amp;2');
  });

  it('gives offsets that slice out exactly the tags', () => {
    expect(text.slice(source.start, source.end)).toBe("<source file='/a&amp;b&apos;c&#x41;&#66;'/>");
    expect(source.selfClosing).toBe(true);
    expect(source.endTagStart).toBe(source.startTagEnd);
    expect(text.slice(disk.start, disk.startTagEnd)).toBe('<disk type="file">');
    expect(text.slice(disk.endTagStart, disk.end)).toBe('</disk>');
    expect(text.slice(e.endTagStart, e.end)).toBe('</e >');
    expect(text.slice(doc.root.start, doc.root.startTagEnd)).toBe("<domain type='kvm' xmlns:q=\"urn:q\">");
    expect(text.slice(doc.root.endTagStart, doc.root.end)).toBe('</domain>');
  });

  it('gives 1-based line and column of every start tag', () => {
    expect([doc.root.line, doc.root.column]).toEqual([4, 1]);
    expect([disk.line, disk.column]).toEqual([5, 3]);
    expect([source.line, source.column]).toEqual([5, 21]);
    expect([e.line, e.column]).toEqual([7, 3]);
  });

  it('accepts the forms XML allows and libvirt files contain', () => {
    for (const ok of [
      '<a/>',
      '<a></a>',
      '<a\n/>',
      '<a b="x\'y" c=\'x"y\'/>',
      '<a><!----></a>',
      '<a><![CDATA[]]></a>',
      '<a>]]</a>',
      '<a>></a>',
      '<a>&#x10FFFF;&#9;&#xD;&#10;</a>',
      '<?xml version="1.0"?><a/>',
      '<?xml version="1.0" encoding="utf-8" standalone="no" ?><a/>',
      '<?xml-stylesheet href="x"?><a/>',
      '<?pi?><a><?pi?></a><?pi?>',
      '<é:ü xmlns:é="u" ü-.·="1"/>',
      '<\u{10000}\u{EFFFF} \u{10000}="1"/>',
      '\n\t <a/> \n',
    ]) {
      const r = parseXmlString(ok);
      expect(r.ok ? 'ok' : `${r.error.line}:${r.error.column} ${r.error.message}`, ok).toBe('ok');
    }
  });
});
