/**
 * Each decision's status in the words the Cockpit page shows (src/report/status.ts): one per action and
 * access, including the ones the JSON suites do not reach on a DAC-only host (svirt's isolation rule,
 * a relabel='yes' seclabel, the files libvirt labels with no opt-out or never labels).
 */
import { describe, expect, it } from 'vitest';
import { fileStatus, statusWords } from '../../src/report/status.js';
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
