/** .virt-seclabel.json: patterns as users know them, the nearest config walking up, first match wins. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findConfig, parseConfig, snapshotFor } from '../../src/precommit/config.js';
import { globToRegExp } from '../../src/precommit/glob.js';

describe('globToRegExp', () => {
  const cases: [string, string, boolean][] = [
    ['vms/prod/**.xml', 'vms/prod/a.xml', true],
    ['vms/prod/**.xml', 'vms/prod/x/y/a.xml', true],
    ['vms/prod/**.xml', 'vms/lab/a.xml', false],
    ['vms/*.xml', 'vms/a.xml', true],
    ['vms/*.xml', 'vms/x/a.xml', false],
    ['vms/**/a.xml', 'vms/a.xml', true],
    ['vms/**/a.xml', 'vms/p/q/a.xml', true],
    ['vm?.xml', 'vm1.xml', true],
    ['vm?.xml', 'vm/.xml', false],
    ['vm[12].xml', 'vm2.xml', true],
    ['vm[!12].xml', 'vm2.xml', false],
    ['a+b(c).xml', 'a+b(c).xml', true],
    ['a.xml', 'aXxml', false],
  ];
  for (const [pattern, path, expected] of cases)
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${path}`, () => expect(globToRegExp(pattern).test(path)).toBe(expected));
});

describe('the config file', () => {
  const root = mkdtempSync(join(tmpdir(), 'vs-config-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'repo/vms/prod/deep'), { recursive: true });
  mkdirSync(join(root, 'repo/vms/lab'), { recursive: true });
  writeFileSync(
    join(root, 'repo/.virt-seclabel.json'),
    JSON.stringify({ facts: [{ files: 'vms/prod/**.xml', snapshot: 'facts/prod.json' }, { files: 'vms/**', snapshot: 'facts/other.json' }] }),
  );

  it('is found walking up from the working directory; paths are relative to it', () => {
    const c = findConfig(join(root, 'repo/vms/prod/deep'));
    expect(c.ok && c.value?.path).toBe(join(root, 'repo/.virt-seclabel.json'));
    if (!c.ok || !c.value) return;
    const cwd = join(root, 'repo/vms');
    expect(snapshotFor(c.value, 'prod/deep/a.xml', cwd)).toBe(join(root, 'repo/facts/prod.json'));
    expect(snapshotFor(c.value, 'lab/b.xml', cwd)).toBe(join(root, 'repo/facts/other.json'));
    expect(snapshotFor(c.value, '../README.xml', cwd)).toBeUndefined();
    expect(snapshotFor(c.value, '../../outside.xml', cwd)).toBeUndefined();
  });

  it('is absent above every config', () => {
    const c = findConfig(root);
    expect(c).toEqual({ ok: true, value: undefined });
  });

  const bad: [string, RegExp][] = [
    ['not json', /not JSON/],
    ['[]', /not an object/],
    ['{"fact": []}', /unexpected key "fact"/],
    ['{"facts": {}}', /"facts" is not a list/],
    ['{"facts": [{"files": "a"}]}', /snapshot is not a file name/],
    ['{"facts": [{"files": "", "snapshot": "x"}]}', /files is not a pattern/],
    ['{"facts": [{"files": "a", "snapshot": "x", "host": 1}]}', /unexpected key "host"/],
  ];
  for (const [text, error] of bad)
    it(`refuses ${text} with a clear error`, () => {
      const r = parseConfig(text, '/r/.virt-seclabel.json');
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(error);
    });
});
