import { PolicyFormatError } from './errors.js';

/**
 * Little-endian cursor over the policy bytes. The binary format has no table of contents, so every
 * section is read in order through this one cursor; it knows which section it is in so that every refusal
 * names the section and the offset. All counts are checked against the bytes that remain before anything
 * is allocated for them, which is what keeps an inflated count from turning into a huge allocation.
 */
export class ByteReader {
  private readonly view: DataView;
  private pos = 0;
  section = 'header';

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
    return this.bytes.byteLength - this.pos;
  }

  fail(message: string, at: number = this.pos): never {
    throw new PolicyFormatError(at, this.section, message);
  }

  private need(n: number, what: string): void {
    if (n > this.remaining) this.fail(`truncated: ${what} needs ${n} bytes, ${this.remaining} left`);
  }

  u8(what = 'byte'): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
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
    const raw = this.take(length, what);
    // Names are ASCII in practice; building them directly avoids a native TextDecoder call per name,
    // which dominates the symbol tables' cost on a cold start.
    let ascii = '';
    for (let i = 0; i < raw.length; i++) {
      const b = raw[i]!;
      if (b === 0) this.fail(`${what}: name contains a NUL byte`, at);
      if (b >= 0x80) return decoder.decode(raw);
      ascii += String.fromCharCode(b);
    }
    return ascii;
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false });
