/**
 * How a file is written, so inserted elements look as if the author had typed them: line ending,
 * indentation unit and quote character. Everything is measured from the document itself.
 */
import type { Quote, XmlDocument, XmlElement } from './tree.js';

export type LineEnding = '\n' | '\r\n' | '\r';

export interface DocumentStyle {
  readonly lineEnding: LineEnding;
  /** One level of indentation: spaces or tabs, as the file nests its elements. */
  readonly indentUnit: string;
  /** The quote most attributes of the document use; libvirt's own `'` on a tie. */
  readonly dominantQuote: Quote;
}

/** virsh dumpxml writes two spaces; used when the file shows no nesting at all. */
export const DEFAULT_INDENT_UNIT = '  ';

export function detectStyle(doc: XmlDocument): DocumentStyle {
  return {
    lineEnding: detectLineEnding(doc.text),
    indentUnit: detectIndentUnit(doc),
    dominantQuote: detectDominantQuote(doc.root),
  };
}

/** The most frequent line ending; LF for a file on one line. */
export function detectLineEnding(text: string): LineEnding {
  let crlf = 0;
  let lf = 0;
  let cr = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0d) {
      if (text.charCodeAt(i + 1) === 0x0a) {
        crlf++;
        i++;
      } else cr++;
    } else if (c === 0x0a) lf++;
  }
  if (crlf > lf && crlf >= cr) return '\r\n';
  if (cr > lf && cr > crlf) return '\r';
  return '\n';
}

export interface LinePosition {
  /** The whitespace between the start of the line and the offset (or all leading whitespace of the line). */
  readonly indentation: string;
  /** True when only whitespace precedes the offset on its line. */
  readonly startsLine: boolean;
  /** Offset of the first character of the line. */
  readonly lineStart: number;
}

/**
 * Whether only spaces and tabs stand between the start of its line and `offset`: looks back over the
 * indentation only, so asking it of every element of a 100,000-element line stays linear.
 */
export function startsLineAt(text: string, offset: number): boolean {
  let i = offset;
  while (i > 0 && isIndentChar(text.charCodeAt(i - 1))) i--;
  const c = i > 0 ? text.charCodeAt(i - 1) : -1;
  return i === 0 || c === 0x0a || c === 0x0d;
}

export function linePosition(text: string, offset: number): LinePosition {
  let lineStart = offset;
  while (lineStart > 0) {
    const c = text.charCodeAt(lineStart - 1);
    if (c === 0x0a || c === 0x0d) break;
    lineStart--;
  }
  let indentEnd = lineStart;
  while (indentEnd < offset && isIndentChar(text.charCodeAt(indentEnd))) indentEnd++;
  return { indentation: text.slice(lineStart, indentEnd), startsLine: indentEnd === offset, lineStart };
}

function isIndentChar(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * The step between a parent's indentation and its children's, as used inside `<disk>` and `<source>`
 * (where the insertion happens); failing that, the most common step anywhere in the file.
 */
export function detectIndentUnit(doc: XmlDocument): string {
  const nearDisks = new Map<string, number>();
  const everywhere = new Map<string, number>();
  const pending: { el: XmlElement; inDisk: boolean }[] = [{ el: doc.root, inDisk: false }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { el } = item;
    const countsNearDisks = el.name === 'disk' || (el.name === 'source' && item.inDisk);
    // An element that does not start its line gives no step; do not measure its line at all (a file
    // with everything on one line would otherwise cost a scan of that line per element).
    const parentLine = startsLineAt(doc.text, el.start) ? linePosition(doc.text, el.start) : undefined;
    for (const c of el.children) {
      pending.push({ el: c, inDisk: item.inDisk || el.name === 'disk' });
      const step = parentLine && indentStep(doc.text, parentLine, c);
      if (step === undefined) continue;
      everywhere.set(step, (everywhere.get(step) ?? 0) + 1);
      if (countsNearDisks) nearDisks.set(step, (nearDisks.get(step) ?? 0) + 1);
    }
  }
  return mostFrequent(nearDisks) ?? mostFrequent(everywhere) ?? DEFAULT_INDENT_UNIT;
}

/** The indentation `child` adds to `parent`'s line, when both start their lines and it is a pure extension. */
export function indentStep(text: string, parent: LinePosition, child: XmlElement): string | undefined {
  if (!parent.startsLine || !startsLineAt(text, child.start)) return undefined;
  const line = linePosition(text, child.start);
  if (!line.startsLine || line.lineStart === parent.lineStart) return undefined;
  if (!line.indentation.startsWith(parent.indentation) || line.indentation.length === parent.indentation.length) return undefined;
  return line.indentation.slice(parent.indentation.length);
}

/** Highest count wins; on a tie the shorter (then lexically first) string, so the result is stable. */
function mostFrequent(counts: ReadonlyMap<string, number>): string | undefined {
  let best: string | undefined;
  let bestCount = 0;
  for (const [value, count] of counts) {
    if (
      best === undefined ||
      count > bestCount ||
      (count === bestCount && (value.length < best.length || (value.length === best.length && value < best)))
    ) {
      best = value;
      bestCount = count;
    }
  }
  return best;
}

export function detectDominantQuote(root: XmlElement): Quote {
  let single = 0;
  let double = 0;
  const pending: XmlElement[] = [root];
  for (let el = pending.pop(); el !== undefined; el = pending.pop()) {
    for (const a of el.attributes) {
      if (a.quote === "'") single++;
      else double++;
    }
    // A loop, not push(...children): spreading a million children would overflow the call stack.
    for (const c of el.children) pending.push(c);
  }
  return double > single ? '"' : "'";
}

/** The quote this element's own attributes use (the majority; the first one on a tie), else the fallback. */
export function quoteOf(el: XmlElement, fallback: Quote): Quote {
  if (el.attributes.length === 0) return fallback;
  let single = 0;
  for (const a of el.attributes) if (a.quote === "'") single++;
  const double = el.attributes.length - single;
  if (single === double) return (el.attributes[0] as { quote: Quote }).quote;
  return single > double ? "'" : '"';
}
