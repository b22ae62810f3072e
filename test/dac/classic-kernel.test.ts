/** The classic cases built as real trees and opened by the kernel: the expectations are the kernel's. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDacAccess } from '../../src/dac/check.js';
import { createLiveView } from '../../src/host/live/live-view.js';
import { missingRequirements } from '../support/requirements.js';
import { CLASSIC_CASES, QEMU } from './support/classic-cases.js';
import { kernelClass, kernelOpen } from './support/kernel-open.js';
import { materialize } from './support/materialize.js';

const skip = missingRequirements({ root: true, commands: ['setpriv', 'setfacl', 'mknod'], files: ['/usr/bin/python3'] });

describe.skipIf(skip !== undefined)('classic cases vs the kernel', () => {
  let base = '';
  let mounted = false;
  beforeAll(() => {
    base = fs.mkdtempSync('/tmp/virt-seclabel-classic-');
    fs.chmodSync(base, 0o755);
    mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', base]).status === 0;
    CLASSIC_CASES.forEach((c, i) => materialize(`${base}/c${i}`, c.tree));
  });
  afterAll(() => {
    if (mounted) spawnSync('umount', [base]);
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  it('the kernel, the engine and the expectation agree on every classic case', () => {
    const view = createLiveView();
    const rows = CLASSIC_CASES.map((c, i) => {
      const id = c.identity ?? QEMU;
      const path = `${base}/c${i}${c.path}`;
      const kernel = kernelClass(kernelOpen(id, [[path, c.want]]).results[0]!);
      const v = checkDacAccess(view, id, path, c.want);
      const engine = v.accessible === true ? 'ok' : v.accessible === false ? v.errno : 'unknown';
      return { name: c.name, expected: c.expect, kernel, engine };
    });
    expect(rows).toEqual(rows.map((r) => ({ ...r, kernel: r.expected, engine: r.expected })));
  });
});
