/**
 * How a refused policy file is reported: which section of the binary format was being read, at which
 * byte offset, and why. Every reader throws PolicyFormatError internally; load.ts is the one place that
 * turns it into a Result, so no partial policy ever escapes.
 */
export interface PolicyError {
  readonly offset: number;
  readonly section: string;
  readonly message: string;
}

export class PolicyFormatError extends Error {
  constructor(
    readonly offset: number,
    readonly section: string,
    readonly detail: string,
  ) {
    super(`${section} at offset ${offset}: ${detail}`);
    this.name = 'PolicyFormatError';
  }

  toPolicyError(): PolicyError {
    return { offset: this.offset, section: this.section, message: this.detail };
  }
}
