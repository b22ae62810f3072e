/** The classic cases built as real trees and opened by the kernel: the expectations are the kernel's. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDacAccess } from '../../src/dac/check.js';
import { createLiveView } from '../../src/adapters/live/live-view.js';
import { missingRequirements } from '../support/requirements.js';
import { CLASSIC_CASES, QEMU } from './support/classic-cases.js';
import { kernelClass, kernelOpen } from './support/kernel-open.js';
import { materialize } from './support/materialize.js';
import { makeScratch, type Scratch } from './support/scratch-fs.js';

const skip = missingRequirements({ root: true, commands: ['setpriv', 'setfacl', 'mknod'], files: ['/usr/bin/python3'] });

describe.skipIf(skip !== undefined)('classic cases vs the kernel', () => {
  let scratch: Scratch | undefined;
  let base = '';
  beforeAll(() => {
    scratch = makeScratch('virt-seclabel-classic-');
    base = scratch.base;
    CLASSIC_CASES.forEach((c, i) => materialize(`${base}/c${i}`, c.tree));
  });
  afterAll(() => scratch?.cleanup());

  it('the kernel, the engine and the expectation agree on every classic case', () => {
    const view = createLiveView();
    const rows = CLASSIC_CASES.map((c, i) => {
      const id = c.identity ?? QEMU;
      const path = `${base}/c${i}${c.path}`;
      const kernel = kernelClass(kernelOpen(id, [[path, c.want]]).results[0]!);
      const v = checkDacAccess(view, id, path, c.want);
      const engine = v.accessible === true ? 'ok' : v.accessible === false ? v.errno : 'unknown';
      // On a nodev scratch filesystem (the /dev/shm fallback) device nodes are refused before any mode check.
      const type = c.tree[c.path]?.type;
      const device = type === 'block' || type === 'char';
      const expected = device && scratch!.noDev ? 'EACCES' : c.expect;
      return { name: c.name, expected, kernel, engine };
    });
    expect(rows).toEqual(rows.map((r) => ({ ...r, kernel: r.expected, engine: r.expected })));
  });
});
