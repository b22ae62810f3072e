/**
 * Minimal-diff edits for per-disk seclabels: the output is the input with only the inserted (or removed)
 * elements changed, written in the file's own style. This module knows XML layout, not security: the
 * decision of which model to add lives in decide/.
 */
import type { Edit } from './edit.js';
import { detectStyle, indentStep, linePosition, quoteOf, type DocumentStyle } from './style.js';
import { attr, type Quote, type XmlDocument, type XmlElement } from './tree.js';

export { applyEdits, serialize, type Edit } from './edit.js';

/** The security models a per-disk seclabel can name (libvirt's DAC and SELinux drivers). */
export type SeclabelModel = 'dac' | 'selinux';

/** libvirt writes seclabels after these children of <source> ... */
const SECLABEL_GOES_AFTER: ReadonlySet<string> = new Set(['slices', 'seclabel']);
/** ... and before these. */
const SECLABEL_GOES_BEFORE: ReadonlySet<string> = new Set(['auth', 'encryption', 'reservations']);

/**
 * The element text, as libvirt formats it. The values are fixed words, so there is nothing to escape;
 * the quote follows the <source> tag it goes into. (xmlbuilder2 cannot write single-quoted attributes.)
 */
export function seclabelElementText(model: SeclabelModel, quote: Quote): string {
  return `<seclabel model=${quote}${model}${quote} relabel=${quote}no${quote}/>`;
}

/**
 * Edits that add `<seclabel model=M relabel='no'/>` for each model (in the given order) inside `source`
 * (of `disk`, whose indentation gives the unit when the file mixes units).
 * Models that already have a seclabel there are skipped, so planning again on the output is a no-op.
 */
export function planSeclabelInsert(
  doc: XmlDocument,
  source: XmlElement,
  models: readonly SeclabelModel[],
  style: DocumentStyle = detectStyle(doc),
  disk?: XmlElement,
): Edit[] {
  const present = new Set(source.children.filter((c) => c.name === 'seclabel').map((c) => attr(c, 'model')));
  const missing = [...new Set(models)].filter((m) => !present.has(m));
  if (missing.length === 0) return [];
  const quote = quoteOf(source, style.dominantQuote);
  const elements = missing.map((m) => seclabelElementText(m, quote));
  const text = doc.text;
  const sourceLine = linePosition(text, source.start);
  // Files mix units (libvirt's own test data indents one disk by 2 and another by 3): the step from
  // <disk> to its <source> is this disk's unit; the file's most common unit only when that is not visible.
  const unit = (disk && indentStep(text, linePosition(text, disk.start), source)) ?? style.indentUnit;
  const childIndent = sourceLine.indentation + unit;
  const eol = style.lineEnding;
  const onOwnLines = (indent: string): string => elements.map((e) => eol + indent + e).join('');

  if (source.selfClosing) {
    // Only the '/>' changes; the attribute text before it stays byte for byte.
    const body = sourceLine.startsLine ? onOwnLines(childIndent) + eol + sourceLine.indentation : elements.join('');
    return [{ at: source.startTagEnd - 2, deleteCount: 2, insert: `>${body}</${source.name}>` }];
  }
  const content = text.slice(source.startTagEnd, source.endTagStart);
  if (content.length === 0) {
    const body = sourceLine.startsLine ? onOwnLines(childIndent) + eol + sourceLine.indentation : elements.join('');
    return [{ at: source.startTagEnd, deleteCount: 0, insert: body }];
  }
  const inline = !/[\r\n]/.test(content);

  // In multi-line sources new lines are inserted as whole lines (indentation + element + line ending) at
  // the start of a line. That keeps them clear of a removal planned in the same run (planElementRemoval
  // takes whole lines too), so "insert one model, prune a stale one" never produces overlapping edits.
  const asLines = (indent: string): string => elements.map((e) => indent + e + eol).join('');

  const after = lastChildNamed(source, SECLABEL_GOES_AFTER);
  if (after !== undefined) {
    if (inline) return [{ at: after.end, deleteCount: 0, insert: elements.join('') }];
    const indent = siblingIndent(text, after, childIndent);
    const nextLine = startOfNextLineIfBlank(text, after.end);
    if (nextLine !== undefined) return [{ at: nextLine, deleteCount: 0, insert: asLines(indent) }];
    return [{ at: after.end, deleteCount: 0, insert: onOwnLines(indent) }];
  }
  const before = source.children.find((c) => SECLABEL_GOES_BEFORE.has(c.name));
  if (before !== undefined) {
    const line = linePosition(text, before.start);
    if (inline || !line.startsLine) return [{ at: before.start, deleteCount: 0, insert: elements.join('') }];
    return [{ at: line.lineStart, deleteCount: 0, insert: asLines(line.indentation) }];
  }
  // At the end: after the last content, so the whitespace before </source> stays last.
  const at = endOfLastContent(text, source);
  if (inline) return [{ at, deleteCount: 0, insert: elements.join('') }];
  const last = source.children[source.children.length - 1];
  const indent = last !== undefined && last.end === at ? siblingIndent(text, last, childIndent) : childIndent;
  const endTagLine = linePosition(text, source.endTagStart);
  if (endTagLine.startsLine && endTagLine.lineStart > at) return [{ at: endTagLine.lineStart, deleteCount: 0, insert: asLines(indent) }];
  return [{ at, deleteCount: 0, insert: onOwnLines(indent) }];
}

