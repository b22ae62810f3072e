import { describe, expect, it } from 'vitest';
import { parseXml } from '../../src/xml/parse.js';
import { applyEdits, planElementRemoval, planSeclabelInsert, serialize, type SeclabelModel } from '../../src/xml/splice.js';
import type { XmlDocument, XmlElement } from '../../src/xml/tree.js';
import { descendants, parseTextOrThrow } from './corpus.js';

function firstSource(doc: XmlDocument): XmlElement {
  const s = descendants(doc.root, 'source')[0];
  if (s === undefined) throw new Error('no <source>');
  return s;
}

function insert(text: string, models: SeclabelModel[] = ['dac', 'selinux']): string {
  const doc = parseTextOrThrow(text);
  return applyEdits(doc.text, planSeclabelInsert(doc, firstSource(doc), models));
}

const D = "<seclabel model='dac' relabel='no'/>";
const S = "<seclabel model='selinux' relabel='no'/>";

describe('planSeclabelInsert places seclabels where libvirt writes them', () => {
  it('expands a self-closing source, keeping the attribute text and using the indent unit', () => {
    expect(insert("<disk>\n  <source file='/a' index='1'/>\n  <target dev='vda'/>\n</disk>\n")).toBe(
      `<disk>\n  <source file='/a' index='1'>\n    ${D}\n    ${S}\n  </source>\n  <target dev='vda'/>\n</disk>\n`,
    );
  });

  it('keeps a space before "/>" and a source tag spread over lines', () => {
    expect(insert("<disk>\n  <source pool='p'\n          volume='v' />\n</disk>", ['dac'])).toBe(
      `<disk>\n  <source pool='p'\n          volume='v' >\n    ${D}\n  </source>\n</disk>`,
    );
  });

  it('goes after <slices> and before <encryption>', () => {
    const text = "<disk>\n  <source file='/a'>\n    <slices>\n      <slice type='storage' offset='0' size='1'/>\n    </slices>\n    <encryption format='luks'/>\n  </source>\n</disk>";
    expect(insert(text)).toBe(text.replace('</slices>\n', `</slices>\n    ${D}\n    ${S}\n`));
  });

  it('goes after <slices> even when <slices> comes last', () => {
    const text = "<disk>\n  <source file='/a'>\n    <encryption format='luks'/>\n    <slices/>\n  </source>\n</disk>";
    expect(insert(text, ['selinux'])).toBe(text.replace('<slices/>\n', `<slices/>\n    ${S}\n`));
  });

  it.each(['auth', 'encryption', 'reservations'])('goes before <%s>', (name) => {
    const text = `<disk>\n  <source dev='/dev/x'>\n    <!-- c -->\n    <${name} x='1'/>\n  </source>\n</disk>`;
    expect(insert(text)).toBe(text.replace(`<${name}`, `${D}\n    ${S}\n    <${name}`));
  });

  it('goes after existing seclabels of other models', () => {
    const text = `<disk>\n  <source file='/a'>\n    ${S}\n    <encryption format='luks'/>\n  </source>\n</disk>`;
    expect(insert(text)).toBe(text.replace(`${S}\n`, `${S}\n    ${D}\n`));
  });

  it('goes at the end, after comments and CDATA, keeping them and the whitespace before </source>', () => {
    const text = "<disk>\n  <source file='/a'>\n    <!-- keep -->\n    <![CDATA[ ]]>\n  </source>\n</disk>";
    expect(insert(text)).toBe(text.replace('<![CDATA[ ]]>', `<![CDATA[ ]]>\n    ${D}\n    ${S}`));
  });

  it('fills an empty <source></source> written on its own line', () => {
    expect(insert("<disk>\n  <source file='/a'></source>\n</disk>", ['dac'])).toBe(`<disk>\n  <source file='/a'>\n    ${D}\n  </source>\n</disk>`);
  });

  it('fills a source that only holds a line break', () => {
    expect(insert("<disk>\n    <source file='/a'>\n    </source>\n</disk>", ['dac'])).toBe(`<disk>\n    <source file='/a'>\n        ${D}\n    </source>\n</disk>`);
  });

  it('inserts inline, without line breaks, into a source written on one line', () => {
    expect(insert("<disk>\n  <source file='/a'><!-- c --></source>\n</disk>")).toBe(`<disk>\n  <source file='/a'><!-- c -->${D}${S}</source>\n</disk>`);
    expect(insert("<disk>\n  <source file='/a'><slices/><auth/></source>\n</disk>")).toBe(`<disk>\n  <source file='/a'><slices/>${D}${S}<auth/></source>\n</disk>`);
    expect(insert("<disk>\n  <source file='/a'><encryption/></source>\n</disk>")).toBe(`<disk>\n  <source file='/a'>${D}${S}<encryption/></source>\n</disk>`);
  });

  it('keeps a disk written on one line on one line', () => {
    expect(insert("<disk type='file'><source file='/a'/><target dev='vda'/></disk>")).toBe(`<disk type='file'><source file='/a'>${D}${S}</source><target dev='vda'/></disk>`);
  });

  it('uses the quote of the <source> tag, else the document majority', () => {
    expect(insert(`<disk a='1'>\n  <source file="/a"/>\n</disk>`, ['dac'])).toBe(`<disk a='1'>\n  <source file="/a">\n    <seclabel model="dac" relabel="no"/>\n  </source>\n</disk>`);
    expect(insert(`<disk a="1" b="2">\n  <source/>\n</disk>`, ['dac'])).toBe(`<disk a="1" b="2">\n  <source>\n    <seclabel model="dac" relabel="no"/>\n  </source>\n</disk>`);
  });

  it('keeps CRLF line endings and tab indentation', () => {
    expect(insert("<disk>\r\n\t<source file='/a'/>\r\n</disk>\r\n")).toBe(`<disk>\r\n\t<source file='/a'>\r\n\t\t${D}\r\n\t\t${S}\r\n\t</source>\r\n</disk>\r\n`);
  });

  it('lines up with siblings indented differently from the detected unit', () => {
    const text = "<disk>\n  <source file='/a'>\n       <slices/>\n  </source>\n</disk>";
    expect(insert(text, ['dac'])).toBe(text.replace('<slices/>', `<slices/>\n       ${D}`));
  });

  it('skips models that are already there and duplicates in the request: planning again is a no-op', () => {
    const once = insert("<disk>\n  <source file='/a'/>\n</disk>", ['selinux', 'selinux']);
    expect(once).toBe(`<disk>\n  <source file='/a'>\n    ${S}\n  </source>\n</disk>`);
    const doc = parseTextOrThrow(once);
    expect(planSeclabelInsert(doc, firstSource(doc), ['selinux'])).toEqual([]);
    expect(applyEdits(doc.text, planSeclabelInsert(doc, firstSource(doc), ['dac', 'selinux']))).toBe(
      `<disk>\n  <source file='/a'>\n    ${S}\n    ${D}\n  </source>\n</disk>`,
    );
    expect(planSeclabelInsert(doc, firstSource(doc), [])).toEqual([]);
  });
});

