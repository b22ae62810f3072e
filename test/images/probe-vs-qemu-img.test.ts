/** Format probing (used when an image records no backing format) against qemu-img's own probe. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_BYTES, probeFormat } from '../../src/images/probe.js';
import { missingRequirements } from '../support/requirements.js';
import { qemuImg } from './qemu-img.js';

const skip = missingRequirements({ commands: ['qemu-img'] });

describe.skipIf(skip !== undefined)('probeFormat agrees with qemu-img info (no -f)', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vsl-probe-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['raw', []],
    ['qcow2', ['-o', 'compat=1.1']],
    ['qcow2', ['-o', 'compat=0.10']],
    ['qed', []],
    ['vmdk', []],
    ['vmdk', ['-o', 'subformat=monolithicFlat']],
    ['vpc', []],
    ['vdi', []],
  ])('%s %j', (format, options) => {
    const file = join(dir, `${format}-${options.join('')}.img`.replace(/[=,]/g, '_'));
    qemuImg('create', '-q', '-f', format, ...options, file, '1M');
    const probedByQemu = (JSON.parse(execFileSync('qemu-img', ['info', '--output=json', file], { encoding: 'utf8' })) as { format: string }).format;
    const head = new Uint8Array(readFileSync(file).subarray(0, PROBE_BYTES));
    expect(probeFormat(head)).toBe(probedByQemu);
  });
});
