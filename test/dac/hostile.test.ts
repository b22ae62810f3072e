/**
 * Hostile or corrupt host data (as a snapshot file could carry): the engine must never throw, hang or
 * claim access it cannot prove, whatever the modes, ACL bytes, link bodies and paths.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDacAccess } from '../../src/dac/check.js';
import { memoryView, type MemoryNode } from '../support/memory-view.js';

const names = ['a', 'b', 'c'];
const pathArb = fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: 3 }).map((p) => `/${p.join('/')}`);
const targetArb = fc.oneof(
  pathArb,
  fc.array(fc.constantFrom('a', 'b', '..', '.', '', 'x'.repeat(300)), { maxLength: 6 }).map((p) => p.join('/')),
  fc.constantFrom('/', '//', '', 'a/'.repeat(3000)),
);
const nodeArb: fc.Arbitrary<MemoryNode> = fc.oneof(
  fc.record({
    type: fc.constantFrom('file', 'dir', 'block', 'char', 'fifo', 'socket') as fc.Arbitrary<'file'>,
    mode: fc.oneof(fc.integer({ min: 0, max: 0o7777 }), fc.integer()),
    uid: fc.constantFrom(0, 64055, 1000, -1, 2 ** 32),
    gid: fc.constantFrom(0, 107, 64055, NaN),
    acl: fc.option(fc.uint8Array({ maxLength: 64 }).map((b) => (b.length >= 4 ? Uint8Array.from([2, 0, 0, 0, ...b.slice(4)]) : b)), { nil: undefined }),
  }),
  fc.record({ type: fc.constant('symlink' as const), target: targetArb }),
  fc.record({ type: fc.constant('unknown' as const), why: fc.constant('unreadable') }),
);
const treeArb = fc.dictionary(pathArb, nodeArb, { maxKeys: 8 });
const id = { uid: 64055, gid: 64055, groups: [107, 64055] };

describe('checkDacAccess on hostile host data', () => {
  it('never throws, stays fast, and only says yes with a found file', () => {
    fc.assert(
      fc.property(treeArb, fc.oneof(pathArb, targetArb), fc.constantFrom('read', 'readwrite') as fc.Arbitrary<'read' | 'readwrite'>, (tree, path, want) => {
        let view;
        try {
          view = memoryView(tree);
        } catch {
          return; // the test fixture itself refused the tree (e.g. a file used as a parent)
        }
        const t = performance.now();
        const v = checkDacAccess(view, id, path, want);
        expect(performance.now() - t).toBeLessThan(500);
        if (v.accessible === true) expect(v.file.inode.type).not.toBe('symlink');
        else expect(typeof v.reason).toBe('string');
      }),
      { numRuns: 3000 },
    );
  });
});
