/**
 * Turning UTF-16 offsets into the 1-based line:column an editor shows, and the error type of the XML
 * layer. Lines end at LF, CRLF or a lone CR (XML's end-of-line handling); columns count Unicode code
 * points, so a character outside the BMP is one column, as in editors.
 */

export interface XmlError {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column in code points. */
  readonly column: number;
  readonly message: string;
  /** Set when the error is only that another whole document starts at this offset (UTF-16 units). */
  readonly nextDocumentAt?: number;
}

export interface LineColumn {
  readonly line: number;
  readonly column: number;
}

/**
 * Counts lines and columns forward through a text. The scanner asks for ascending offsets (each start
 * tag), so one counter makes the positions of all elements cost one pass in total.
 */
export class LineCounter {
  private offset = 0;
  private line = 1;
  private column = 1;

  constructor(private readonly text: string) {}

  /** Position of `target`; a target before the previous one restarts from the beginning. */
  at(target: number): LineColumn {
    const end = Math.max(0, Math.min(target, this.text.length));
    if (end < this.offset) {
      this.offset = 0;
      this.line = 1;
      this.column = 1;
    }
    const text = this.text;
    for (let i = this.offset; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x0a) {
        this.line++;
        this.column = 1;
      } else if (c === 0x0d) {
        // CRLF counts once: the LF that follows does the line break.
        if (text.charCodeAt(i + 1) !== 0x0a) {
          this.line++;
          this.column = 1;
        }
      } else if (!(isLowSurrogate(c) && i > 0 && isHighSurrogate(text.charCodeAt(i - 1)))) {
        // The second half of a surrogate pair is not a column of its own.
        this.column++;
      }
    }
    this.offset = end;
    return { line: this.line, column: this.column };
  }
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Linear in `offset`; for one-off positions such as an error. */
export function lineColumnAt(text: string, offset: number): LineColumn {
  return new LineCounter(text).at(offset);
}

export function errorAt(text: string, offset: number, message: string): XmlError {
  return { ...lineColumnAt(text, offset), message };
}

/** The form every command prints: `file:line:col: message`, as compilers and editors expect. */
export function formatXmlError(file: string, error: XmlError): string {
  return `${file}:${error.line}:${error.column}: ${error.message}`;
}
