/**
 * --prune-stale under fuzz: documents are first annotated on a host where everything is accessible,
 * then run with --prune-stale on a host where a random part of those files became inaccessible or
 * unreadable. The removal path (and removal plus insertion in one <source>) must keep the same contract:
 * exit 0 with only stale relabel='no' seclabels removed and proven ones inserted, or exit 2 with
 * FILE:LINE:COL; never an internal error. Removed ones must be really stale: none is removed from a disk
 * whose files all stayed accessible.
 */
import { describe, expect, it } from 'vitest';
import { DEBIAN_POLICY } from '../cli/harness.js';
import type { MemoryNode } from '../support/memory-view.js';
import { missingRequirements } from '../support/requirements.js';
import { checkMinimalDiff } from './support/minimal-diff.js';
import { openTree, pathsIn, swappableHost } from './support/open-host.js';
import { createRng, fuzzCount, fuzzSeed } from './support/prng.js';
import { annotateBytes } from './support/run-inprocess.js';
import { mutate, seedDocuments } from './support/xml-mutants.js';

const skip = missingRequirements({ files: [DEBIAN_POLICY] });
const STACK = /internal error|\n\s+at |TypeError|RangeError/;

/** The text of each <disk> element of a document, in document order (for the paths it names). */
function disksOf(bytes: Uint8Array): string[] {
  const text = new TextDecoder().decode(bytes);
  return [...text.matchAll(/<disk[\s>][\s\S]*?<\/disk>/g)].map((m) => m[0]);
}

describe.skipIf(skip)('--prune-stale fuzz (in-process)', () => {
  const host = swappableHost();

  it('annotated documents on a host that lost access: only stale seclabels go, the rest is kept', async () => {
    const seed = fuzzSeed();
    const rng = createRng(seed);
    const n = fuzzCount(200);
    const seeds = seedDocuments();
    const tally = { runs: 0, refused: 0, removed: 0, inserted: 0, both: 0 };
    for (let i = 0; i < n; i++) {
      const base = rng.pick(seeds);
      const m = rng.chance(0.7) ? mutate(base.bytes, rng) : { bytes: base.bytes, ops: ['none'] };
      const what = `seed ${seed} case ${i} (${base.name} by ${m.ops.join('+')})`;
      const paths = pathsIn(m.bytes);
      const open = openTree(paths);
      // Break a random subset of the files: DAC denial, an unknown inode, or an unreadable label.
      const breakSome = () => {
        const tree: Record<string, MemoryNode> = { ...open };
        const lostLabels = new Set<string>();
        const hit = new Set<string>();
        for (const p of paths) {
          const node = open[p];
          if (!node || node.type !== 'file' || !rng.chance(0.35)) continue;
          hit.add(p);
          const how = rng.int(3);
          if (how === 0) tree[p] = { ...node, mode: 0o600 };
          else if (how === 1) tree[p] = { type: 'unknown', why: 'test fault' };
          else lostLabels.add(p);
        }
        return { tree, lostLabels, hit };
      };
      // First annotated with one subset broken, then pruned with another: removals and insertions meet.
      const before = breakSome();
      host.setTree(before.tree, before.lostLabels);
      const first = await annotateBytes(host.ctx, m.bytes);
      if (first.code !== 0) continue;
      const after = breakSome();
      host.setTree(after.tree, after.lostLabels);
      const hit = after.hit;
      const r = await annotateBytes(host.ctx, first.stdout, [], { pruneStale: true });
      tally.runs++;
      expect(r.stderr, what).not.toMatch(STACK);
      if (r.code === 2) {
        expect(r.stdout, what).toHaveLength(0);
        expect(r.stderr, what).toMatch(/^<stdin>:\d+:\d+: error: /m);
        tally.refused++;
        continue;
      }
      expect(r.code, `${what}: ${r.stderr}`).toBe(0);
      const diff = checkMinimalDiff(first.stdout, r.stdout, ['dac', 'selinux'], { removals: true });
      if (!diff.ok) expect.fail(`${what}: ${diff.why}`);
      tally.removed += diff.removed.length;
      tally.inserted += diff.added.length;
      if (diff.removed.length > 0 && diff.added.length > 0) tally.both++;
      // A seclabel the first run proved can only go if a file named in that disk broke since; one that
      // came with the document may have been stale from the start (e.g. a policy that denies write).
      const proven = checkMinimalDiff(m.bytes, first.stdout, ['dac', 'selinux']);
      if (!proven.ok) expect.fail(`${what}: first run: ${proven.why}`);
      const disks = disksOf(first.stdout);
      for (const r of diff.removed) {
        if (!proven.added.some((a) => a.disk === r.disk && a.model === r.model)) continue;
        const named = pathsIn(new TextEncoder().encode(disks[r.disk] ?? ''));
        expect(named.some((p) => hit.has(p)), `${what}: ${r.model} seclabel removed from disk #${r.disk} whose files all stayed accessible`).toBe(true);
      }
      // And pruning again changes nothing.
      const again = await annotateBytes(host.ctx, r.stdout, [], { pruneStale: true });
      expect(again.code, what).toBe(0);
      expect(Buffer.from(again.stdout).equals(Buffer.from(r.stdout)), `${what}: second --prune-stale run changed the output`).toBe(true);
    }
    console.log(`prune-stale fuzz: seed ${seed}, ${n} cases: ${JSON.stringify(tally)}`);
    // Both paths must really run, or the checks above bite on nothing (observed: ≥ 30 of each per 200).
    expect(tally.removed).toBeGreaterThan(3);
    expect(tally.inserted).toBeGreaterThan(3);
  });
});
