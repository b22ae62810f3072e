/**
 * The hook this repository publishes (.pre-commit-hooks.yaml, language: node), installed by the real
 * pre-commit framework the way a user's repository would get it: pre-commit clones this repository,
 * `npm pack`s and installs it (the prepare script builds the TypeScript), then runs the hook. Needs the
 * npm registry for the dependencies, as the real install does. It tests the committed HEAD.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';

const skip = missingRequirements({ commands: ['git', 'pre-commit', 'npm'] });
const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe.skipIf(skip)('the published language: node hook', () => {
  it('installs through pre-commit and refuses a domain that needs seclabels', () => {
    const top = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
    const dir = mkdtempSync(join(tmpdir(), 'vsl-node-hook-'));
    made.push(dir);
    const repo = join(dir, 'vms-repo');
    mkdirSync(join(repo, 'vms'), { recursive: true });
    mkdirSync(join(repo, 'facts'));
    copyFileSync(join(top, 'samples/demo/web01.xml'), join(repo, 'vms/web01.xml'));
    copyFileSync(join(top, 'samples/demo/host.json'), join(repo, 'facts/host.json'));
    writeFileSync(join(repo, '.virt-seclabel.json'), JSON.stringify({ facts: [{ files: 'vms/*.xml', snapshot: 'facts/host.json' }] }));
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...args], { cwd: repo });
    git('init', '-q');
    git('add', '-A');
    // A user's environment: no npm loglevel inherited from the `npm test --loglevel=…` running this suite.
    const env: NodeJS.ProcessEnv = { ...process.env, PRE_COMMIT_HOME: join(dir, 'pre-commit-home') };
    delete env.npm_config_loglevel;
    const run = spawnSync('pre-commit', ['try-repo', top, 'virt-seclabel', '--files', 'vms/web01.xml'], { cwd: repo, env, encoding: 'utf8', timeout: 480_000 });
    const out = `${run.stdout}${run.stderr}`;
    expect(run.status, out).toBe(1);
    expect(out).toContain("vms/web01.xml:22:7: warning: disk sda (/srv/iso/fedora-40.iso): add <seclabel model='selinux' relabel='no'/>");
    expect(out).not.toMatch(/enoent|tarball .* corrupted/i);
  }, 600_000);
});
