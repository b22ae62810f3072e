/**
 * The command line's own documentation, held to the definitions: every command's --help has examples
 * and the exit-code table; the man page renders without a warning (groff -ww, mandoc -T lint) and names
 * every option of every command, enumerated from the commands' own --help, so a new option fails here
 * until it is documented; bash completion, sourced into a real bash, completes commands, options and
 * choices; the zsh script is valid zsh and asks for the same candidates.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HELP } from '../../src/cli/help.js';
import { CLI, REPO, runCli } from '../hardening/support/cli.js';
import { missingRequirements } from '../support/requirements.js';

const MAN = join(REPO, 'man/virt-seclabel.1');
const text = (b: Uint8Array | string) => (typeof b === 'string' ? b : Buffer.from(b).toString('utf8'));

async function commands(): Promise<string[]> {
  const r = await runCli(['--help'], { timeoutMs: 60_000 });
  const block = text(r.stdout).split('\n\n').find((b) => b.startsWith('Commands:'))!;
  return block.split('\n').slice(1).map((l) => /^ {2}virt-seclabel ([a-z]+)/.exec(l)?.[1]).filter((c): c is string => c !== undefined);
}

/** Every option a command's --help lists, long form, plus its one-letter alias when it has one. */
async function optionsOf(command: string): Promise<string[]> {
  const r = await runCli([command, '--help'], { timeoutMs: 60_000 });
  const out: string[] = [];
  // yargs indents `-c, --connect` by 2 and an option without a short form by 6.
  for (const m of text(r.stdout).matchAll(/^ {2}(?:-(\w), | {4})--([\w-]+)/gm)) out.push(`--${m[2]}`, ...(m[1] ? [`-${m[1]}`] : []));
  expect(out.length, `${command} --help lists no options`).toBeGreaterThan(2);
  return out;
}

describe('--help on every command', () => {
  it('lists the commands people use', async () => {
    expect(await commands()).toEqual(expect.arrayContaining(['annotate', 'explain', 'facts', 'query', 'completion']));
  });

  it.each(Object.keys(HELP))('%s: examples and the exit-code table', async (command) => {
    const r = await runCli([command, '--help'], { timeoutMs: 60_000 });
    const out = text(r.stdout);
    expect(r.code).toBe(0);
    expect(out).toContain('Examples:');
    expect(out).toMatch(/Exit codes:\n {2}0 {2}\S/);
    for (const [code, meaning] of HELP[command as keyof typeof HELP].exitCodes) expect(out.replace(/\s+/g, ' ')).toContain(`${code} ${meaning}`);
  });
});

describe.skipIf(missingRequirements({ commands: ['groff', 'mandoc'] }) !== undefined)('the man page', () => {
  it('renders without warnings (groff -ww, mandoc -T lint)', () => {
    const groff = spawnSync('groff', ['-ww', '-man', '-z', MAN], { encoding: 'utf8' });
    expect(groff.status, groff.stderr).toBe(0);
    expect(groff.stderr).toBe('');
    const mandoc = spawnSync('mandoc', ['-T', 'lint', MAN], { encoding: 'utf8' });
    expect(mandoc.status, mandoc.stdout + mandoc.stderr).toBe(0);
    expect(mandoc.stdout + mandoc.stderr).toBe('');
  });

  it('names every option of every command, and every command', async () => {
    const man = readFileSync(MAN, 'utf8').replace(/\\-/g, '-').replace(/\\f[BIRP]/g, '');
    const missing: string[] = [];
    for (const command of await commands()) {
      if (!man.includes(command)) missing.push(command);
      for (const opt of await optionsOf(command)) if (!new RegExp(`(^|[\\s,\\[(])${opt}(?![\\w-])`, 'm').test(man)) missing.push(`${command} ${opt}`);
    }
    expect(missing, 'document these in man/virt-seclabel.1').toEqual([]);
  });

  it('is what package.json ships as the man page', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
    expect(pkg.man).toEqual(['./man/virt-seclabel.1']);
    expect(pkg.files).toContain('man/virt-seclabel.1');
  });
});

describe('shell completion', () => {
  const bin = mkdtempSync(join(tmpdir(), 'vsl-completion-'));
  afterAll(() => rmSync(bin, { recursive: true, force: true }));
  // The script calls `virt-seclabel` from PATH, as it would once installed.
  writeFileSync(join(bin, 'virt-seclabel'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
  chmodSync(join(bin, 'virt-seclabel'), 0o755);
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };

  /** COMPREPLY after completing `words` (the last one being completed) in a real bash with the script sourced. */
  function complete(words: readonly string[]): string[] {
    const script = execFileSync(process.execPath, [CLI, 'completion', 'bash'], { encoding: 'utf8' });
    writeFileSync(join(bin, 'completion.bash'), script);
    const quoted = words.map((w) => `'${w}'`).join(' ');
    const r = spawnSync('bash', ['-c', `source '${join(bin, 'completion.bash')}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _virt-seclabel_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"`], {
      encoding: 'utf8',
      env,
    });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.split('\n').filter(Boolean);
  }

  it('bash: commands, options of the command being typed, and the choices of an option', () => {
    expect(complete(['virt-seclabel', 'ex'])).toEqual(['explain']);
    expect(complete(['virt-seclabel', 'explain', '--bo'])).toEqual(['--boolean']);
    expect(complete(['virt-seclabel', 'explain', '--color', ''])).toEqual(['auto', 'always', 'never']);
    expect(complete(['virt-seclabel', 'query', '--tc'])).toEqual(['--tcontext', '--tclass']);
  });

  it.skipIf(missingRequirements({ commands: ['zsh'] }) !== undefined)('zsh: the script is valid zsh and defines the completion function', () => {
    const script = execFileSync(process.execPath, [CLI, 'completion', 'zsh'], { encoding: 'utf8' });
    expect(script.startsWith('#compdef virt-seclabel\n')).toBe(true);
    writeFileSync(join(bin, '_virt-seclabel'), script);
    expect(spawnSync('zsh', ['-n', join(bin, '_virt-seclabel')]).status).toBe(0);
    const r = spawnSync('zsh', ['-c', `autoload -U compinit && compinit -u -D; source '${join(bin, '_virt-seclabel')}'; whence -w _virt-seclabel_yargs_completions`], { encoding: 'utf8', env });
    expect(r.stdout).toContain('_virt-seclabel_yargs_completions: function');
    // What the zsh function asks for, with the words zsh passes.
    const asked = spawnSync('virt-seclabel', ['--get-yargs-completions', 'virt-seclabel', 'explain', '--col'], { encoding: 'utf8', env });
    expect(asked.stdout.split('\n')).toContain('--color');
  });
});
