/**
 * --help on every command (enumerated from the CLI, so a new command is held to it too) shows real
 * examples and that command's exit codes; the examples the README and the help share are the same,
 * and the demo example really runs.
 */
import { describe, expect, it } from 'vitest';
import { HELP } from '../../src/cli/help.js';
import { runCli } from '../hardening/support/cli.js';
import { commandPaths, helpOf } from './support/cli-surface.js';

const paths = commandPaths();

describe('--help', () => {
  it('finds every command', () => {
    expect(paths.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['annotate', 'explain', 'facts', 'query', 'completion']));
  });

  it.each(paths.map((p) => [p.join(' '), p] as const))('%s --help: two or three examples and the exit codes', (_name, path) => {
    const help = helpOf(path);
    const examples = help.split('\n').slice(help.split('\n').indexOf('Examples:') + 1);
    const lines = examples.slice(0, examples.indexOf(''));
    const commands = lines.filter((l) => l.startsWith('  virt-seclabel '));
    expect(commands.length, help).toBeGreaterThanOrEqual(2);
    expect(commands.length, help).toBeLessThanOrEqual(3);
    // Each example invokes this very command (the default command may be named or not).
    for (const c of commands) expect(c.replace(/^ {2}virt-seclabel /, '').startsWith(path.join(' ')) || path.join(' ') === 'annotate', c).toBe(true);
    expect(help).toMatch(/\nExit codes:\n {2}0 {2}\S/);
    expect(help).toMatch(/\n {2}2 {2}\S/);
    // Each exit code of the command's table, with its meaning (wrapped lines joined).
    const table = HELP[path.join(' ') as keyof typeof HELP];
    if (table) for (const [code, meaning] of table.exitCodes) expect(help.replace(/\s+/g, ' ')).toContain(` ${code} ${meaning}`);
    // Nothing is wider than the 80 columns yargs lays help out in.
    for (const l of help.split('\n')) expect(l.length, l).toBeLessThanOrEqual(80);
  });

  it('the top level shows the default command with its examples and exit codes', () => {
    const help = helpOf([]);
    expect(help).toContain('Commands:');
    expect(help).toContain('Examples:\n  # annotate on the way to libvirt');
    expect(help).toContain('  1  --check found a file that would change');
  });

  it('the explain example on the demo runs and exits 0', async () => {
    const line = HELP.explain.examples[0][0].replace('$0 ', '').split(' ');
    const r = await runCli(line, { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    expect(Buffer.from(r.stdout).toString('utf8')).toMatch(/^samples\/demo\/web01\.xml \(domain web01\): 8 disks/);
  });
});
