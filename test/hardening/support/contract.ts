/**
 * The CLI's promise for every input, as one check: exit 0 with the minimal-diff output (and only
 * warnings on stderr), or exit 2 with `FILE:LINE:COL: error: …` and nothing on stdout. Never another
 * code, never a stack trace, never a position outside the input.
 */
import { checkMinimalDiff, type NewSeclabel } from './minimal-diff.js';

export interface RunResult {
  readonly code: number | null;
  readonly stdout: Uint8Array;
  readonly stderr: string;
}

export type ContractCheck =
  | { readonly ok: true; readonly outcome: 'annotated' | 'unchanged' | 'refused'; readonly added: readonly NewSeclabel[] }
  | { readonly ok: false; readonly why: string };

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const STACK = /\n\s+at .+\(.*:\d+:\d+\)|\bat (?:async )?\S+ \(file:|internal error|TypeError|RangeError|ReferenceError|SyntaxError/;

function lineCount(bytes: Uint8Array): number {
  let n = 1;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x0a) n++;
    else if (b === 0x0d && bytes[i + 1] !== 0x0a) n++;
  }
  return n;
}

export function checkContract(r: RunResult, input: Uint8Array, name: string, models: readonly string[]): ContractCheck {
  if (STACK.test(r.stderr)) return { ok: false, why: `stack trace or internal error on stderr: ${r.stderr.slice(0, 400)}` };
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  const diag = new RegExp(`^${escape(name)}:(\\d+):(\\d+): (error|warning|info): \\S`);
  for (const l of lines) {
    const m = diag.exec(l);
    if (!m) return { ok: false, why: `stderr line not in FILE:LINE:COL form: ${JSON.stringify(l.slice(0, 200))}` };
    const line = Number(m[1]);
    if (line < 1 || Number(m[2]) < 1 || line > lineCount(input)) return { ok: false, why: `position ${m[1]}:${m[2]} outside the input: ${l.slice(0, 200)}` };
  }
  if (r.code === 2) {
    if (r.stdout.length !== 0) return { ok: false, why: `exit 2 with ${r.stdout.length} bytes on stdout` };
    if (!lines.some((l) => diag.exec(l)?.[3] === 'error')) return { ok: false, why: `exit 2 without a FILE:LINE:COL error: ${r.stderr.slice(0, 200)}` };
    return { ok: true, outcome: 'refused', added: [] };
  }
  if (r.code !== 0) return { ok: false, why: `exit code ${String(r.code)}; stderr: ${r.stderr.slice(0, 300)}` };
  if (lines.some((l) => diag.exec(l)?.[3] === 'error')) return { ok: false, why: `exit 0 with an error on stderr: ${r.stderr.slice(0, 300)}` };
  const diff = checkMinimalDiff(input, r.stdout, models);
  if (!diff.ok) return diff;
  return { ok: true, outcome: diff.added.length > 0 ? 'annotated' : 'unchanged', added: diff.added };
}
