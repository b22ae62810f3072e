/**
 * Text edits at offsets of XmlDocument.text, and turning the edited text back into bytes. Edits are
 * the only way output differs from input, which is what makes "nothing lost" checkable.
 */
import type { XmlDocument } from './tree.js';

export interface Edit {
  /** Offset in doc.text (UTF-16 index, no BOM). */
  readonly at: number;
  readonly deleteCount: number;
  readonly insert: string;
}

/**
 * Applies non-overlapping edits. Edits at the same offset keep their given order in the output.
 * Overlapping or out-of-range edits are a bug in the caller, so they throw rather than guess.
 */
export function applyEdits(text: string, edits: readonly Edit[]): string {
  const ordered = edits.map((edit, index) => ({ edit, index })).sort((a, b) => a.edit.at - b.edit.at || a.index - b.index);
  const out: string[] = [];
  let copied = 0;
  for (const { edit } of ordered) {
    if (!Number.isInteger(edit.at) || !Number.isInteger(edit.deleteCount) || edit.deleteCount < 0) {
      throw new RangeError(`invalid edit at ${edit.at} deleting ${edit.deleteCount}`);
    }
    if (edit.at < copied) throw new RangeError(`edit at ${edit.at} overlaps the previous edit ending at ${copied}`);
    if (edit.at + edit.deleteCount > text.length) throw new RangeError(`edit at ${edit.at} runs past the end of the text`);
    out.push(text.slice(copied, edit.at), edit.insert);
    copied = edit.at + edit.deleteCount;
  }
  out.push(text.slice(copied));
  return out.join('');
}

const BOM_BYTES = Uint8Array.of(0xef, 0xbb, 0xbf);

/** The bytes to write back: the BOM again if the input had one, then UTF-8. */
export function serialize(doc: Pick<XmlDocument, 'hasBom'>, text: string): Uint8Array {
  const body = new TextEncoder().encode(text);
  if (!doc.hasBom) return body;
  const out = new Uint8Array(BOM_BYTES.length + body.length);
  out.set(BOM_BYTES, 0);
  out.set(body, BOM_BYTES.length);
  return out;
}
