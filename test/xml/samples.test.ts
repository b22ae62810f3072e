/**
 * The "nothing lost" property over the whole sample corpus: annotate every file/block/volume disk with
 * both models, then check that only seclabels were added, that they parse back, that a second run adds
 * nothing, and that removing them gives the original bytes back.
 */
import { describe, expect, it } from 'vitest';
import { applyEdits, planElementRemoval, serialize } from '../../src/xml/splice.js';
import { attr, type XmlElement } from '../../src/xml/tree.js';
import { annotatableDisks, parseOrThrow, planAll, samples } from './corpus.js';

const SECLABEL = `<seclabel model=(['"])(dac|selinux)\\1 relabel=\\1no\\1/>`;
/** What an insertion may consist of: an optional '>' (self-closing source), whitespace and new seclabels, an optional </source>. */
const INSERTED = new RegExp(`^>?(?:[ \\t\\r\\n]*${SECLABEL})+[ \\t\\r\\n]*(?:</source>)?$`);

/** `<source …></source>` holding only whitespace and `<source …/>` read the same, for comparing after removal. */
const collapseEmptySources = (text: string): string => text.replace(/(<source\b[^>]*?)\s*(?:\/>|>[ \t\r\n]*<\/source>)/g, '$1/>');

const seclabels = (source: XmlElement) => source.children.filter((c) => c.name === 'seclabel');

describe.each(samples())('$file', ({ file, bytes }) => {
  const doc = parseOrThrow(bytes, file);
  const targets = annotatableDisks(doc);
  const edits = planAll(doc);
  const out = applyEdits(doc.text, edits);
  const outDoc = parseOrThrow(serialize(doc, out), `${file} (annotated)`);
  const outTargets = annotatableDisks(outDoc);

  it('(a) changes nothing but inserting seclabels: output minus the inserted spans is the input', () => {
    expect(edits.length).toBe(targets.filter((t) => t.models.length > 0).length);
    const ordered = [...edits].sort((x, y) => x.at - y.at);
    let shift = 0;
    let rebuilt = '';
    let copiedTo = 0;
    for (const e of ordered) {
      // Only a self-closing tag's '/>' may be replaced; everything else is a pure insertion of seclabels.
      expect(['', '/>']).toContain(doc.text.slice(e.at, e.at + e.deleteCount));
      expect(e.insert).toMatch(INSERTED);
      const inOutput = e.at + shift;
      expect(out.slice(inOutput, inOutput + e.insert.length)).toBe(e.insert);
      rebuilt += out.slice(copiedTo, inOutput) + doc.text.slice(e.at, e.at + e.deleteCount);
      copiedTo = inOutput + e.insert.length;
      shift += e.insert.length - e.deleteCount;
    }
    rebuilt += out.slice(copiedTo);
    expect(rebuilt).toBe(doc.text);
    const outBytes = serialize(doc, out);
    expect(outBytes[0] === 0xef && outBytes[1] === 0xbb && outBytes[2] === 0xbf).toBe(doc.hasBom);
  });

  it('(b) the output re-parses and every target source now has exactly one seclabel per added model', () => {
    expect(outTargets.map((t) => t.dev)).toEqual(targets.map((t) => t.dev));
    outTargets.forEach((t, i) => {
      const before = seclabels(targets[i]!.source).map((s) => attr(s, 'model'));
      const after = seclabels(t.source);
      const wanted = [...new Set([...before, ...targets[i]!.models])].sort();
      expect(after.map((s) => attr(s, 'model')).sort()).toEqual(wanted);
      for (const s of after) {
        if (!before.includes(attr(s, 'model'))) expect(attr(s, 'relabel')).toBe('no');
      }
      expect(after.length - before.length).toBe(targets[i]!.models.length);
    });
    // Nothing else in the tree moved: same element names in the same order, seclabels aside.
    const names = (root: XmlElement) => [root, ...allElements(root)].filter((e) => e.name !== 'seclabel').map((e) => e.name).join(' ');
    expect(names(outDoc.root)).toBe(names(doc.root));
  });

  it('(c) running again on the output plans no edit', () => {
    expect(planAll(outDoc)).toEqual([]);
  });

  it('(d) removing the inserted elements gives the input back byte for byte (modulo <source/> expansion)', () => {
    const inserted = outTargets.flatMap((t, i) => seclabels(t.source).filter((s) => targets[i]!.models.includes(attr(s, 'model') as 'dac' | 'selinux')));
    const back = applyEdits(out, inserted.flatMap((s) => planElementRemoval(outDoc, s)));
    const expanded = targets.some((t) => t.models.length > 0 && (t.source.selfClosing || t.source.endTagStart === t.source.startTagEnd));
    if (expanded) expect(collapseEmptySources(back)).toBe(collapseEmptySources(doc.text));
    else expect(back).toBe(doc.text);
  });
});

function allElements(root: XmlElement, out: XmlElement[] = []): XmlElement[] {
  for (const c of root.children) {
    out.push(c);
    allElements(c, out);
  }
  return out;
}
