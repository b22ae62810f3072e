/**
 * The real built CLI as a child process, with a hard timeout (SIGKILL), so a hang is a test failure
 * with a name instead of a stuck suite.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { RunResult } from './contract.js';

export const REPO = join(import.meta.dirname, '../../..');
export const CLI = join(REPO, 'dist/cli/main.js');

export interface CliRun extends RunResult {
  readonly timedOut: boolean;
  readonly ms: number;
  readonly signal: NodeJS.Signals | null;
}

export interface RunOptions {
  readonly stdin?: Uint8Array;
  readonly timeoutMs: number;
}

export function runCli(args: readonly string[], opts: RunOptions): Promise<CliRun> {
  return runCommand(process.execPath, [CLI, ...args], opts);
}

/** Any command (e.g. setpriv wrapping the CLI) with the same capture and timeout. */
export function runCommand(command: string, args: readonly string[], opts: RunOptions): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    // EPIPE when the CLI exits before reading all of stdin (it refused the arguments) is not our failure.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? new Uint8Array());
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, ms: performance.now() - t0, stdout: new Uint8Array(Buffer.concat(out)), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Runs jobs with at most `width` in flight (two cores: a few children overlap their start-up). */
export async function pool<T, R>(items: readonly T[], width: number, job: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await job(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

/** The CLI as a child the caller kills with SIGKILL when it decides to (stdio ignored). */
export function spawnKillableCli(args: readonly string[]): { kill(): void; done: Promise<void> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
  const done = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return { kill: () => void child.kill('SIGKILL'), done };
}
