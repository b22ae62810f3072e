/**
 * Each decision's status in the words the Cockpit page shows (src/report/status.ts): one per action and
 * access, including the ones the JSON suites do not reach on a DAC-only host (svirt's isolation rule,
 * a relabel='yes' seclabel, the files libvirt labels with no opt-out or never labels).
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { apparmorJson } from '../../src/report/json.js';
import { apparmorStatus, fileStatus, statusWords } from '../../src/report/status.js';
import type { AppArmorDecision } from '../../src/decide/apparmor.js';
import type { FileModelDecision } from '../../src/decide/types.js';

const proof = { model: 'dac' as const, files: [], because: '' };
const cases: [FileModelDecision, string, string][] = [
  [{ action: 'n/a', accessible: null, reason: '' }, 'left-alone', 'libvirt will leave it alone'],
  [{ action: 'annotate', accessible: true, reason: '', proof }, 'needless', 'libvirt will chown or relabel it although QEMU could already use it'],
  [{ action: 'existing', accessible: true, reason: '', stale: false }, 'left-alone', 'libvirt will leave it alone'],
  [{ action: 'existing', accessible: null, reason: "relabel='yes'", stale: false }, 'unknown', 'cannot tell'],
  [{ action: 'existing', accessible: false, reason: '', stale: true }, 'cannot-open', 'QEMU cannot open it; the start will fail'],
  [{ action: 'keep', accessible: false, reason: '' }, 'cannot-open', 'QEMU cannot open it as it is; libvirt will chown or relabel it at start'],
  [{ action: 'keep', accessible: null, reason: '', byRule: true }, 'required', 'libvirt will relabel it, and must'],
  [{ action: 'keep', accessible: null, reason: '' }, 'unknown', 'cannot tell'],
  [{ action: 'relabel', accessible: true, reason: '' }, 'needless', 'libvirt will chown or relabel it although QEMU could already use it'],
  [{ action: 'relabel', accessible: false, reason: '' }, 'cannot-open', 'QEMU cannot open it as it is; libvirt will chown or relabel it at start'],
  [{ action: 'relabel', accessible: null, reason: '' }, 'unknown', 'cannot tell'],
  [{ action: 'as-is', accessible: true, reason: '' }, 'left-alone', 'libvirt will leave it alone'],
  [{ action: 'as-is', accessible: false, reason: '' }, 'cannot-open', 'QEMU cannot open it; the start will fail'],
  [{ action: 'as-is', accessible: null, reason: '' }, 'unknown', 'cannot tell'],
];

describe('fileStatus and statusWords', () => {
  it.each(cases)('%o → %s', (md, status, words) => {
    expect(fileStatus(md)).toBe(status);
    expect(statusWords(md)).toBe(words);
  });
});

// The apparmor row (an AppArmor host, Debian's and Ubuntu's default): libvirt changes no file for it, so
// the page says only whether the VM's profile lets QEMU open the file, and the row fits the schema.
describe('apparmorStatus', () => {
  const schema = JSON.parse(readFileSync('schemas/domains.schema.json', 'utf8'));
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  ajv.addSchema(schema);
  const validRow = ajv.compile({ $ref: `${schema.$id}#/$defs/status` });
  const rows: [AppArmorDecision, string, string][] = [
    [{ action: 'n/a', accessible: true, reason: 'allowed', rule: '/etc/apparmor.d/libvirt/libvirt-x.files:3: "/srv/a.iso" rk,' }, 'left-alone', 'libvirt will leave it alone'],
    [{ action: 'n/a', accessible: false, reason: 'no rule' }, 'cannot-open', "QEMU cannot open it: the VM's AppArmor profile refuses it; the start will fail"],
    [{ action: 'n/a', accessible: null, reason: 'virt-aa-helper refused' }, 'unknown', 'cannot tell'],
  ];
  it.each(rows)('%o → %s', (d, status, words) => {
    const s = apparmorStatus(d);
    expect(s).toEqual({ status, words });
    const row = { ...s, ...apparmorJson(d) };
    expect(validRow(row), JSON.stringify(validRow.errors)).toBe(true);
  });
});
