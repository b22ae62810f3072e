/**
 * schemas/facts.schema.json describes what `facts` writes: real recorded snapshots validate, and the
 * broken files parseFacts refuses are refused by the schema too (the two must not drift apart).
 */
import { readFileSync } from 'node:fs';
import Ajv2020Module from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFacts } from '../../src/adapters/snapshot/parse.js';
import { memoryView } from '../support/memory-view.js';
import { missingRequirements } from '../support/requirements.js';
import { DEBIAN_POLICY, GROUP, PASSWD, withRealPolicy } from '../cli/harness.js';
import { rng } from '../dac/support/prng.js';
import { record, removeScratch, writeDomains } from './harness.js';
import { randomHost } from './random-host.js';

afterAll(removeScratch);

const schema = JSON.parse(readFileSync(new URL('../../schemas/facts.schema.json', import.meta.url), 'utf8')) as object;
// `format` is an annotation here (no ajv-formats dependency); parseFacts checks the date itself.
// ajv is CommonJS: under NodeNext its class is the default export's `default`.
const Ajv2020 = Ajv2020Module.default;
const validate = new Ajv2020({ strict: true, allErrors: true, validateFormats: false }).compile(schema);

describe.skipIf(missingRequirements({ files: [DEBIAN_POLICY] }))('facts.schema.json', () => {
  it('accepts recorded snapshots, and refuses what parseFacts refuses', async () => {
    for (let seed = 1; seed <= 3; seed++) {
      const host = randomHost(rng(seed));
      const view = withRealPolicy(memoryView(host.tree, { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } }));
      const { text } = await record(view, { connect: 'system', qemuConf: '/etc/libvirt/qemu.conf', models: ['dac', 'selinux'], policy: DEBIAN_POLICY, booleans: {} }, writeDomains(host.domains));
      const data = JSON.parse(text) as Record<string, unknown>;
      expect(validate(data), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
      expect((data.selinux as { compute: unknown[] }).compute.length).toBeGreaterThan(0);

      const first = (o: Record<string, unknown>) => (o.view as Record<string, unknown>[])[0]!;
      const mutations: ((o: Record<string, unknown>) => void)[] = [
        (o) => (o.formatVersion = 2),
        (o) => (first(o).op = 'readBinary'),
        (o) => (first(o).path = 'relative'),
        (o) => (first(o).answer = { kind: 'missing', errno: 'EACCES' }),
        (o) => (o.extra = true),
        (o) => ((o.selinux as Record<string, unknown>).policy = { kind: 'loaded' }),
      ];
      for (const mutate of mutations) {
        const o = JSON.parse(text) as Record<string, unknown>;
        mutate(o);
        expect(parseFacts(JSON.stringify(o)).ok).toBe(false);
        expect(validate(o)).toBe(false);
      }
    }
  });
});
