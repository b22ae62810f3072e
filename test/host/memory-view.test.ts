/**
 * memoryView is what other suites trust instead of a real tree, so it must answer like the live view on
 * the same tree: walks (traces and ends), lstat, readlink and ACL bytes, for every classic case.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveView } from '../../src/adapters/live/live-view.js';
import { walkPath, type Walk } from '../../src/host/walk.js';
import { memoryView } from '../support/memory-view.js';
import { missingRequirements } from '../support/requirements.js';
import { CLASSIC_CASES } from '../dac/support/classic-cases.js';
import { materialize } from '../dac/support/materialize.js';

const skip = missingRequirements({ root: true, commands: ['setfacl', 'mknod'] });

/** A walk seen from inside `root`: steps outside it dropped, paths and link bodies made relative to it. */
function within(root: string | null, w: Walk) {
  const strip = (p: string) => (root === null ? p : p === root ? '/' : p.startsWith(`${root}/`) ? p.slice(root.length) : null);
  const steps = w.steps.flatMap((s) => {
    const at = strip(s.kind === 'search' ? s.dir.path : s.link.path);
    if (at === null) return [];
    return [s.kind === 'search' ? `search ${at}` : `follow ${at} -> ${strip(s.target) ?? s.target}${s.trailing ? ' (trailing)' : ''}`];
  });
  const end = w.end.kind === 'found' ? `found ${strip(w.end.file.path)} ${w.end.file.inode.type} ${w.end.file.inode.mode.toString(8)}` : w.end.kind === 'error' ? `${w.end.errno} ${strip(w.end.at)}` : 'unknown';
  return { steps, end };
}

/** "cannot tell" answers carry free-text reasons; compare only that they are unknown. */
const kindOnly = <T extends { kind: string }>(l: T) => (l.kind === 'unknown' ? { kind: 'unknown' } : l);

describe.skipIf(skip !== undefined)('memoryView answers like the live view', () => {
  let base = '';
  beforeAll(() => {
    base = fs.mkdtempSync('/tmp/virt-seclabel-memview-');
    fs.chmodSync(base, 0o755);
    CLASSIC_CASES.forEach((c, i) => materialize(`${base}/c${i}`, c.tree));
  });
  afterAll(() => {
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  it('on every classic tree', () => {
    const live = createLiveView();
    CLASSIC_CASES.forEach((c, i) => {
      const root = `${base}/c${i}`;
      const mem = memoryView(c.tree);
      for (const path of [c.path, ...Object.keys(c.tree), `${c.path}/x`, `${c.path}/../.`]) {
        const real = root + path;
        expect(within(null, walkPath(mem, path)), `${c.name}: walk ${path}`).toEqual(within(root, walkPath(live, real)));
        const ls = live.lstat(real);
        expect(kindOnly(mem.lstat(path)), `${c.name}: lstat ${path}`).toEqual(kindOnly(ls));
        if (ls.kind === 'ok' && ls.value.type === 'symlink') {
          const body = live.readlink(real);
          expect(mem.readlink(path)).toEqual(body.kind === 'ok' ? { kind: 'ok', value: body.value.startsWith(root) ? body.value.slice(root.length) : body.value } : body);
        }
        expect(kindOnly(mem.aclAccess(path)), `${c.name}: acl ${path}`).toEqual(kindOnly(live.aclAccess(real)));
      }
    });
  });
});