describe('planElementRemoval', () => {
  function removeSeclabels(text: string, model?: string): string {
    const doc = parseTextOrThrow(text);
    const targets = descendants(doc.root, 'seclabel').filter((s) => model === undefined || s.attributes.some((a) => a.value === model));
    return applyEdits(doc.text, targets.flatMap((t) => planElementRemoval(doc, t)));
  }

  it('takes the whole line of an element that stands alone on it', () => {
    const text = `<disk>\r\n  <source file='/a'>\r\n    ${D}  \r\n    <encryption/>\r\n  </source>\r\n</disk>`;
    expect(removeSeclabels(text)).toBe("<disk>\r\n  <source file='/a'>\r\n    <encryption/>\r\n  </source>\r\n</disk>");
  });

  it('takes only the element when it shares its line', () => {
    expect(removeSeclabels(`<source file='/a'>${D}<!-- c --></source>`)).toBe("<source file='/a'><!-- c --></source>");
    expect(removeSeclabels(`<source file='/a'>\n  <x/> ${D}\n</source>`)).toBe("<source file='/a'>\n  <x/> \n</source>");
  });

  it('removes an element with children, as a stale labelled seclabel has', () => {
    const text = "<source file='/a'>\n  <seclabel model='dac' relabel='yes'>\n    <label>+0:+0</label>\n  </seclabel>\n</source>";
    expect(removeSeclabels(text)).toBe("<source file='/a'>\n</source>");
  });

  it('on the last line of the text takes the line break before it', () => {
    expect(removeSeclabels(`<a>\n<b/>\n</a>\n<!--\n-->`.replace('<b/>', '<seclabel/>'))).toBe('<a>\n</a>\n<!--\n-->');
    const doc = parseTextOrThrow('<a>\n  <b/></a>');
    const b = doc.root.children[0] as XmlElement;
    expect(applyEdits(doc.text, planElementRemoval(doc, b))).toBe('<a>\n  </a>');
    const root = parseTextOrThrow('\n  <a/>  ');
    expect(applyEdits(root.text, planElementRemoval(root, root.root))).toBe('');
  });

  it('undoes an insertion byte for byte, except that an expanded <source/> stays expanded', () => {
    const written = "<disk>\n  <source file='/a'>\n    <slices/>\n  </source>\n</disk>";
    expect(removeSeclabels(insert(written))).toBe(written);
    expect(removeSeclabels(insert("<disk>\n  <source file='/a'/>\n</disk>"))).toBe("<disk>\n  <source file='/a'>\n  </source>\n</disk>");
  });
});

