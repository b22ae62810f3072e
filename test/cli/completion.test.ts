/**
 * `virt-seclabel completion` for real: the generated bash function called by bash the way `complete -F`
 * calls it (COMP_WORDS, COMP_CWORD), and both shells driven interactively in tmux, TAB pressed, the
 * screen read back. The CLI is found on PATH as a person installs it (a wrapper script in a temp dir).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, REPO } from '../hardening/support/cli.js';
import { missingRequirements } from '../support/requirements.js';

const bin = mkdtempSync(join(tmpdir(), 'i13c-output-help-completion-'));
writeFileSync(join(bin, 'virt-seclabel'), `#!/bin/sh\nexec ${process.execPath} ${CLI} "$@"\n`);
chmodSync(join(bin, 'virt-seclabel'), 0o755);
const PATH = `${bin}:/usr/bin:/bin`;
afterAll(() => rmSync(bin, { recursive: true, force: true }));

/** COMPREPLY after the completion function runs on `line` (the last word is the one under the cursor). */
function bashComplete(line: string): { complete: string; reply: string[] } {
  const script = `
    source <(virt-seclabel completion bash) || exit 9
    complete -p virt-seclabel
    read -ra words <<<"$LINE"
    [[ "$LINE" == *" " ]] && words+=("")
    COMP_WORDS=("\${words[@]}"); COMP_CWORD=$(( \${#words[@]} - 1 ))
    fn=$(complete -p virt-seclabel | sed 's/.* -F \\([^ ]*\\) .*/\\1/')
    "$fn"
    printf '%s\\n' "\${COMPREPLY[@]}"`;
  const out = execFileSync('bash', ['--norc', '--noprofile', '-c', script], { cwd: REPO, encoding: 'utf8', env: { PATH, LINE: line } }).split('\n');
  return { complete: out[0]!, reply: out.slice(1).filter(Boolean) };
}

describe('bash completion, the generated function called as complete -F calls it', () => {
  it('registers for virt-seclabel, falling back to file names', () => {
    expect(bashComplete('virt-seclabel ').complete).toMatch(/^complete -o bashdefault -o default -F \S+ virt-seclabel$/);
  });

  it('commands, options, option choices; nothing where a FILE is wanted (bash completes files)', () => {
    expect(bashComplete('virt-seclabel ex').reply).toEqual(['explain']);
    expect(bashComplete('virt-seclabel explain --co').reply.sort()).toEqual(['--color', '--config', '--connect']);
    expect(bashComplete('virt-seclabel explain --color ').reply.sort()).toEqual(['always', 'auto', 'never']);
    expect(bashComplete('virt-seclabel explain --color=').reply).toEqual([]);
    expect(bashComplete('virt-seclabel explain samples/demo/we').reply).toEqual([]);
    expect(bashComplete('virt-seclabel query --tc').reply.sort()).toEqual(['--tclass', '--tcontext']);
    expect(bashComplete('virt-seclabel completion ').reply.sort()).toEqual(['bash', 'zsh']);
  });

  it('only the words up to the cursor count', () => {
    // Options already typed after the cursor do not hide themselves from completion.
    const r = execFileSync(
      'bash',
      ['--norc', '-c', 'source <(virt-seclabel completion bash); COMP_WORDS=(virt-seclabel explain --co --color never); COMP_CWORD=2; _virt_seclabel_complete; echo "${COMPREPLY[*]}"'],
      { cwd: REPO, encoding: 'utf8', env: { PATH } },
    );
    expect(r.trim().split(' ').sort()).toEqual(['--color', '--config', '--connect']);
  });
});

const skip = missingRequirements({ commands: ['tmux', 'zsh'] });

describe.skipIf(skip !== undefined)('completion in an interactive shell (tmux)', () => {
  /** Starts `shell` in a tmux pane, sends each step (text, then TAB), returns the screen. */
  function drive(shell: string, setup: string, steps: readonly (readonly string[])[]): string {
    const session = `i13c-output-help-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-c', REPO, '-x', '150', '-y', '40', `env -i HOME=${bin} TERM=xterm PATH=${PATH} ${shell}`]);
    const pause = (s: number) => spawnSync('sleep', [String(s)]);
    try {
      pause(0.5);
      execFileSync('tmux', ['send-keys', '-t', session, setup, 'Enter']);
      pause(2);
      for (const s of steps) {
        execFileSync('tmux', ['send-keys', '-t', session, ...s]);
        pause(2);
      }
      return execFileSync('tmux', ['capture-pane', '-t', session, '-p'], { encoding: 'utf8' });
    } finally {
      spawnSync('tmux', ['kill-session', '-t', session]);
    }
  }

  // bash lists the choices on a second TAB, zsh on the first.
  it('the zsh script is valid zsh, also as an autoloaded function file', () => {
    const file = join(bin, '_virt-seclabel');
    writeFileSync(file, execFileSync(process.execPath, [CLI, 'completion', 'zsh'], { encoding: 'utf8' }));
    expect(spawnSync('zsh', ['-n', file]).status).toBe(0);
  });

  it.each([
    ['bash', 'bash --norc --noprofile', 'source <(virt-seclabel completion bash)', ['Tab', 'Tab']],
    ['zsh', 'zsh -f', 'autoload -U compinit && compinit -u && source <(virt-seclabel completion zsh)', ['Tab']],
  ])('%s: TAB completes a file, an option and lists its choices', (_name, shell, setup, list) => {
    const screen = drive(shell, setup, [['virt-seclabel explain samples/demo/we', 'Tab'], [' --col', 'Tab'], [' ', ...list]]);
    const lines = screen.split('\n');
    expect(lines.some((l) => /virt-seclabel explain samples\/demo\/web01\.xml +--color/.test(l)), screen).toBe(true);
    expect(lines.some((l) => /^always +auto +never\s*$/.test(l)), screen).toBe(true);
  });
});
