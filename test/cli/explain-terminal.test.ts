/**
 * `explain` as a person sees it: the built CLI in a real terminal (tmux) at 80 and 200 columns, and
 * into a pipe. On the terminal no line is wider than the terminal and every reason is there in full;
 * into a pipe every record is one line (grep finds it whole) and nothing is coloured; colour follows
 * --color and NO_COLOR. The summary counts each disk once.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, REPO, runCli } from '../hardening/support/cli.js';
import { missingRequirements } from '../support/requirements.js';

// Relative, as the README types it: the CLI runs in the repository (runCli's cwd, tmux -c).
const DEMO = ['explain', '--facts', 'samples/demo/host.json', 'samples/demo/web01.xml'];
const ESC = '\u001b[';
const text = (b: Uint8Array | string) => (typeof b === 'string' ? b : Buffer.from(b).toString('utf8'));

async function reasons(): Promise<string[]> {
  const r = await runCli([...DEMO, '--json'], { timeoutMs: 60_000 });
  const report = JSON.parse(text(r.stdout));
  return report.files[0].disks.flatMap((d: { models: Record<string, { reason: string }> }) => Object.values(d.models).map((m) => m.reason));
}

describe('explain into a pipe', () => {
  it('one record per line, no colour, the summary first, each warning once', async () => {
    const r = await runCli(DEMO, { timeoutMs: 60_000 });
    const out = text(r.stdout);
    expect(out).not.toContain(ESC);
    const lines = out.split('\n');
    expect(lines[0]).toBe('samples/demo/web01.xml (domain web01): 8 disks, 6 to annotate (dac 4, selinux 5), 2 kept');
    for (const reason of await reasons()) expect(lines.filter((l) => l.endsWith(reason) || l.includes(`  ${reason}`)).length, reason).toBeGreaterThan(0);
    // grep sees a whole record: the disk, the model, the action and the reason on one line.
    expect(lines.some((l) => /^ {2}sde +\/home\/alice\/Downloads\/ubuntu\.iso +read +dac +keep +no +\/home\/alice \(drwx------ alice:alice\): qemu cannot search/.test(l))).toBe(true);
    const warnings = (out + text(r.stderr)).split('\n').filter((l) => l.includes('qemu cannot search (other ---): the VM fails'));
    expect(warnings).toHaveLength(1);
  });

  it('--color always paints even into a pipe; --color never and NO_COLOR keep it plain', async () => {
    expect(text((await runCli([...DEMO, '--color', 'always'], { timeoutMs: 60_000 })).stdout)).toContain(`${ESC}32mannotate${ESC}0m`);
    expect(text((await runCli([...DEMO, '--color=never'], { timeoutMs: 60_000 })).stdout)).not.toContain(ESC);
  });
});

const skip = missingRequirements({ commands: ['tmux'] });

describe.skipIf(skip !== undefined)('explain in a real terminal (tmux)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsl-tty-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the CLI in a detached tmux pane of the given size and returns the screen, plain or with escapes. */
  function screen(width: number, env = '', extra: readonly string[] = []): { plain: string; raw: string } {
    const session = `vsl-${process.pid}-${width}-${Math.random().toString(36).slice(2, 8)}`;
    const done = join(dir, `${session}.done`);
    const command = `${env} ${process.execPath} ${CLI} ${[...DEMO, ...extra].map((a) => `'${a}'`).join(' ')}; touch ${done}; sleep 30`;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-c', REPO, '-x', String(width), '-y', '300', command]);
    try {
      for (let i = 0; i < 300 && spawnSync('test', ['-e', done]).status !== 0; i++) spawnSync('sleep', ['0.1']);
      const plain = execFileSync('tmux', ['capture-pane', '-t', session, '-p', '-S', '0'], { encoding: 'utf8' });
      const raw = execFileSync('tmux', ['capture-pane', '-t', session, '-p', '-e', '-S', '0'], { encoding: 'utf8' });
      return { plain: plain.replace(/\n+$/, '\n'), raw };
    } finally {
      spawnSync('tmux', ['kill-session', '-t', session]);
    }
  }

  it.each([80, 200])('at %i columns: no line wider than the terminal, every reason there in full, coloured', async (width) => {
    const { plain, raw } = screen(width);
    const lines = plain.split('\n');
    expect(Math.max(...lines.map((l) => [...l].length))).toBeLessThanOrEqual(width);
    expect(lines[0]).toMatch(/^\S*web01\.xml \(domain web01\):/);
    // Wrapping only moves spaces: with all whitespace removed, each reason is in the screen as it is in the JSON.
    const squeezed = plain.replace(/\s+/g, '');
    for (const reason of await reasons()) expect(squeezed, reason).toContain(reason.replace(/\s+/g, ''));
    expect(raw).toContain(`${ESC}32mannotate`);
  });

  it('NO_COLOR turns colour off on a terminal too', () => {
    expect(screen(120, 'NO_COLOR=1').raw).not.toContain(`${ESC}3`);
  });

  it('the README shows what an 80-column terminal shows', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const first = screen(80).plain.split('\n').slice(0, 8).join('\n');
    expect(readme).toContain(first);
  });
});
