/**
 * A stream of whole documents in one input: `virt-install --print-xml` prints the install-step domain
 * and the final domain back to back. Each document is cut out and given to the single-document parser
 * with everything before it blanked (every character but line ends becomes a space, a whitespace
 * prolog XML allows), so every line:column the parser, the domain reader and the decisions report is
 * the line:column in the whole input, and the output is put back together byte for byte.
 */
import { MAX_ELEMENTS, scanXml } from './scanner.js';
import { decodeUtf8 } from './utf8.js';

/** More documents than any client prints; bounds the re-scanning (each document scans the text before it as blanks). */
export const MAX_DOCUMENTS = 16;

/**
 * Start tags in a whole stream, counted generously (every `<` before a name character, in comments and
 * CDATA too): the per-document element limit must not become a per-document allowance that a stream of
 * many documents multiplies. Over-counting can only refuse a stream no libvirt client writes.
 */
function startTagsIn(text: string): number {
  let n = 0;
  for (let i = text.indexOf('<'); i >= 0; i = text.indexOf('<', i + 1)) if (/[A-Za-z_:]/.test(text[i + 1] ?? '')) n++;
  return n;
}

export interface DocumentPart {
  /** 1-based position in the input. */
  readonly index: number;
  /** What the single-document parser reads: blanks for what came before, then this document. */
  readonly parse: Uint8Array;
  /** Bytes at the start of `parse` (and of its output) that are blanks standing for earlier text. */
  readonly blankBytes: number;
  /** The original bytes the blanks replace inside this document (an XML declaration after the first document). */
  readonly restore: Uint8Array;
}

const encoder = new TextEncoder();

/** Every code point but CR and LF as one space: lines and columns (in code points) stay where they were. */
const blank = (s: string) => s.replace(/[^\r\n]/gu, ' ');

/**
 * The documents of an input. One document (or anything the parser will reject anyway) is one part
 * whose `parse` is the input itself, so the single-document path is unchanged byte for byte.
 */
/** Why a stream was refused as a whole, before any document of it was decided. */
export type StreamRefusal = { readonly tooMany: number } | { readonly tooManyElements: number };

export function refusalMessage(r: StreamRefusal): string {
  return 'tooMany' in r ? `more than ${r.tooMany} documents in one input` : `more than ${r.tooManyElements} elements in one stream of documents`;
}

export function splitDocuments(bytes: Uint8Array): DocumentPart[] | StreamRefusal {
  const whole: DocumentPart[] = [{ index: 1, parse: bytes, blankBytes: 0, restore: new Uint8Array() }];
  const decoded = decodeUtf8(bytes);
  if (!decoded.ok) return whole;
  const { text, hasBom } = decoded.value;
  const bom = hasBom ? 3 : 0;
  const byteOffset = (utf16: number) => bom + encoder.encode(text.slice(0, utf16)).length;

  // Document starts (UTF-16 offsets in `text`), found by the scanner itself: it reports where a second
  // root element or a second XML declaration begins after a complete document.
  const starts = [0];
  for (;;) {
    const view = scanText(text, starts[starts.length - 1]!, starts.length > 1);
    const scanned = scanXml(view.text);
    if (scanned.ok || scanned.error.nextDocumentAt === undefined) break;
    starts.push(scanned.error.nextDocumentAt - view.prefixLength + view.skipped);
    if (starts.length > MAX_DOCUMENTS) return { tooMany: MAX_DOCUMENTS };
  }
  if (starts.length === 1) return whole;
  if (startTagsIn(text) > MAX_ELEMENTS) return { tooManyElements: MAX_ELEMENTS };

  return starts.map((start, i) => {
    const end = i + 1 < starts.length ? starts[i + 1]! : text.length;
    if (i === 0) return { index: 1, parse: bytes.subarray(0, byteOffset(end)), blankBytes: 0, restore: new Uint8Array() };
    const { text: scan, prefixLength, skipped } = scanText(text.slice(0, end), start, true);
    const prefix = encoder.encode(scan.slice(0, prefixLength));
    return {
      index: i + 1,
      parse: encoder.encode(scan),
      blankBytes: prefix.length,
      restore: bytes.subarray(byteOffset(start), byteOffset(skipped)),
    };
  });
}

/**
 * The text a document starting at `start` is scanned as: everything before it blanked, and for a
 * later document its own XML declaration too (a declaration after whitespace is not well-formed; it is
 * given back from `restore`). `skipped` is where the unblanked text resumes in `text`.
 */
function scanText(text: string, start: number, later: boolean): { text: string; prefixLength: number; skipped: number } {
  let skipped = start;
  if (later && text.startsWith('<?xml', start)) {
    const close = text.indexOf('?>', start);
    if (close >= 0) skipped = close + 2;
  }
  const prefix = blank(text.slice(0, skipped));
  return { text: prefix + text.slice(skipped), prefixLength: prefix.length, skipped };
}

/** The input again from each document's output: the blanks dropped, the declaration given back. */
export function joinDocuments(parts: readonly DocumentPart[], outputs: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return outputs[0]!;
  return Buffer.concat(parts.flatMap((p, i) => [p.restore, outputs[i]!.subarray(p.blankBytes)]));
}
