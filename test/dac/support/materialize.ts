/** Builds an in-memory tree (test/support/memory-view.ts) as a real one, as root, for kernel checks. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { MemoryNode } from '../../support/memory-view.js';

function sh(...args: string[]): void {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
}

/** memoryView semantics on disk: missing ancestors are 0755 root:root directories, absolute links re-rooted. */
export function materialize(root: string, tree: Readonly<Record<string, MemoryNode>>): void {
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

