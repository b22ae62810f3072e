/**
 * The JSON schemas are part of the interface: each must compile under Ajv's strict mode, and the
 * reports the CLI really prints must validate against them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { memoryView } from '../support/memory-view.js';
import { explain, GROUP, PASSWD, captureIo, DEBIAN_POLICY, withRealPolicy } from '../cli/harness.js';
import { runLabels } from '../../src/commands/labels.js';
import { missingRequirements } from '../support/requirements.js';

const schemaFiles = readdirSync('schemas').filter((f) => f.endsWith('.json'));

function compile(file: string) {
  // strictRequired would forbid `required` inside if/then branches, which is how the schema ties
  // "annotate" to a proof; every other strict check stays on.
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  return ajv.compile(JSON.parse(readFileSync(`schemas/${file}`, 'utf8')));
}

describe('JSON schemas', () => {
  it.each(schemaFiles)('%s compiles in strict mode', (f) => {
    expect(() => compile(f)).not.toThrow();
  });

  it('explain --json over every sample validates against report.schema.json', async () => {
    const validate = compile('report.schema.json');
    const samples = readdirSync('samples/domains').filter((f) => f.endsWith('.xml')).map((f) => `samples/domains/${f}`);
    const host = memoryView(
      { '/var/lib/libvirt/images': { type: 'dir', mode: 0o755 }, '/var/lib/libvirt/images/debian12.qcow2': { type: 'file', mode: 0o644 } },
      { text: { '/etc/passwd': PASSWD, '/etc/group': GROUP } },
    );
    const r = await explain(host, [...samples, 'samples/invalid/does-not-exist.xml'], { models: ['dac'] });
    expect(r.code).toBe(2); // the missing file
    expect(validate(r.report), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(r.report.files).toHaveLength(samples.length + 1);
    const disks = r.report.files.flatMap((f: { disks?: unknown[] }) => f.disks ?? []);
    expect(disks.length).toBeGreaterThan(30);
  });

  it('the schema rejects an annotate without proof and an n/a claiming access', () => {
    const validate = compile('report.schema.json');
    const base = {
      formatVersion: 1,
      connection: { mode: 'system', models: { dac: { active: true, why: 'x' }, selinux: { active: false, why: 'x' } }, user: 'u', group: 'g', dynamicOwnership: true, defaultConfined: true },
    };
    const disk = (dac: object) => ({ ...base, files: [{ file: 'f', domain: 'd', disks: [{ target: 'vda', source: '/x', access: 'read', models: { dac, selinux: { action: 'n/a', accessible: null, reason: 'r' } } }] }] });
    expect(validate(disk({ action: 'annotate', accessible: true, reason: 'r', proof: { files: [{ path: '/x', access: 'read' }] } }))).toBe(true);
    expect(validate(disk({ action: 'annotate', accessible: true, reason: 'r' }))).toBe(false);
    expect(validate(disk({ action: 'n/a', accessible: true, reason: 'r' }))).toBe(false);
    expect(validate(disk({ action: 'keep', accessible: true, reason: 'r' }))).toBe(false);
  });

  it.skipIf(missingRequirements({ files: [DEBIAN_POLICY] }))('labels --json and labels --check --json validate against labels.schema.json, and it rejects a wrong shape', async () => {
    const validate = compile('labels.schema.json');
    const view = withRealPolicy(memoryView({}, { text: { '/etc/selinux/config': 'SELINUXTYPE=default\n' } }));
    for (const extra of [{}, { check: 'system_u:object_r:virt_content_t:s0' }, { check: 'system_u:object_r:shadow_t:s0', context: 'system_u:system_r:svirt_t:s0:c1,c2' }]) {
      const c = captureIo();
      runLabels({ policy: DEBIAN_POLICY, booleans: {}, connect: 'qemu:///system', json: true, ...extra }, view, c.io);
      await c.settle();
      const out = JSON.parse(c.stdout());
      expect(validate(out), JSON.stringify(validate.errors, null, 2)).toBe(true);
      if (out.usable) {
        expect(out.usable.length).toBeGreaterThan(10);
        expect(validate({ ...out, usable: [{ ...out.usable[0], use: 'exclusive' }] })).toBe(false);
        expect(validate({ ...out, usable: [{ ...out.usable[0], levels: { sometimes: true } }] })).toBe(false);
      }
    }
  });
});
