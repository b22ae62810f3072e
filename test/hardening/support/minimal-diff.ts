/**
 * The minimal-diff property, checked from the outside: the output is the input plus new
 * `<seclabel model=M relabel='no'/>` elements inside disk <source>s (a self-closing <source/> may become
 * <source>…</source>) and the whitespace that lays them out; nothing else moves, appears or disappears.
 * This reads both documents with the strict parser only to find the elements; the byte comparison is
 * its own, so a splice bug cannot hide behind the code under test.
 */
import { parseXml } from '../../../src/xml/parse.js';
import type { XmlDocument, XmlElement } from '../../../src/xml/tree.js';

/** A seclabel added to (or, with removals, removed from) one disk. */
export interface NewSeclabel {
  /** Index of the disk in document order. */
  readonly disk: number;
  readonly model: string;
}

export type DiffCheck =
  | { readonly ok: true; readonly added: readonly NewSeclabel[]; readonly removed: readonly NewSeclabel[] }
  | { readonly ok: false; readonly why: string };

const attrOf = (el: XmlElement, name: string) => el.attributes.find((a) => a.name === name)?.value;

function descendants(el: XmlElement, name: string, out: XmlElement[] = []): XmlElement[] {
  for (const c of el.children) {
    if (c.name === name) out.push(c);
    descendants(c, name, out);
  }
  return out;
}

/** Each disk's <source> (first one, as libvirt reads it), in document order. */
function diskSources(doc: XmlDocument): (XmlElement | undefined)[] {
  return descendants(doc.root, 'disk').map((d) => d.children.find((c) => c.name === 'source'));
}

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/**
 * Is `small` obtained from `big` by deleting only whitespace? Greedy is exact here: matching a character
 * as early as possible never prevents a later match, because every skipped character is whitespace.
 */
function onlyWhitespaceInserted(small: string, big: string): { ok: true } | { ok: false; at: number } {
  let i = 0;
  for (let j = 0; j < big.length; j++) {
    if (i < small.length && big[j] === small[i]) i++;
    else if (!isSpace(big[j] as string)) return { ok: false, at: j };
  }
  return i === small.length ? { ok: true } : { ok: false, at: big.length };
}

const BOM = [0xef, 0xbb, 0xbf];
const startsWithBom = (b: Uint8Array) => b.length >= 3 && BOM.every((x, i) => b[i] === x);

/**
 * With `removals` (--prune-stale), existing `relabel='no'` seclabels may also disappear; the removed
 * line's layout then makes an exact whitespace comparison impossible, so the rest of the text is
 * compared with whitespace ignored (every other character must still be identical and in order).
 */
export function checkMinimalDiff(input: Uint8Array, output: Uint8Array, allowedModels: readonly string[], opts: { removals?: boolean } = {}): DiffCheck {
  const a = parseXml(input);
  if (!a.ok) return { ok: false, why: `the input does not parse, yet exit 0: ${a.error.message}` };
  const b = parseXml(output);
  if (!b.ok) return { ok: false, why: `the output does not parse: ${b.error.line}:${b.error.column} ${b.error.message}` };
  if (startsWithBom(input) !== startsWithBom(output)) return { ok: false, why: 'the BOM was added or dropped' };
  const inSources = diskSources(a.value);
  const outSources = diskSources(b.value);
  if (inSources.length !== outSources.length) return { ok: false, why: `disk count changed ${inSources.length} → ${outSources.length}` };

  // Cut the new seclabels (and the </source> of a formerly self-closing source) out of the output text,
  // and drop the '/' of such a source from the input: then only whitespace may differ.
  const cuts: [number, number][] = [];
  const slashes: number[] = [];
  const added: NewSeclabel[] = [];
  const removed: [number, number][] = [];
  const removedFrom: NewSeclabel[] = [];
  for (let i = 0; i < inSources.length; i++) {
    const src = inSources[i];
    const out = outSources[i];
    if (src === undefined || out === undefined) {
      if (src !== out) return { ok: false, why: `disk ${i}: <source> appeared or disappeared` };
      continue;
    }
    const before = src.children;
    const after = out.children;
    const same = (a: XmlElement, b: XmlElement) => a.name === b.name && attrOf(a, 'model') === attrOf(b, 'model');
    const isOurs = (c: XmlElement) => {
      const model = attrOf(c, 'model');
      return c.name === 'seclabel' && c.children.length === 0 && c.attributes.length === 2 && attrOf(c, 'relabel') === 'no' && model !== undefined && allowedModels.includes(model);
    };
    // Align the children: kept ones in order; extra output ones must be new seclabels of ours; missing
    // input ones (only with removals) must be relabel='no' seclabels.
    let k = 0;
    let j = 0;
    while (k < before.length || j < after.length) {
      const a = before[k];
      const c = after[j];
      if (a !== undefined && c !== undefined && same(a, c)) {
        k++;
        j++;
        continue;
      }
      if (a !== undefined && opts.removals && a.name === 'seclabel' && attrOf(a, 'relabel') === 'no' && !after.slice(j).some((x) => same(a, x))) {
        removed.push([a.start, a.end]);
        removedFrom.push({ disk: i, model: attrOf(a, 'model') ?? '' });
        k++;
        continue;
      }
      if (c === undefined) return { ok: false, why: `disk ${i}: a child of <source> was lost: <${a!.name}>` };
      if (!isOurs(c))
        return { ok: false, why: `disk ${i}: unexpected new child <${c.name}${c.attributes.map((x) => ` ${x.name}='${x.value}'`).join('')}>` };
      if (!c.selfClosing) return { ok: false, why: `disk ${i}: new seclabel is not self-closing` };
      const model = attrOf(c, 'model')!;
      if (after.filter((x) => x.name === 'seclabel' && attrOf(x, 'model') === model).length > 1)
        return { ok: false, why: `disk ${i}: a second seclabel for model ${model}` };
      added.push({ disk: i, model });
      cuts.push([c.start, c.end]);
      j++;
    }
    if (src.selfClosing && !out.selfClosing) {
      cuts.push([out.endTagStart, out.end]);
      slashes.push(src.startTagEnd - 2);
    } else if (src.selfClosing !== out.selfClosing) return { ok: false, why: `disk ${i}: <source> became self-closing` };
  }
  let outText = b.value.text;
  for (const [s, e] of cuts.sort((x, y) => y[0] - x[0])) outText = outText.slice(0, s) + outText.slice(e);
  let inText = a.value.text;
  const inCuts: [number, number][] = [...removed, ...slashes.map((s): [number, number] => [s, s + 1])];
  for (const [s, e] of inCuts.sort((x, y) => y[0] - x[0])) {
    if (e === s + 1 && inText[s] !== '/') return { ok: false, why: `self-closing <source> without '/' at ${s}` };
    inText = inText.slice(0, s) + inText.slice(e);
  }
  if (removed.length > 0) {
    const squeeze = (t: string) => t.replace(/[ \t\r\n]+/g, '');
    if (squeeze(inText) !== squeeze(outText)) return { ok: false, why: 'output differs beyond the removed and inserted seclabels' };
    return { ok: true, added, removed: removedFrom };
  }
  const ws = onlyWhitespaceInserted(inText, outText);
  if (!ws.ok) return { ok: false, why: `output differs beyond the new seclabels near ${JSON.stringify(outText.slice(Math.max(0, ws.at - 40), ws.at + 40))}` };
  return { ok: true, added, removed: [] };
}
