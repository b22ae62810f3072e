/**
 * Drives policy-fuzz-child.mjs: a per-mutant watchdog (SIGKILL when a load does not finish in time),
 * restart after a hang or a crash at the next mutant, and the tally of what every mutant did.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const CHILD = join(import.meta.dirname, '../policy-fuzz-child.mjs');

export interface PolicyPlan {
  readonly policies: readonly { readonly path: string; readonly truncate: number; readonly flip: number; readonly inflate: number }[];
  readonly seed: number;
  readonly selftest?: 'hang' | 'allocate';
}

export interface MutantRecord {
  readonly index: number;
  readonly desc: string;
  /** refused:<section> | loaded | internal:… | inconsistent:… | threw:… | hang | crash:<code/signal + stderr> */
  readonly status: string;
  readonly ms: number;
  readonly rssMb: number;
  readonly arrayBuffersMb: number;
}

interface Attempt {
  readonly records: MutantRecord[];
  readonly done: boolean;
}

function attempt(plan: PolicyPlan, skip: number, heapMb: number, timeoutMs: number): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, CHILD, JSON.stringify({ ...plan, skip })], { stdio: ['ignore', 'pipe', 'pipe'] });
    const records: MutantRecord[] = [];
    let started: { index: number; desc: string; at: number } | undefined;
    let done = false;
    let hung = false;
    let buffer = '';
    let stderr = '';
    // The first load of a policy (instrumented, before any S line) gets the same allowance.
    let lastProgress = performance.now();
    const watchdog = setInterval(() => {
      if (performance.now() - lastProgress > timeoutMs) {
        hung = true;
        child.kill('SIGKILL');
      }
    }, 100);
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 4000) stderr += c.toString();
    });
    child.stdout.on('data', (c: Buffer) => {
      buffer += c.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        lastProgress = performance.now();
        const [tag, ...rest] = line.split(' ');
        if (tag === 'S') started = { index: Number(rest[0]), desc: rest.slice(1).join(' '), at: performance.now() };
        else if (tag === 'E' && started) {
          const [, status = '', ms = '0', rss = '0', ab = '0'] = rest;
          records.push({ index: started.index, desc: started.desc, status, ms: Number(ms), rssMb: Number(rss), arrayBuffersMb: Number(ab) });
          started = undefined;
        } else if (tag === 'DONE') done = true;
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(watchdog);
      if (!done && started) {
        const status = hung ? 'hang' : `crash:${code ?? signal} ${stderr.split('\n').find((l) => /FATAL|Error/.test(l)) ?? stderr.slice(0, 200)}`;
        records.push({ index: started.index, desc: started.desc, status, ms: performance.now() - started.at, rssMb: NaN, arrayBuffersMb: NaN });
      } else if (!done) {
        reject(new Error(`policy fuzz child failed before any mutant (${code ?? signal}): ${stderr.slice(0, 500)}`));
        return;
      }
      resolve({ records, done });
    });
  });
}

/** Runs the whole plan, restarting after each hang or crash at the mutant that follows it. */
export async function runPolicyPlan(plan: PolicyPlan, opts: { heapMb: number; timeoutMs: number }): Promise<MutantRecord[]> {
  const all: MutantRecord[] = [];
  let skip = 0;
  for (let restarts = 0; restarts < 50; restarts++) {
    const a = await attempt(plan, skip, opts.heapMb, opts.timeoutMs);
    all.push(...a.records);
    if (a.done || plan.selftest) return all;
    skip = (a.records[a.records.length - 1]?.index ?? skip) + 1;
  }
  throw new Error('policy fuzz child restarted 50 times');
}
