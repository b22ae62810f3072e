/**
 * `--version` prints package.json's version, from the shipped bundle (fixed at build time, no file
 * read) and through yargs when other arguments come along; snapshots record the same version.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '../..');
const CLI = join(REPO, 'dist/cli/main.js');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: REPO, encoding: 'utf8' });

describe('--version', () => {
  it('prints the package version alone, and with a command', () => {
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(run('--version')).toMatchObject({ status: 0, stdout: `${VERSION}\n`, stderr: '' });
    expect(run('query', '--version')).toMatchObject({ status: 0, stdout: `${VERSION}\n` });
  });

  it('is what a facts snapshot names as its generator', () => {
    const r = run('facts', '--models', 'dac', '--user', 'nobody', '--group', 'nogroup', 'samples/demo/live-demo.xml');
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { generator: string }).generator).toBe(`virt-seclabel ${VERSION}`);
  });

  it('the changelog starts, with a section for this version or Unreleased', () => {
    const log = readFileSync(join(REPO, 'CHANGELOG.md'), 'utf8');
    expect(log).toMatch(new RegExp(`^## \\[(Unreleased|${VERSION.replace(/\./g, '\\.')})\\]`, 'm'));
  });
});