/** Offset just past the line ending that follows `offset` when only spaces/tabs come before it. */
function startOfNextLineIfBlank(text: string, offset: number): number | undefined {
  let i = offset;
  while (text[i] === ' ' || text[i] === '\t') i++;
  if (text.startsWith('\r\n', i)) return i + 2;
  if (text[i] === '\n' || text[i] === '\r') return i + 1;
  return undefined;
}

/**
 * Edits that remove one element. When it stands alone on its line, the line goes with it (indentation and
 * line ending), which exactly undoes an insertion by planSeclabelInsert. A <source> expanded from
 * `<source …/>` stays `<source …>…</source>`: re-self-closing it is not attempted.
 */
export function planElementRemoval(doc: XmlDocument, el: XmlElement): Edit[] {
  const text = doc.text;
  const line = linePosition(text, el.start);
  let restEnd = el.end;
  while (restEnd < text.length && (text[restEnd] === ' ' || text[restEnd] === '\t')) restEnd++;
  const eolLength = text.startsWith('\r\n', restEnd) ? 2 : text[restEnd] === '\n' || text[restEnd] === '\r' ? 1 : 0;
  if (!line.startsLine || (eolLength === 0 && restEnd < text.length)) {
    return [{ at: el.start, deleteCount: el.end - el.start, insert: '' }];
  }
  if (eolLength === 0) {
    // Last line of the text: take the line break before it instead of the one after.
    const from = line.lineStart - (text.startsWith('\r\n', line.lineStart - 2) ? 2 : line.lineStart > 0 ? 1 : 0);
    return [{ at: from, deleteCount: restEnd - from, insert: '' }];
  }
  return [{ at: line.lineStart, deleteCount: restEnd + eolLength - line.lineStart, insert: '' }];
}

function lastChildNamed(el: XmlElement, names: ReadonlySet<string>): XmlElement | undefined {
  for (let i = el.children.length - 1; i >= 0; i--) {
    const c = el.children[i] as XmlElement;
    if (names.has(c.name)) return c;
  }
  return undefined;
}

/** A sibling's own indentation when it starts its line, so the new element lines up with it. */
function siblingIndent(text: string, sibling: XmlElement, fallback: string): string {
  const line = linePosition(text, sibling.start);
  return line.startsLine ? line.indentation : fallback;
}

function endOfLastContent(text: string, source: XmlElement): number {
  let at = source.endTagStart;
  while (at > source.startTagEnd && /[ \t\r\n]/.test(text[at - 1] as string)) at--;
  return at;
}
