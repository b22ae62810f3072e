/** The classic cases built as real trees and opened by the kernel: the expectations are the kernel's. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDacAccess } from '../../src/dac/check.js';
import { createLiveView } from '../../src/host/live/live-view.js';
import { missingRequirements } from '../support/requirements.js';
import { CLASSIC_CASES, QEMU } from './support/classic-cases.js';
import { kernelClass, kernelOpen } from './support/kernel-open.js';
import type { MemoryNode } from '../support/memory-view.js';

const skip = missingRequirements({ root: true, commands: ['setpriv', 'setfacl', 'mknod'], files: ['/usr/bin/python3'] });

function sh(...args: string[]): void {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
}

/** memoryView semantics on disk: missing ancestors are 0755 root:root directories, absolute links re-rooted. */
function materialize(root: string, tree: Readonly<Record<string, MemoryNode>>): void {
  fs.mkdirSync(root, { mode: 0o755 });
  for (const [path, node] of Object.entries(tree).sort(([a], [b]) => a.split('/').length - b.split('/').length)) {
    const p = root + path;
    fs.mkdirSync(p.slice(0, p.lastIndexOf('/')), { recursive: true, mode: 0o755 });
    if (node.type === 'unknown' || node.type === 'fifo' || node.type === 'socket') throw new Error(`cannot materialize ${node.type}`);
    if (node.type === 'symlink') {
      fs.symlinkSync(node.target.startsWith('/') ? root + node.target : node.target, p);
      fs.lchownSync(p, node.uid ?? 0, node.gid ?? 0);
      continue;
    }
    if (node.type === 'dir') fs.mkdirSync(p, { recursive: true });
    else if (node.type === 'file') fs.writeFileSync(p, 'x');
    else sh('mknod', p, node.type === 'block' ? 'b' : 'c', '240', '1');
    fs.chownSync(p, node.uid ?? 0, node.gid ?? 0);
    fs.chmodSync(p, node.mode);
    if (typeof node.acl === 'string') sh('setfacl', `--set=${node.acl}`, p);
  }
}

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
