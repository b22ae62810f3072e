/**
 * Shared by the package suites: the repository, its version, packing the built tree (the same dist/ every
 * other suite runs) and the README's demo command, whose output an installed package must reproduce.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '../..');
export const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

/** README command 1's decisions on the bundled demo snapshot. */
export const DEMO_ARGS = ['explain', '--facts', 'samples/demo/host.json', 'samples/demo/web01.xml'];

/** What the built dist/cli/main.js prints for the demo: the output every installed copy must match. */
export function demoFromBuild(): string {
  const r = spawnSync(process.execPath, [join(REPO, 'dist/cli/main.js'), ...DEMO_ARGS], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dist/cli/main.js ${DEMO_ARGS.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** scripts/package/npm-pack.sh into DIR; returns the tarball path. */
export function npmPack(dir: string): string {
  return execFileSync('bash', [join(REPO, 'scripts/package/npm-pack.sh'), dir], { cwd: REPO, encoding: 'utf8' }).trim().split('\n').at(-1)!;
}
