/**
 * What fast-xml-parser's XMLValidator (the second gate) gets wrong, measured rather than assumed, and
 * proof that the scanner stays the authority: its leniencies never let bad input through, and its one
 * false refusal of well-formed XML is overruled.
 */
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { parseXmlString } from '../../src/xml/parse.js';
import { secondGate } from '../../src/xml/second-gate.js';
import { parseOrThrow, parseTextOrThrow, samples } from './corpus.js';

const fxpAccepts = (text: string) => XMLValidator.validate(text) === true;

describe('fast-xml-parser XMLValidator 5.x is lenient where the scanner is strict', () => {
  it.each([
    ['DOCTYPE with an external entity', "<!DOCTYPE a [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><a>&x;</a>", 'DOCTYPE is not allowed'],
    ["'<' in an attribute value", '<a b="<"/>', "'<' is not allowed"],
    ['undefined entity in an attribute', '<a b="&nbsp;"/>', 'undefined entity'],
    ['undefined entity in text', '<a>&nbsp;</a>', 'undefined entity'],
    ['char ref to NUL', '<a>&#0;</a>', 'not a valid XML character'],
    ["'--' in a comment", '<a><!-- -- --></a>', "'--' is not allowed"],
    ['unclosed comment after the root', '<a/><!-- never closed', 'comment is not closed'],
    ["']]>' in text", '<a>]]></a>', "']]>' is not allowed"],
    ['two self-closing roots', '<a/><b/>', 'exactly one root'],
    ['text after a self-closing root', '<a/>x', 'text is not allowed after'],
    ['control character', '<a>\u0001</a>', 'U+0001'],
    ['non-UTF-8 encoding declaration', '<?xml version="1.0" encoding="ISO-8859-1"?><a/>', "encoding 'ISO-8859-1'"],
    ['reserved PI target', '<a><?XmL x?></a>', 'reserved'],
  ])('%s: fast-xml-parser accepts, the scanner refuses', (_name, text, message) => {
    expect(fxpAccepts(text)).toBe(true);
    const r = parseXmlString(text);
    expect(r.ok ? 'accepted' : r.error.message).toContain(message);
  });
});

describe('fast-xml-parser XMLValidator 5.x refuses some well-formed XML', () => {
  it('names with characters outside the BMP: fast-xml-parser refuses, the gate overrules it', () => {
    for (const text of ['<\u{10000}/>', '<a \u{10000}b="1"/>', '<a><x\u{EFFFF}/></a>']) {
      expect(fxpAccepts(text)).toBe(false);
      expect(parseXmlString(text).ok).toBe(true);
    }
  });

  it('but its refusal stands for anything else (defence in depth)', () => {
    const doc = parseTextOrThrow('<a/>');
    // A text the scanner never saw: the second gate judges the text it is given.
    expect(secondGate('<a><b></a>', doc.root)).toMatchObject({ ok: false, line: 1 });
    expect(secondGate('<a/>', doc.root)).toEqual({ ok: true });
  });

  it('accepts every sample domain (it must never refuse valid libvirt XML)', () => {
    for (const s of samples()) {
      const doc = parseOrThrow(s.bytes, s.file);
      expect(fxpAccepts(doc.text), s.file).toBe(true);
    }
  });
});
