import { readSync, writeSync } from 'node:fs';

/**
 * Reads until `buf` is full or the file ends (readSync may return fewer bytes than asked), from the
 * descriptor's current position, or with `position` from there on (pread, the position left alone);
 * returns how many bytes were read.
 */
export function readFully(fd: number, buf: Uint8Array, position?: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, position === undefined ? null : position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** Writes all of `data` (writeSync may write fewer bytes than asked). */
export function writeFully(fd: number, data: Uint8Array): void {
  let put = 0;
  while (put < data.length) put += writeSync(fd, data, put, data.length - put);
}
