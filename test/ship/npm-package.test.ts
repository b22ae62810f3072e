/**
 * The npm package: `npm pack` of the built tree installs with `npm install -g` into a scratch prefix,
 * pulling only the production dependency (the native @napi-rs/xattr; the JavaScript ones are in the
 * bundle) from the npm cache npm ci filled (--prefer-offline: the registry only if the cache lacks it),
 * and the installed `bin` runs the README's demo with the same output as the build.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';
import { DEMO_ARGS, REPO, VERSION, demoFromBuild, npmPack } from './support.js';

const skip = missingRequirements({ commands: ['npm', 'tar'] });
const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe.skipIf(skip)('npm pack + npm install -g', () => {
  it('packs only the shipped build and installs a working bin without devDependencies', () => {
    const dir = mkdtempSync(join(tmpdir(), 'i15-ship-npm-'));
    made.push(dir);
    const tgz = npmPack(dir);
    expect(basename(tgz)).toBe(`virt-seclabel-${VERSION}.tgz`);
    const listed = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(listed).toContain('package/dist/cli/main.js');
    expect(listed).toContain('package/dist/cli/program.cjs');
    expect(listed).toContain('package/dist/cli/hook.cjs');
    // One code cache per operation the hook bundle serves (scripts/bundle.mjs).
    expect(listed).toContain('package/dist/cli/hook.cjs.prepare.v8cache');
    expect(listed).toContain('package/dist/cli/hook.cjs.start.v8cache');
    // The bundle is the program: no per-module tsc output, sources or tests in the tarball.
    expect(listed.filter((f) => !/^package\/(dist\/cli\/(main\.js|package\.json|program\.cjs|program\.cjs\.v8cache|hook\.cjs|hook\.cjs\.(prepare|start)\.v8cache|bundled-packages\.json)|schemas\/|package\.json|README\.md|CHANGELOG\.md|man\/virt-seclabel\.1$)/.test(f))).toEqual([]);

    const prefix = join(dir, 'prefix');
    const env: NodeJS.ProcessEnv = { ...process.env, npm_config_prefix: prefix };
    delete env.npm_config_loglevel;
    execFileSync('npm', ['install', '-g', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tgz], { env, encoding: 'utf8', timeout: 300_000 });
    const bin = join(prefix, 'bin', 'virt-seclabel');
    expect(existsSync(bin)).toBe(true);
    // npm links package.json's `man` entry where man finds it.
    expect(existsSync(join(prefix, 'share', 'man', 'man1', 'virt-seclabel.1'))).toBe(true);
    const installed = join(prefix, 'lib', 'node_modules', 'virt-seclabel', 'node_modules');
    const deps = readdirSync(installed).flatMap((d) => (d.startsWith('@') ? readdirSync(join(installed, d)).map((s) => `${d}/${s}`) : [d]));
    expect(deps.filter((d) => !d.startsWith('.')).sort()).toEqual(['@napi-rs/xattr', '@napi-rs/xattr-linux-x64-gnu']);

    const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect(version.stdout).toBe(`${VERSION}\n`);
    const demo = spawnSync(bin, DEMO_ARGS, { cwd: REPO, encoding: 'utf8' });
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stdout).toBe(demoFromBuild());
    // The hook script's call runs from its own bundle (dist/cli/hook.cjs): it must be in the package too.
    const xml = "<domain type='kvm'><name>vm1</name><devices><disk type='file' device='cdrom'><source file='/nonexistent/x.iso'><seclabel model='dac' relabel='no'/></source><target dev='hdc' bus='ide'/><readonly/></disk></devices></domain>\n";
    const hook = spawnSync(bin, ['hook', '--', 'vm1', 'prepare', 'begin', '-'], { input: xml, encoding: 'utf8' });
    // The annotated file does not exist: a proven-stale relabel='no', so the installed hook refuses the start (10).
    expect(hook.status, hook.stderr).toBe(10);
    expect(hook.stderr).toMatch(/vm1: disk hdc \(\/nonexistent\/x\.iso\): .* can no longer access it/);
  }, 400_000);
});
