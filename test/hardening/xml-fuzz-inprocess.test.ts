/**
 * Thousands of XML mutants through the annotate command in-process, on a host where every named file is
 * accessible (so the splice really runs): each run keeps the exit/stdout/stderr contract and the
 * minimal-diff property, and a second run over an annotated output is a no-op.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { DEBIAN_POLICY } from '../cli/harness.js';
import { missingRequirements } from '../support/requirements.js';
import { checkContract } from './support/contract.js';
import { openTree, pathsIn, swappableHost } from './support/open-host.js';
import { createRng, fuzzCount, fuzzSeed } from './support/prng.js';
import { annotateBytes, explainBytes } from './support/run-inprocess.js';
import { WELL_FORMED_NASTIES, domainWith, mutate, seedDocuments } from './support/xml-mutants.js';

const MODELS = ['dac', 'selinux'];
const encoder = new TextEncoder();
interface Report {
  files: { disks?: { models: Record<string, { action: string }> }[] }[];
}
const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
const validateReport = ajv.compile(JSON.parse(readFileSync(join(import.meta.dirname, '../../schemas/report.schema.json'), 'utf8')) as object);

const skip = missingRequirements({ files: [DEBIAN_POLICY] });

describe.skipIf(skip)('XML fuzz through annotate, in-process', () => {
  const host = swappableHost();
  const run = async (bytes: Uint8Array) => {
    host.setTree(openTree(pathsIn(bytes)));
    const t0 = performance.now();
    const r = await annotateBytes(host.ctx, bytes);
    return { r, ms: performance.now() - t0 };
  };

  it('every hand-written construct around <source> is accepted and annotated with a minimal diff', async () => {
    for (const [name, src] of WELL_FORMED_NASTIES) {
      for (const eol of ['\n', '\r\n']) {
        const bytes = encoder.encode(domainWith(src, eol));
        const { r } = await run(bytes);
        const c = checkContract(r, bytes, '<stdin>', MODELS);
        expect(c.ok ? c.outcome : c.why, `${name} (${JSON.stringify(eol)})`).toBe('annotated');
      }
    }
  });

  it('mutants: exit 0 with a minimal diff, or exit 2 with FILE:LINE:COL and empty stdout; a second run is a no-op', async () => {
    const seed = fuzzSeed();
    const rng = createRng(seed);
    const n = fuzzCount(500);
    const seeds = seedDocuments();
    const tally = { annotated: 0, unchanged: 0, refused: 0, idempotent: 0, explained: 0 };
    const ops = new Map<string, number>();
    let slowest = 0;
    for (let i = 0; i < n; i++) {
      const base = rng.pick(seeds);
      const m = mutate(base.bytes, rng);
      for (const o of m.ops) ops.set(o, (ops.get(o) ?? 0) + 1);
      const { r, ms } = await run(m.bytes);
      slowest = Math.max(slowest, ms);
      const what = `seed ${seed} mutant ${i} of ${base.name} by ${m.ops.join('+')}`;
      const c = checkContract(r, m.bytes, '<stdin>', MODELS);
      if (!c.ok) expect.fail(`${what}: ${c.why}`);
      tally[c.outcome]++;
      // explain renders the same decisions: same verdict on the file, a schema-valid report, and exactly
      // as many 'annotate' decisions as annotate inserted seclabels.
      if (i % 3 === 0) {
        const e = await explainBytes(host.ctx, m.bytes);
        expect(e.code, `${what}: explain exit code`).toBe(c.outcome === 'refused' ? 2 : 0);
        const report = JSON.parse(Buffer.from(e.stdout).toString('utf8')) as Report;
        expect(validateReport(report), `${what}: ${JSON.stringify(validateReport.errors)}`).toBe(true);
        const annotateDecisions = (report.files[0]?.disks ?? []).flatMap((d) => Object.values(d.models)).filter((md) => md.action === 'annotate').length;
        expect(annotateDecisions, `${what}: explain and annotate disagree`).toBe(c.added.length);
        tally.explained++;
      }
      if (c.outcome === 'annotated') {
        const again = await run(r.stdout);
        expect(again.r.code, what).toBe(0);
        expect(Buffer.from(again.r.stdout).equals(Buffer.from(r.stdout)), `${what}: second run changed the output`).toBe(true);
        tally.idempotent++;
      }
    }
    console.log(`xml fuzz in-process: seed ${seed}, ${n} mutants: ${JSON.stringify(tally)}, slowest ${slowest.toFixed(0)} ms; operators ${JSON.stringify(Object.fromEntries(ops))}`);
    // A fuzzer whose mutants all fail to parse tests only the error path.
    expect(tally.annotated).toBeGreaterThan(n / 20);
    expect(tally.refused).toBeGreaterThan(n / 20);
    expect(slowest).toBeLessThan(5000);
  });
});
