import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatXmlError, MAX_ATTRIBUTES, MAX_DEPTH, MAX_ELEMENTS, MAX_INPUT_BYTES, parseXml, parseXmlString } from '../../src/xml/parse.js';
import { MAX_NAME_LENGTH, MAX_START_TAG_LENGTH } from '../../src/xml/limits.js';
import { missingRequirements } from '../support/requirements.js';
import { INVALID_DIR, samples } from './corpus.js';

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...new TextEncoder().encode(p)] : p)));

function errorOf(input: Uint8Array | string): { line: number; column: number; message: string } {
  const r = typeof input === 'string' ? parseXmlString(input) : parseXml(input);
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

describe('encoding', () => {
  it('accepts a UTF-8 BOM, remembers it and keeps it out of the text and the columns', () => {
    const r = parseXml(bytes([0xef, 0xbb, 0xbf], '<a>é</a>'));
    expect(r.ok && r.value.hasBom).toBe(true);
    expect(r.ok && r.value.text).toBe('<a>é</a>');
    expect(errorOf(bytes([0xef, 0xbb, 0xbf], '<a b="1" b="2"/>'))).toMatchObject({ line: 1, column: 10 });
  });

  it('refuses a second BOM as text before the root', () => {
    expect(errorOf(bytes([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], '<a/>'))).toMatchObject({ line: 1, column: 1, message: 'text is not allowed before the root element' });
  });

  it.each([
    ['a Latin-1 byte', bytes('<a>\nab', [0xe9], '</a>'), 2, 3],
    ['a truncated 3-byte sequence', bytes('<a>é', [0xe2, 0x82], '</a>'), 1, 5],
    ['an overlong encoding of "/"', bytes('<a', [0xc0, 0xaf], '/>'), 1, 3],
    ['an encoded surrogate', bytes('<a>', [0xed, 0xa0, 0x80], '</a>'), 1, 4],
    ['a code point above U+10FFFF', bytes('<a>', [0xf4, 0x90, 0x80, 0x80], '</a>'), 1, 4],
    ['a stray continuation byte after a 4-byte character', bytes('<a>\u{1F600}', [0x80], '</a>'), 1, 5],
    ['a byte cut off at the end', bytes('<a/>', [0xf0, 0x9f]), 1, 5],
  ])('refuses invalid UTF-8 (%s) at its position', (_name, input, line, column) => {
    const e = errorOf(input);
    expect(e.message).toContain('invalid UTF-8');
    expect({ line: e.line, column: e.column }).toEqual({ line, column });
  });

  it('refuses UTF-16 with a clear message', () => {
    expect(errorOf(bytes([0xff, 0xfe], [0x3c, 0, 0x61, 0, 0x2f, 0, 0x3e, 0])).message).toContain('UTF-16LE');
    expect(errorOf(bytes([0xfe, 0xff], [0, 0x3c])).message).toContain('UTF-16BE');
  });
});

describe('limits against hostile input', () => {
  it(`refuses input over ${MAX_INPUT_BYTES} bytes before decoding it`, () => {
    const big = new Uint8Array(MAX_INPUT_BYTES + 1).fill(0x20);
    const t0 = performance.now();
    expect(errorOf(big)).toMatchObject({ line: 1, column: 1 });
    expect(errorOf(big).message).toContain('over the limit');
    expect(performance.now() - t0).toBeLessThan(100);
  });

  it(`accepts ${MAX_DEPTH} levels of nesting and refuses ${MAX_DEPTH + 1}`, () => {
    expect(parseXmlString('<a>'.repeat(MAX_DEPTH) + '</a>'.repeat(MAX_DEPTH)).ok).toBe(true);
    const e = errorOf('<a>'.repeat(MAX_DEPTH) + '<b/>' + '</a>'.repeat(MAX_DEPTH));
    expect(e).toEqual({ line: 1, column: 3 * MAX_DEPTH + 1, message: `elements are nested deeper than ${MAX_DEPTH} levels` });
  });

  it(`accepts ${MAX_ELEMENTS} elements and ${MAX_ATTRIBUTES} attributes, and refuses one more`, () => {
    const elements = (n: number) => '<r>' + '<a/>'.repeat(n - 1) + '</r>';
    expect(parseXmlString(elements(MAX_ELEMENTS)).ok).toBe(true);
    expect(errorOf(elements(MAX_ELEMENTS + 1))).toEqual({ line: 1, column: 4 + 4 * (MAX_ELEMENTS - 1), message: `more than ${MAX_ELEMENTS} elements` });
    const attributes = (n: number) => '<r>' + "<a w='' x='' y='' z=''/>".repeat(n / 4) + '</r>';
    expect(parseXmlString(attributes(MAX_ATTRIBUTES)).ok).toBe(true);
    expect(errorOf(attributes(MAX_ATTRIBUTES + 4))).toEqual({ line: 1, column: 4 + 24 * (MAX_ATTRIBUTES / 4) + 3, message: `more than ${MAX_ATTRIBUTES} attributes` });
  });

  it(`refuses names over ${MAX_NAME_LENGTH} characters and start tags over ${MAX_START_TAG_LENGTH}, at the tag`, () => {
    expect(parseXmlString(`<${'n'.repeat(MAX_NAME_LENGTH)}/>`).ok).toBe(true);
    expect(errorOf(`<r>\n <${'n'.repeat(MAX_NAME_LENGTH + 1)}/></r>`)).toMatchObject({ line: 2, column: 3, message: `element name is longer than ${MAX_NAME_LENGTH} characters` });
    const tag = (valueLength: number) => `<r>\n  <source file='${'p'.repeat(valueLength)}'/>\n</r>`;
    const fixed = "<source file=''/>".length;
    expect(parseXmlString(tag(MAX_START_TAG_LENGTH - fixed)).ok).toBe(true);
    const e = errorOf(tag(MAX_START_TAG_LENGTH - fixed + 1));
    expect({ line: e.line, column: e.column }).toEqual({ line: 2, column: 3 });
    expect(e.message).toContain(`over the limit of ${MAX_START_TAG_LENGTH}`);
  });

  // Shapes that make naive parsers quadratic (rescans, backtracking) or recursive. Time is compared
  // between a 250 kB and a 1 MB input: linear work grows ~4x, quadratic ~16x. The bound (12x, or half a
  // second) leaves room for GC and a shared, loaded machine; best of two runs for the same reason.
  const hostile: [string, (n: number) => string][] = [
    ['unclosed start tags', (n) => '<a>'.repeat(n / 3)],
    ['sibling elements', (n) => '<r>' + '<a/>'.repeat(n / 4) + '</r>'],
    ['a huge attribute list', (n) => '<a' + Array.from({ length: n / 10 }, (_, i) => ` a${i}='x'`).join('') + '/>'],
    ['whitespace before a missing >', (n) => '<a' + ' '.repeat(n)],
    ['an unclosed attribute value', (n) => "<a b='" + 'x'.repeat(n)],
    ['dashes in a comment', (n) => '<a><!--' + '-x'.repeat(n / 2) + '</a>'],
    ['a comment that never closes', (n) => '<a><!--' + '- '.repeat(n / 2)],
    ['entity references', (n) => '<a>' + '&amp;'.repeat(n / 5) + '</a>'],
    ['brackets in text', (n) => '<a>' + ']]'.repeat(n / 2) + '</a>'],
    ['unclosed PIs', (n) => '<a>' + '<?p ?'.repeat(n / 5) + '</a>'],
    ['one enormous name', (n) => '<' + 'a'.repeat(n) + '/>'],
    ['character references with many digits', (n) => '<a>' + `&#${'0'.repeat(1000)}65;`.repeat(n / 1005) + '</a>'],
  ];
  function bestTime(input: Uint8Array): number {
    let best = Infinity;
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      const r = parseXml(input);
      best = Math.min(best, performance.now() - t0);
      if (!r.ok) expect(r.error.line).toBeGreaterThanOrEqual(1);
    }
    return best;
  }
  it.each(hostile)('parses %s in linear time without throwing', (_name, make) => {
    const small = bestTime(new TextEncoder().encode(make(250_000)));
    const large = bestTime(new TextEncoder().encode(make(1_000_000)));
    expect(large).toBeLessThan(Math.max(12 * small, 500));
  });
});

