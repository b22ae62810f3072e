/**
 * `--diff` as the tools people feed it to read it: the header names are the ones `git diff --no-index`
 * writes for the same paths (absolute, with spaces, quotes and non-ASCII), and real `patch -p1` and
 * `git apply` turn the original into exactly what the filter prints. And insertions in files that mix
 * indentation units take each disk's own unit.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gitDiffName, unifiedDiff } from '../../src/report/unified-diff.js';
import { missingRequirements } from '../support/requirements.js';
import { runCli } from '../hardening/support/cli.js';

const skip = missingRequirements({ commands: ['git', 'patch'] });
const HOST = ['--models', 'dac', '--user', 'nobody', '--group', 'nogroup', '--qemu-conf', '/nonexistent/qemu.conf'];
const text = (b: Uint8Array | string) => (typeof b === 'string' ? b : Buffer.from(b).toString('utf8'));

const domain = (units: readonly number[]) => {
  const disk = (unit: number, i: number) => {
    const pad = ' '.repeat(4 + unit);
    return `    <disk type='file' device='cdrom'>\n${pad}<driver name='qemu' type='raw'/>\n${pad}<source file='/usr/share/common-licenses/GPL-${i % 2 === 0 ? 3 : 2}'/>\n${pad}<target dev='hd${'abcd'[i]}' bus='ide'/>\n${pad}<readonly/>\n    </disk>\n`;
  };
  return `<domain type='qemu'>\n  <name>mixed</name>\n  <devices>\n${units.map(disk).join('')}  </devices>\n</domain>\n`;
};

describe.skipIf(skip !== undefined)('--diff headers and patch tools', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsl diff é-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names are what git diff --no-index writes for the same paths', () => {
    for (const name of ['plain.xml', 'with space.xml', 'quote".xml', 'tab\there.xml', 'naïve.xml']) {
      const a = join(dir, name);
      const b = join(dir, `new-${name}`);
      writeFileSync(a, 'a\n');
      writeFileSync(b, 'b\n');
      const git = spawnSync('git', ['-c', 'core.quotePath=true', 'diff', '--no-index', a, b], { encoding: 'utf8' }).stdout;
      const minus = git.split('\n').find((l) => l.startsWith('--- '))!;
      const plus = git.split('\n').find((l) => l.startsWith('+++ '))!;
      const ours = unifiedDiff(gitDiffName('a/', a), gitDiffName('b/', b), 'a\n', 'b\n').split('\n');
      expect(ours.slice(0, 2), name).toEqual([minus, plus]);
    }
  });

  it.each(['vm.xml', 'my vm.xml', 'naïve.xml'])('patch -p1 and git apply in / reproduce the filter output for an absolute path (%s)', async (name) => {
    const file = join(dir, name);
    writeFileSync(file, domain([2, 3]));
    const original = readFileSync(file);
    const [diff, filtered] = await Promise.all([runCli([...HOST, '--diff', file], { timeoutMs: 60_000 }), runCli([...HOST, file], { timeoutMs: 60_000 })]);
    expect(diff.code, text(diff.stderr)).toBe(0);
    expect(text(diff.stdout)).toContain(`--- ${gitDiffName('a/', file)}`);
    expect(text(filtered.stdout)).not.toBe(original.toString());

    execFileSync('patch', ['-p1', '--quiet'], { cwd: '/', input: text(diff.stdout) });
    expect(readFileSync(file, 'utf8')).toBe(text(filtered.stdout));

    writeFileSync(file, original);
    copyFileSync(file, `${file}.orig`);
    execFileSync('git', ['apply', '--unsafe-paths', '-p1'], { cwd: '/', input: text(diff.stdout) });
    expect(readFileSync(file, 'utf8')).toBe(text(filtered.stdout));
  });
});

describe('insertions in a file that mixes indentation units', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsl-indent-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('each disk takes its own unit, <source> indentation minus <disk> indentation', async () => {
    const file = join(dir, 'mixed.xml');
    writeFileSync(file, domain([2, 3, 3, 2]));
    const r = await runCli([...HOST, file], { timeoutMs: 60_000 });
    expect(r.code, text(r.stderr)).toBe(0);
    const seclabels = text(r.stdout).split('\n').filter((l) => l.includes('<seclabel'));
    expect(seclabels).toEqual([2, 3, 3, 2].map((u) => `${' '.repeat(4 + 2 * u)}<seclabel model='dac' relabel='no'/>`));
  });
});
