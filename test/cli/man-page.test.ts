/**
 * man/virt-seclabel.1: ships in the package (package.json `man`, in `npm pack`), renders without a
 * warning (groff -ww, mandoc -T lint), and documents every option of every command, enumerated from
 * the built CLI's yargs definitions (test/cli/support/cli-surface.ts), so an option or a command added
 * without its man page text fails here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../hardening/support/cli.js';
import { missingRequirements } from '../support/requirements.js';
import { commandPaths, helpOf, optionsOf, type CliOption } from './support/cli-surface.js';

const MAN = 'man/virt-seclabel.1';
const source = readFileSync(join(REPO, MAN), 'utf8');

/** The man page's sections (.SH) and subsections (.SS) by title, as plain text (fonts and escapes gone). */
function sections(roff: string): Map<string, string> {
  const plain = (s: string) => s.replace(/\\f[BIRP]/g, '').replace(/\\-/g, '-').replace(/\\\(\w\w/g, ' ').replace(/"/g, '');
  const out = new Map<string, string>();
  let title = '';
  for (const line of roff.split('\n')) {
    const heading = line.match(/^\.S[HS] (.*)$/);
    if (heading) title = plain(heading[1]!).trim();
    else if (!line.startsWith('.\\"')) out.set(title, `${out.get(title) ?? ''}\n${plain(line.replace(/^\.[A-Z]+ ?/, ''))}`);
  }
  return out;
}

const mentions = (text: string, flag: string) => new RegExp(`(^|[\\s(,|])${flag.replace(/[-]/g, '\\-')}(?![\\w-])`, 'm').test(text);

/**
 * The options of a command the man page does not document: an option must be in the command's own
 * subsection, in HOST OPTIONS when that subsection refers to them, or in GENERAL OPTIONS.
 */
function undocumented(roff: string, path: readonly string[], options: readonly CliOption[]): string[] {
  const s = sections(roff);
  const own = s.get(path.join(' '));
  if (own === undefined) return [`no .SS ${path.join(' ')} subsection`];
  const where = [own, ...(own.includes('HOST OPTIONS') ? [s.get('HOST OPTIONS') ?? ''] : []), s.get('GENERAL OPTIONS') ?? ''].join('\n');
  return options.flatMap((o) => [`--${o.long}`, ...(o.short ? [`-${o.short}`] : [])]).filter((flag) => !mentions(where, flag));
}

const paths = commandPaths();

describe('man page: every option of every command', () => {
  it.each(paths.map((p) => [p.join(' '), p] as const))('%s', (_name, path) => {
    const options = optionsOf(path);
    expect(options.length).toBeGreaterThan(0);
    expect(undocumented(source, path, options)).toEqual([]);
    for (const word of path) expect(sections(source).get('SYNOPSIS')).toMatch(new RegExp(`(^|[\\s[])${word}(?![\\w-])`, 'm'));
  });

  it('catches an option missing from it (the check can fail)', () => {
    const withoutPrune = source.replace(/^\.B \\-\\-prune\\-stale\n/m, '');
    expect(withoutPrune).not.toBe(source);
    expect(undocumented(withoutPrune, ['annotate'], optionsOf(['annotate']))).toEqual(['--prune-stale']);
    expect(undocumented(source, ['no-such-command'], [{ long: 'x' }])).toEqual(['no .SS no-such-command subsection']);
    expect(undocumented(source, ['query'], [{ long: 'connect', short: 'c' }, { long: 'qemu-conf' }])).toEqual(['--connect', '--qemu-conf']);
  });

  it('EXIT STATUS has every exit code a command\'s --help lists', () => {
    const codes = new Set(paths.flatMap((p) => [...helpOf(p).matchAll(/^ {2}(\d+) {2}\S/gm)].map((m) => m[1]!)));
    const exit = sections(source).get('EXIT STATUS') ?? '';
    for (const c of codes) expect(exit, c).toMatch(new RegExp(`^${c}$`, 'm'));
  });
});

describe('man page: in the package', () => {
  it('package.json names it in `man`, and npm pack ships it', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { man?: string[] };
    expect(pkg.man).toEqual([`./${MAN}`]);
    const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' })) as { files: { path: string }[] }[];
    expect(packed[0]!.files.map((f) => f.path)).toContain(MAN);
  });
});

const skipGroff = missingRequirements({ commands: ['groff'] });
const skipMandoc = missingRequirements({ commands: ['mandoc'] });

describe('man page: renders without a warning', () => {
  it.skipIf(skipGroff !== undefined)('groff -ww -man -z', () => {
    const r = spawnSync('groff', ['-ww', '-man', '-z', MAN], { cwd: REPO, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(skipMandoc !== undefined)('mandoc -T lint (style messages too)', () => {
    const r = spawnSync('mandoc', ['-T', 'lint', MAN], { cwd: REPO, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(skipGroff !== undefined)('the lint sees a real mistake (an unknown macro)', () => {
    const r = spawnSync('groff', ['-ww', '-man', '-z'], { cwd: REPO, encoding: 'utf8', input: `${source}\n.XYZZY oops\n` });
    expect(r.stderr).not.toBe('');
  });
});
