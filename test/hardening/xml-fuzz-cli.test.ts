/**
 * XML mutants through the real built CLI (`node dist/cli/main.js`) as a child process on the real
 * filesystem: the disk paths of the sample domains are moved into a temporary tree of world-writable
 * files, so `--models dac --user nobody --group nogroup` proves access and the splice runs. Every run must
 * end in time with exit 0 and a minimal diff, or exit 2 with FILE:LINE:COL and nothing on stdout.
 */
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';
import { CLI, pool, runCli } from './support/cli.js';
import { checkContract } from './support/contract.js';
import { createRng, fuzzCount, fuzzSeed } from './support/prng.js';
import { relocate } from './support/relocate.js';
import { mutate, seedDocuments } from './support/xml-mutants.js';

const skip = missingRequirements({ files: [CLI] });
const ARGS = ['--models', 'dac', '--user', 'nobody', '--group', 'nogroup', '--qemu-conf', '/nonexistent/qemu.conf'];
const TIMEOUT_MS = 30_000;

describe.skipIf(skip)('XML fuzz through the built CLI (child processes)', () => {
  const root = mkdtempSync(join(tmpdir(), 'vsl-hardening-cli-'));
  chmodSync(root, 0o755);
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const seeds = seedDocuments({ nasties: false }).map((s) => ({ name: s.name, bytes: encoder.encode(relocate(decoder.decode(s.bytes), root)) }));

  it('mutants via stdin and via FILE: the exit contract, minimal diff, no hang', async () => {
    const seed = fuzzSeed();
    const rng = createRng(seed);
    const n = fuzzCount(16);
    const cases = [
      ...seeds.map((s) => ({ from: s.name, ops: ['none'], bytes: s.bytes })),
      ...Array.from({ length: n }, () => {
        const base = rng.pick(seeds);
        const m = mutate(base.bytes, rng);
        return { from: base.name, ops: m.ops, bytes: m.bytes };
      }),
    ];
    const tally = { annotated: 0, unchanged: 0, refused: 0 };
    let slowest = 0;
    const failures: string[] = [];
    await pool(cases, 3, async (c, i) => {
      const viaFile = i % 2 === 1;
      const file = join(root, `mutant-${i}.xml`);
      if (viaFile) writeFileSync(file, c.bytes);
      const r = await runCli(viaFile ? [...ARGS, file] : ARGS, { stdin: viaFile ? undefined : c.bytes, timeoutMs: TIMEOUT_MS });
      slowest = Math.max(slowest, r.ms);
      const what = `seed ${seed} case ${i} (${c.from} by ${c.ops.join('+')}, ${viaFile ? 'FILE' : 'stdin'})`;
      if (r.timedOut) return void failures.push(`${what}: no exit within ${TIMEOUT_MS} ms`);
      const check = checkContract(r, c.bytes, viaFile ? file : '<stdin>', ['dac']);
      if (!check.ok) return void failures.push(`${what}: ${check.why}`);
      tally[check.outcome]++;
    });
    console.log(`xml fuzz CLI: seed ${seed}, ${cases.length} runs (${seeds.length} seeds + ${n} mutants): ${JSON.stringify(tally)}, slowest ${slowest.toFixed(0)} ms`);
    expect(failures).toEqual([]);
    expect(tally.annotated).toBeGreaterThan(seeds.length / 2);
    expect(tally.refused).toBeGreaterThan(n / 20);
  }, 600_000);
});
