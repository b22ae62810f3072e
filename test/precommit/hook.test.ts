/**
 * The pre-commit integration with real git and the real pre-commit framework: on the "hypervisor" a
 * facts snapshot is taken; the disks' tree is then removed (the workstation has none); in a repository
 * mapping vms/prod/** to that snapshot, a commit of a domain that needs an annotation is refused with
 * FILE:LINE:COL lines, `annotate --in-place` fixes it, and the same commit is then accepted.
 *
 * The hook is a `repo: local` hook with `language: system` running the built CLI: it works offline.
 * (.pre-commit-hooks.yaml's `language: node` hooks need npm to fetch the dependencies once.)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/requirements.js';

const skip = missingRequirements({ commands: ['git', 'pre-commit', 'truncate'] });
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const dist = join(projectRoot, '.tmp/precommit-dist');
const cli = join(dist, 'cli/main.js');

const domain = (iso: string, priv: string) => `<domain type='kvm'>
  <name>web</name>
  <devices>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='${iso}'/>
      <target dev='vdb' bus='sata'/>
      <readonly/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='${priv}'/>
      <target dev='vdc' bus='sata'/>
      <readonly/>
    </disk>
  </devices>
</domain>
`;

describe.skipIf(skip)('pre-commit hook', () => {
  let base: string;
  let repo: string;
  const env = () => ({ ...process.env, PRE_COMMIT_HOME: join(base, 'pre-commit-home'), GIT_CONFIG_NOSYSTEM: '1', HOME: base });
  const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: repo, env: env(), encoding: 'utf8' });
  const git = (...args: string[]) => {
    const r = run('git', args);
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(() => {
    // The built CLI, as an installed hook runs it; inside the project so node finds node_modules.
    // Type errors elsewhere in a tree under construction must not stop the emit, so only the output counts.
    rmSync(dist, { recursive: true, force: true });
    spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', dist], { cwd: projectRoot, stdio: 'ignore' });
    if (!existsSync(cli)) throw new Error('building the CLI failed');
    base = mkdtempSync(join(tmpdir(), 'vs-precommit-'));
    chmodSync(base, 0o755);
    repo = join(base, 'repo');
    mkdirSync(join(repo, 'vms/prod'), { recursive: true });
    mkdirSync(join(repo, 'vms/lab'), { recursive: true });
    mkdirSync(join(repo, 'facts'));
  }, 300_000);
  afterAll(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('refuses a commit that needs an annotation, accepts it once --in-place fixed it, without the host', () => {
    const tree = join(base, 'tree');
    mkdirSync(tree, { mode: 0o755 });
    const iso = join(tree, 'f.iso');
    const priv = join(tree, 'private.iso');
    execFileSync('truncate', ['-s', '1M', iso, priv]);
    chmodSync(iso, 0o644);
    chmodSync(priv, 0o600);
    writeFileSync(join(repo, 'vms/prod/web.xml'), domain(iso, priv));
    writeFileSync(join(repo, 'vms/lab/lab.xml'), domain(iso, priv));
    writeFileSync(join(repo, '.virt-seclabel.json'), JSON.stringify({ facts: [{ files: 'vms/prod/**.xml', snapshot: 'facts/prod.json' }] }, null, 2));
    writeFileSync(
      join(repo, '.pre-commit-config.yaml'),
      ['repos:', '- repo: local', '  hooks:', '  - id: virt-seclabel', '    name: virt-seclabel', `    entry: node ${cli} annotate --check`, '    language: system', '    files: \\.xml$', '    require_serial: true', ''].join('\n'),
    );

    // On the hypervisor: the snapshot, for an unprivileged qemu identity so the modes decide.
    const facts = run('node', [cli, 'facts', '--models', 'dac', '--user', '+4242', '--group', '+4242', 'vms/prod/web.xml', '-o', 'facts/prod.json']);
    expect(facts.status, facts.stderr).toBe(0);
    rmSync(tree, { recursive: true });

    git('init', '-q');
    git('config', 'user.email', 'dev@example.com');
    git('config', 'user.name', 'dev');
    const install = run('pre-commit', ['install']);
    expect(install.status, install.stderr + install.stdout).toBe(0);
    git('add', '-A');
    const refused = run('git', ['commit', '-m', 'add web']);
    const out = refused.stdout + refused.stderr;
    expect(refused.status, out).not.toBe(0);
    const sourceLine = readFileSync(join(repo, 'vms/prod/web.xml'), 'utf8').split('\n').findIndex((l) => l.includes(`'${iso}'`)) + 1;
    expect(out).toContain(`vms/prod/web.xml:${sourceLine}:7: warning: disk vdb (${iso}): add <seclabel model='dac' relabel='no'/>`);
    expect(out).not.toContain('disk vdc');
    expect(out).toContain('vms/lab/lab.xml: note: no entry of');
    expect(git('log', '--oneline', '--all')).toBe('');

    const fix = run('node', [cli, 'annotate', '--in-place', 'vms/prod/web.xml']);
    expect(fix.status, fix.stderr).toBe(0);
    const fixed = readFileSync(join(repo, 'vms/prod/web.xml'), 'utf8');
    expect(fixed).toContain(`<source file='${iso}'>\n        <seclabel model='dac' relabel='no'/>\n      </source>`);
    expect(fixed).toContain(`<source file='${priv}'/>`);

    git('add', '-A');
    const accepted = run('git', ['commit', '-m', 'add web']);
    expect(accepted.status, accepted.stdout + accepted.stderr).toBe(0);
    expect(git('log', '--oneline')).toContain('add web');

    // The host changes (the ISO becomes 0600) and a new snapshot is taken: the committed annotation is
    // now stale, and the next commit touching the file is refused, naming it.
    mkdirSync(tree, { mode: 0o755 });
    execFileSync('truncate', ['-s', '1M', iso]);
    chmodSync(iso, 0o600);
    const again = run('node', [cli, 'facts', '--models', 'dac', '--user', '+4242', '--group', '+4242', 'vms/prod/web.xml', '-o', 'facts/prod.json']);
    expect(again.status, again.stderr).toBe(0);
    rmSync(tree, { recursive: true });
    writeFileSync(join(repo, 'vms/prod/web.xml'), fixed.replace('<name>web</name>', '<name>web1</name>'));
    git('add', '-A');
    const stale = run('git', ['commit', '-m', 'rename web']);
    expect(stale.status).not.toBe(0);
    expect(stale.stdout + stale.stderr).toMatch(new RegExp(`vms/prod/web\\.xml:${sourceLine}:7: warning: disk vdb \\(${iso.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\): dac: `));
  });
});
