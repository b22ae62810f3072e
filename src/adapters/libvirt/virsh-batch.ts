/**
 * Many virsh commands in one virsh process (one connection to libvirtd), each reply delimited exactly.
 *
 * virsh runs a `;`-separated command string given as its one argument, and carries on after a command
 * fails (it reports `error: …` on stderr; its exit status is the last command's). After every command
 * the script echoes a marker to each stream: `echo '<LF>TOKEN-i<LF>'` on stdout, so the marker is a line
 * of its own whatever the reply ends with, and `echo --err 'TOKEN-i'`, which virsh prints as the stderr
 * line `error: TOKEN-i`. TOKEN is 128 random bits drawn per batch: a domain's XML or an error text can
 * contain any line, but not one it cannot guess. Command i's reply is the bytes between marker i-1 and
 * marker i, unchanged (the same bytes a virsh process of its own prints); it failed when its stderr part
 * has an `error:` line. Markers that never come (virsh died, or never connected) fail the commands they
 * would have closed, with what virsh said. (virsh reading commands on a non-tty stdin is no use here:
 * readline echoes each command line, markers included, to stdout.)
 */
import { spawnSync } from 'node:child_process';
import { lazyBuiltin } from '../../builtins.js';
import { failure, success, type Result } from '../../result.js';

const crypto = lazyBuiltin<typeof import('node:crypto')>('node:crypto');

/** One word for virsh's command-string parser: single quotes are literal there, as in sh. */
export function virshQuote(word: string): string {
  return /^[A-Za-z0-9_./+:=@-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A fresh unguessable marker stem (node:crypto loaded on first use, as in host/temp-name.ts). */
export function newToken(): string {
  return `vsl-${crypto().randomBytes(16).toString('hex')}`;
}

/** The one argument that makes virsh run `commands` (each a list of words), delimited for parseBatch. */
export function batchScript(commands: readonly (readonly string[])[], token: string): string {
  return commands.map((words, i) => `${words.map(virshQuote).join(' ')} ; echo --err ${token}-${i} ; echo '\n${token}-${i}\n'`).join(' ; ');
}

/** The bytes a command adds to a batch's script (to cut batches under MAX_SCRIPT_BYTES). */
export const scriptBytes = (words: readonly string[]) => Buffer.byteLength(batchScript([words], newTokenShape)) + 3 + 2 * 8;
const newTokenShape = `vsl-${'0'.repeat(32)}`;

/** virsh's error lines, without the `error: ` prefix, joined; what a one-command virsh would have said. */
function errorText(stderr: string): string | undefined {
  const lines = stderr.split('\n').filter((l) => l.startsWith('error: '));
  return lines.length === 0 ? undefined : lines.map((l) => l.slice('error: '.length)).join('; ');
}

/**
 * Each command's reply from a batch's output, and how many commands virsh answered (0: it never ran one,
 * e.g. it could not connect). `exit` describes how virsh ended, for the commands whose markers are missing.
 */
export function parseBatch(count: number, token: string, stdout: Buffer, stderr: string, exit: string): { replies: Result<Buffer, string>[]; answered: number } {
  const replies: Result<Buffer, string>[] = [];
  let out = 0;
  let err = 0;
  for (let i = 0; i < count; i++) {
    const mark = Buffer.from(`\n${token}-${i}\n`);
    const at = stdout.indexOf(mark, out);
    const errMark = `error: ${token}-${i}\n`;
    let errAt = stderr.indexOf(errMark, err);
    while (errAt > 0 && stderr[errAt - 1] !== '\n') errAt = stderr.indexOf(errMark, errAt + 1);
    if (at < 0 || errAt < 0) {
      const said = errorText(stderr.slice(err)) ?? exit;
      for (let j = i; j < count; j++) replies.push(failure(`virsh ended before answering: ${said}`));
      return { replies, answered: i };
    }
    const error = errorText(stderr.slice(err, errAt));
    replies.push(error === undefined ? success(stdout.subarray(out, at)) : failure(error));
    out = at + mark.length;
    err = errAt + errMark.length;
  }
  return { replies, answered: count };
}

/** The longest script runBatch passes: Linux takes at most 128 KiB in one argument (MAX_ARG_STRLEN). */
export const MAX_SCRIPT_BYTES = 120 * 1024;

export interface BatchOptions {
  readonly timeoutMs?: number;
  /** The virsh program (tests point this at a stand-in). */
  readonly virsh?: string;
}

/**
 * Runs `commands` in one `virsh -q -c uri` process: one reply per command, or why virsh answered none
 * (not installed, cannot connect). The script must fit MAX_SCRIPT_BYTES (see scriptBytes).
 */
export function runBatch(uri: string, commands: readonly (readonly string[])[], opts: BatchOptions = {}): Result<Result<Buffer, string>[], string> {
  if (commands.length === 0) return success([]);
  const token = newToken();
  const script = batchScript(commands, token);
  if (Buffer.byteLength(script) > MAX_SCRIPT_BYTES) return failure(`virsh: a batch of ${commands.length} commands is too long for one argument`);
  const r = spawnSync(opts.virsh ?? 'virsh', ['-q', '-c', uri, script], {
    maxBuffer: 1024 * 1024 * 1024,
    timeout: opts.timeoutMs ?? 300_000,
    env: { ...process.env, LC_ALL: 'C' },
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') return failure('virsh not found: install libvirt-clients (the domains mode talks to libvirt through virsh)');
  if (r.error && !r.stdout) return failure(`virsh: ${r.error.message}`);
  const exit = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
  const stderr = r.stderr.toString();
  const { replies, answered } = parseBatch(commands.length, token, r.stdout, stderr, exit);
  if (answered === 0) return failure(`virsh: ${errorText(stderr) ?? exit}`);
  return success(replies);
}
