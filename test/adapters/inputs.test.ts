/**
 * readInput (src/cli/io.ts): a regular file comes back whole in one read, anything past the limit is cut
 * at the limit, and endless or size-less sources (devices, pipes) are read in steps up to the limit.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readInput } from '../../src/adapters/inputs.js';

describe('readInput', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'vsl-read-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('regular files of every size around the limit', () => {
    const limit = 3 * 1024 * 1024 + 7;
    for (const size of [0, 1, 4096, (1 << 20) + 1, limit - 1, limit, limit + 1, limit + (1 << 20)]) {
      const data = Buffer.alloc(size);
      for (let i = 0; i < size; i += 4093) data[i] = (i / 4093) & 0xff;
      const file = join(dir, `f${size}`);
      writeFileSync(file, data);
      const got = Buffer.from(readInput(file, limit));
      expect(got.length, `size ${size}`).toBe(Math.min(size, limit));
      expect(got.equals(data.subarray(0, limit)), `size ${size}`).toBe(true);
    }
  });

  it('a device without end and a pipe stop at the limit or their end', async () => {
    expect(readInput('/dev/zero', 5_000_000).length).toBe(5_000_000);
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `head -c 2500000 /dev/urandom > ${fifo}`]);
    expect(readInput(fifo, 10_000_000).length).toBe(2_500_000);
    await new Promise((r) => writer.on('exit', r));
  });
});
