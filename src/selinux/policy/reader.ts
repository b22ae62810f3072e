import { PolicyFormatError } from './errors.js';

/**
 * Little-endian cursor over the policy bytes. The binary format has no table of contents, so every
 * section is read in order through this one cursor; it knows which section it is in so that every refusal
 * names the section and the offset. All counts are checked against the bytes that remain before anything
 * is allocated for them, which is what keeps an inflated count from turning into a huge allocation.
 */
export class ByteReader {
  private readonly view: DataView;
  /** The same bytes as a Buffer, for native string decoding. */
  private readonly text: Buffer;
  /** byteLength as a plain field: the typed-array getter is measurably slow in cold code. */
  private readonly end: number;
  private pos = 0;
  section = 'header';

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = bytes.byteLength;
  }

  get offset(): number {
    return this.pos;
  }

  /** The underlying view, for hot loops that check a whole record's length once (see avtab.ts). */
  get dataView(): DataView {
    return this.view;
  }

  /** Moves past `n` bytes a hot loop has already read through dataView; `n` must have been checked. */
  advance(n: number): void {
    this.need(n, 'record');
    this.pos += n;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(message: string, at: number = this.pos): never {
    throw new PolicyFormatError(at, this.section, message);
  }

  /** Refuses a read of `n` bytes that would run past the end; `what` names it in the message. */
  need(n: number, what: string): void {
    if (n > this.end - this.pos) this.fail(`truncated: ${what} needs ${n} bytes, ${this.remaining} left`);
  }

  u8(what = 'byte'): number {
    const p = this.pos;
    if (p + 1 > this.end) this.need(1, what);
    this.pos = p + 1;
    return this.view.getUint8(p);
  }

  u16(what = 'u16'): number {
    const p = this.pos;
    if (p + 2 > this.end) this.need(2, what);
    this.pos = p + 2;
    return this.view.getUint16(p, true);
  }

  u32(what = 'u32'): number {
    const p = this.pos;
    if (p + 4 > this.end) this.need(4, what);
    this.pos = p + 4;
    return this.view.getUint32(p, true);
  }

  /** Raw bytes (a view, not a copy). */
  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /**
   * A counted number of items each at least `minItemBytes` long: refuse a count that cannot fit in what
   * remains, before the caller loops or allocates (libsepol's exceeds_available_bytes, applied everywhere).
   */
  count(what: string, minItemBytes: number): number {
    const at = this.pos;
    const n = this.u32(`${what} count`);
    if (minItemBytes > 0 && n > Math.floor(this.remaining / minItemBytes)) {
      this.fail(`${what} count ${n} cannot fit in the ${this.remaining} bytes left`, at);
    }
    return n;
  }

  /** A symbol name of the given length: non-empty, fits, and decoded as UTF-8 without NULs. */
  name(length: number, what: string): string {
    const at = this.pos;
    if (length === 0) this.fail(`${what}: zero-length name`, at);
    this.need(length, what);
    this.pos = at + length;
    const bytes = this.bytes;
    for (let i = at; i < at + length; i++) if (bytes[i] === 0) this.fail(`${what}: name contains a NUL byte`, at);
    return this.text.toString('utf8', at, at + length);
  }
}
