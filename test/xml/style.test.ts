import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectDominantQuote, detectIndentUnit, detectLineEnding, linePosition, quoteOf, startsLineAt } from '../../src/xml/style.js';
import type { XmlElement } from '../../src/xml/tree.js';
import { parseTextOrThrow, samples, parseOrThrow } from './corpus.js';

const disk = (indentUnit: string, eol = '\n') =>
  ['<domain>', `${indentUnit}<devices>`, `${indentUnit.repeat(2)}<disk type='file'>`, `${indentUnit.repeat(3)}<source file='/a'/>`, `${indentUnit.repeat(2)}</disk>`, `${indentUnit}</devices>`, '</domain>', ''].join(eol);

describe('line ending', () => {
  it.each([
    ['LF', '<a>\n<b/>\n</a>\n', '\n'],
    ['CRLF', '<a>\r\n<b/>\r\n</a>\r\n', '\r\n'],
    ['lone CR', '<a>\r<b/>\r</a>\r', '\r'],
    ['mostly CRLF with a stray LF', '<a>\r\n<b/>\n</a>\r\n', '\r\n'],
    ['one line (LF fallback)', '<a/>', '\n'],
  ])('%s', (_n, text, expected) => expect(detectLineEnding(text)).toBe(expected));
});

describe('indent unit', () => {
  it.each([['  '], ['    '], ['\t'], ['\t\t'], [' ']])('detects %j from the nesting of disk and source', (unit) => {
    expect(detectIndentUnit(parseTextOrThrow(disk(unit)))).toBe(unit);
    expect(detectIndentUnit(parseTextOrThrow(disk(unit, '\r\n')))).toBe(unit);
  });

  it('prefers the step used inside <disk> over the rest of the file', () => {
    const text = "<domain>\n    <name>x</name>\n    <os>\n        <type>hvm</type>\n    </os>\n    <devices>\n      <disk type='file'>\n        <source file='/a'/>\n      </disk>\n    </devices>\n</domain>\n";
    expect(detectIndentUnit(parseTextOrThrow(text))).toBe('  ');
  });

  it('falls back to the rest of the file, then to two spaces', () => {
    expect(detectIndentUnit(parseTextOrThrow('<domain>\n\t<name>x</name>\n\t<devices><disk><source/></disk></devices>\n</domain>'))).toBe('\t');
    expect(detectIndentUnit(parseTextOrThrow('<domain><devices><disk><source file="/a"/></disk></devices></domain>'))).toBe('  ');
  });

  it('matches what a person sees in every sample', () => {
    const expected: Record<string, string> = { '02-handwritten-double-quotes.xml': '    ', '03-tabs.xml': '\t' };
    for (const s of samples()) expect(detectIndentUnit(parseOrThrow(s.bytes, s.file)), s.file).toBe(expected[s.file] ?? '  ');
  });
});

describe('quotes', () => {
  const doc = parseTextOrThrow(`<d a='1' b='2'>\n <x c="3"/>\n <y/>\n <z p="1" q='2' r='3'/>\n <w p="1" q='2'/>\n</d>`);
  const [x, y, z, w] = doc.root.children as [XmlElement, XmlElement, XmlElement, XmlElement];
  it('dominant quote of the document; single quote on a tie, as libvirt writes', () => {
    expect(detectDominantQuote(doc.root)).toBe("'");
    expect(detectDominantQuote(parseTextOrThrow('<d a="1"><e b="2"/></d>').root)).toBe('"');
    expect(detectDominantQuote(parseTextOrThrow('<d a="1" b=\'2\'/>').root)).toBe("'");
  });
  it("an element's own quote: majority of its attributes, first one on a tie, else the fallback", () => {
    expect(quoteOf(x, "'")).toBe('"');
    expect(quoteOf(y, '"')).toBe('"');
    expect(quoteOf(y, "'")).toBe("'");
    expect(quoteOf(z, '"')).toBe("'");
    expect(quoteOf(w, "'")).toBe('"');
  });
});

describe('line position', () => {
  it('tells indentation and whether an offset starts its line', () => {
    const text = 'ab\n \t <x/> <y/>\r\n<z/>';
    expect(linePosition(text, text.indexOf('<x'))).toEqual({ indentation: ' \t ', startsLine: true, lineStart: 3 });
    expect(linePosition(text, text.indexOf('<y'))).toEqual({ indentation: ' \t ', startsLine: false, lineStart: 3 });
    expect(linePosition(text, text.indexOf('<z'))).toEqual({ indentation: '', startsLine: true, lineStart: text.indexOf('<z') });
    expect(linePosition(text, 0)).toEqual({ indentation: '', startsLine: true, lineStart: 0 });
  });
});

describe('startsLineAt', () => {
  it('looks back over spaces and tabs only', () => {
    const text = '<a>\n  <b/>\t<c/>\r\n\t<d/>';
    expect(startsLineAt(text, 0)).toBe(true);
    expect(startsLineAt(text, text.indexOf('<b'))).toBe(true);
    expect(startsLineAt(text, text.indexOf('<c'))).toBe(false);
    expect(startsLineAt(text, text.indexOf('<d'))).toBe(true);
  });

  it('gives the same answer as linePosition on every element of a real sample', () => {
    const text = readFileSync(join(import.meta.dirname, '../../samples/demo/web01.xml'), 'utf8');
    for (let i = text.indexOf('<'); i >= 0; i = text.indexOf('<', i + 1)) expect(startsLineAt(text, i)).toBe(linePosition(text, i).startsLine);
  });
});