describe('errors print as file:line:col', () => {
  it('formats', () => {
    expect(formatXmlError('vm.xml', { line: 3, column: 7, message: 'boom' })).toBe('vm.xml:3:7: boom');
  });
});

interface InvalidCase {
  readonly line: number;
  readonly column: number;
  readonly message: string;
  readonly why: string;
  readonly libxml2Rejects: boolean;
}
const manifest = JSON.parse(readFileSync(join(INVALID_DIR, 'manifest.json'), 'utf8')) as Record<string, InvalidCase>;

describe('the invalid corpus (samples/invalid): every file refused at the stated line:col', () => {
  it.each(Object.entries(manifest))('%s', (file, expected) => {
    const e = errorOf(readFileSync(join(INVALID_DIR, file)));
    expect(e.message).toContain(expected.message);
    expect({ line: e.line, column: e.column }).toEqual({ line: expected.line, column: expected.column });
  });
});

const noXmllint = missingRequirements({ commands: ['xmllint'] });
describe.skipIf(noXmllint !== undefined)('agreement with libxml2 (xmllint), the parser libvirt uses', () => {
  function xmllintAccepts(path: string): boolean {
    try {
      execFileSync('xmllint', ['--noout', '--nonet', path], { stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  }

  it('libxml2 accepts every sample domain', () => {
    for (const s of samples()) expect(xmllintAccepts(join(INVALID_DIR, '../domains', s.file)), s.file).toBe(true);
  });

  it('libxml2 rejects exactly the invalid files the manifest says it does (the rest are this gate\'s policy)', () => {
    for (const [file, c] of Object.entries(manifest)) expect(xmllintAccepts(join(INVALID_DIR, file)), file).toBe(!c.libxml2Rejects);
  });
});
