/**
 * The element tree the strict XML gate produces: just enough for the domain model and for splicing
 * edits into the original text at exact offsets. Offsets are UTF-16 indices into `XmlDocument.text`
 * (the decoded input without its BOM); splice edits are expressed in the same coordinates.
 */

export type Quote = '"' | "'";

export interface XmlAttribute {
  readonly name: string;
  /** Value with entity and character references decoded and attribute-value normalisation applied. */
  readonly value: string;
  readonly quote: Quote;
}

export interface XmlElement {
  readonly name: string;
  readonly attributes: readonly XmlAttribute[];
  readonly children: readonly XmlElement[];
  /** Decoded character data directly inside this element (text and CDATA, comments excluded), concatenated. */
  readonly text: string;
  /** Offset of the `<` of the start tag. */
  readonly start: number;
  /** Offset just past the `>` of the start tag (for `<a/>`, past the `/>`). */
  readonly startTagEnd: number;
  /** Offset of the `<` of the end tag; equals startTagEnd for a self-closing element. */
  readonly endTagStart: number;
  /** Offset just past the end tag's `>`; equals startTagEnd for a self-closing element. */
  readonly end: number;
  readonly selfClosing: boolean;
  /** 1-based line and column of the start tag's `<`, as an editor shows them. */
  readonly line: number;
  readonly column: number;
}

export interface XmlDocument {
  /** The input text after UTF-8 decoding, without a BOM. */
  readonly text: string;
  readonly hasBom: boolean;
  readonly root: XmlElement;
}

export function attr(el: XmlElement, name: string): string | undefined {
  return el.attributes.find((a) => a.name === name)?.value;
}

export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}