describe('inserting one model and removing a stale seclabel of another in the same <source>', () => {
  function insertAndPrune(text: string, prune: string, add: SeclabelModel[]): string {
    const doc = parseTextOrThrow(text);
    const source = doc.root;
    const stale = source.children.filter((c) => c.name === 'seclabel' && c.attributes.some((a) => a.value === prune));
    return applyEdits(doc.text, [...planSeclabelInsert(doc, source, add), ...stale.flatMap((e) => planElementRemoval(doc, e))]);
  }

  it.each([
    ['multi-line, stale seclabel last', `<source file='/a'>\n  ${D}\n</source>`, `<source file='/a'>\n  ${S}\n</source>`],
    ['multi-line, before encryption', `<source file='/a'>\n  ${D}\n  <encryption/>\n</source>`, `<source file='/a'>\n  ${S}\n  <encryption/>\n</source>`],
    ['multi-line, after slices', `<source file='/a'>\n  <slices/>\n  ${D}\n</source>`, `<source file='/a'>\n  <slices/>\n  ${S}\n</source>`],
    ['CRLF', `<source file='/a'>\r\n  ${D}\r\n</source>`, `<source file='/a'>\r\n  ${S}\r\n</source>`],
    ['inline', `<source file='/a'>${D}</source>`, `<source file='/a'>${S}</source>`],
    // Odd layout: the stale element shares its line with </source>; nothing overlaps, a blank line stays.
    ['stale seclabel sharing its line', `<source file='/a'>\n  ${D}</source>`, `<source file='/a'>\n  \n  ${S}</source>`],
  ])('%s: the edits do not overlap and the result is as written by hand', (_n, text, expected) => {
    expect(insertAndPrune(text, 'dac', ['selinux'])).toBe(expected);
  });
});

describe('applyEdits and serialize', () => {
  it('applies edits given in any order; edits at one offset keep their order', () => {
    expect(applyEdits('abcdef', [
      { at: 4, deleteCount: 1, insert: 'E' },
      { at: 0, deleteCount: 0, insert: '1' },
      { at: 0, deleteCount: 0, insert: '2' },
      { at: 6, deleteCount: 0, insert: '!' },
    ])).toBe('12abcdEf!');
  });

  it('refuses overlapping or out-of-range edits (a caller bug, never input-dependent)', () => {
    expect(() => applyEdits('abc', [{ at: 0, deleteCount: 2, insert: '' }, { at: 1, deleteCount: 0, insert: 'x' }])).toThrow(RangeError);
    expect(() => applyEdits('abc', [{ at: 2, deleteCount: 2, insert: '' }])).toThrow(RangeError);
    expect(() => applyEdits('abc', [{ at: -1, deleteCount: 0, insert: '' }])).toThrow(RangeError);
    expect(() => applyEdits('abc', [{ at: 0.5, deleteCount: 0, insert: '' }])).toThrow(RangeError);
  });

  it('re-adds the BOM and encodes UTF-8, so an unedited document serialises to its input bytes', () => {
    const input = Uint8Array.from([0xef, 0xbb, 0xbf, ...new TextEncoder().encode("<a b='ü'>\r\n</a>")]);
    const r = parseXml(input);
    if (!r.ok) throw new Error(r.error.message);
    expect(serialize(r.value, r.value.text)).toEqual(input);
    expect(serialize({ hasBom: false }, 'é')).toEqual(Uint8Array.from([0xc3, 0xa9]));
  });
});
