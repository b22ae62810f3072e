/**
 * `virt-seclabel query`: ask the SELinux policy directly, the way the decision core does.
 *
 * One question with -s/-t/-c/-p prints `allowed` or `denied: PERMS` and the reason (exit 0 allowed,
 * 1 denied, 2 error). Without them, JSON Lines on stdin, one answer line per input line, the input object
 * plus `allowed`, `denied` and `reason`; a bad line answers `"allowed": null` with `"error"` and the stream
 * goes on (exit 0 once the stream is done, 2 when no policy could be opened).
 *
 * Which policy: --policy FILE; else the running kernel when selinuxfs is mounted (see selinux/live.ts for
 * boolean overrides there); else /etc/selinux/config's SELINUXTYPE → /etc/selinux/<type>/policy/policy.<highest N>,
 * found through the host view exactly as annotate finds it (app/selinux-engine.ts).
 */
import type { Result } from '../result.js';
import { failure, success } from '../result.js';
import type { AccessRequest } from '../selinux/access.js';
import { computeAccess } from '../selinux/access.js';
import { liveAccess, openLiveKernel } from '../selinux/live.js';
import type { SelinuxFs } from '../selinux/selinuxfs.js';
import { nodeSelinuxFs, selinuxfsMounted } from '../adapters/live/selinuxfs.js';
import { readInput } from '../adapters/inputs.js';
import { configuredPolicyPath } from '../app/selinux-engine.js';
import type { HostView } from '../host/view.js';
import { errnoWords } from '../host/errno.js';
import { parsePolicy } from '../app/policy-cache.js';

export interface QueryOptions {
  policy?: string;
  booleans: Record<string, boolean>;
  scontext?: string;
  tcontext?: string;
  tclass?: string;
  perms?: string[];
  json?: boolean;
}

export interface QueryIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Where the policy comes from; injectable so tests need neither a kernel nor /etc/selinux. */
export interface QueryEnvironment {
  /** Mounted selinuxfs, or undefined when there is none. */
  readonly selinuxfs: SelinuxFs | undefined;
  /** The host whose /etc/selinux/config names the policy store, found as annotate finds it. */
  readonly view: () => Promise<HostView>;
}

export function systemQueryEnvironment(): QueryEnvironment {
  // The live view is made only for the policy-store lookup: it loads the xattr addon (about 6 ms of a
  // one-question run that --policy or a mounted selinuxfs never needs).
  return { selinuxfs: selinuxfsMounted() ? nodeSelinuxFs() : undefined, view: async () => (await import('../adapters/live/live-view.js')).createLiveView() };
}

/** One answer, whichever source gave it. */
type Verdict =
  | { readonly ok: true; readonly allowed: boolean; readonly denied: readonly string[]; readonly reason: string; readonly permissive: boolean }
  | { readonly ok: false; readonly error: string };

type Answerer = (req: AccessRequest) => Verdict;

/** A JSON Lines input line longer than this is refused, not buffered (hostile input). */
const MAX_LINE = 1 << 20;

function fromAnswer(a: { ok: true; allowed: boolean; denied: string[]; reason: string; permissive: boolean } | { ok: false; error: string }): Verdict {
  return a.ok ? { ok: true, allowed: a.allowed, denied: a.denied, reason: a.reason, permissive: a.permissive } : { ok: false, error: a.error };
}

/** Real policies are 2-5 MB; anything past this is not one (or never ends). */
const MAX_POLICY_BYTES = 64 * 1024 * 1024;

/** --policy FILE: read bounded (`--policy /dev/zero` used to grow past 3 GB and never finish). */
function fileAnswerer(path: string): Result<Answerer, string> {
  let bytes: Uint8Array;
  try {
    bytes = readInput(path, MAX_POLICY_BYTES + 1);
  } catch (e) {
    return failure(`cannot read policy ${path}: ${errnoWords(e)}`);
  }
  return policyAnswerer(path, bytes);
}

function policyAnswerer(path: string, bytes: Uint8Array): Result<Answerer, string> {
  if (bytes.length > MAX_POLICY_BYTES) return failure(`cannot read policy ${path}: larger than ${MAX_POLICY_BYTES} bytes (64 MiB); binary policies are a few MB`);
  const policy = parsePolicy(bytes);
  if (!policy.ok) return failure(`${path}: not a usable binary policy: ${policy.error.section} at offset ${policy.error.offset}: ${policy.error.message}`);
  return success((req) => fromAnswer(computeAccess(policy.value, req)));
}

export async function openAnswerer(policyPath: string | undefined, env: QueryEnvironment): Promise<Result<Answerer, string>> {
  if (policyPath !== undefined) return fileAnswerer(policyPath);
  if (env.selinuxfs) {
    const kernel = openLiveKernel(env.selinuxfs);
    if (!kernel.ok) return kernel;
    return success((req) => fromAnswer(liveAccess(kernel.value, req)));
  }
  // The policy store /etc/selinux/config names, found and read through the host view as annotate does.
  const view = await env.view();
  const path = configuredPolicyPath(view);
  if (!path.ok) return path;
  const bytes = view.readBinary(path.value);
  if (bytes.kind !== 'ok') return failure(`cannot read policy ${path.value}${bytes.kind === 'unknown' ? `: ${bytes.why}` : ''}`);
  return policyAnswerer(path.value, bytes.value);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A JSON Lines object as an AccessRequest, or what is wrong with it. */
export function requestFromJson(obj: Record<string, unknown>, base: Record<string, boolean>): Result<AccessRequest, string> {
  for (const key of ['scontext', 'tcontext', 'tclass'] as const) {
    if (typeof obj[key] !== 'string') return failure(`"${key}" must be a string`);
  }
  const perms = obj.perms;
  if (!Array.isArray(perms) || perms.length === 0 || !perms.every((p) => typeof p === 'string')) {
    return failure('"perms" must be a non-empty array of strings');
  }
  const booleans: Record<string, boolean> = { ...base };
  if (obj.booleans !== undefined) {
    if (!isRecord(obj.booleans)) return failure('"booleans" must be an object of name: true|false');
    for (const [name, value] of Object.entries(obj.booleans)) {
      if (typeof value !== 'boolean') return failure(`boolean ${JSON.stringify(name)} must be true or false`);
      booleans[name] = value;
    }
  }
  return success({
    scontext: obj.scontext as string,
    tcontext: obj.tcontext as string,
    tclass: obj.tclass as string,
    perms: perms as string[],
    ...(Object.keys(booleans).length > 0 ? { booleans } : {}),
  });
}

/**
 * Splits a byte stream into lines without ever holding more than MAX_LINE bytes of one line: the rest of
 * an overlong line is skipped and the line is reported as too long.
 */
async function* boundedLines(stream: NodeJS.ReadableStream): AsyncGenerator<{ text: string } | { tooLong: true }> {
  let parts: Buffer[] = [];
  let size = 0;
  let overflow = false;
  for await (const chunk of stream) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10)) {
      const head = buf.subarray(0, nl);
      if (!overflow && size + head.length <= MAX_LINE) parts.push(head);
      else overflow = true;
      yield overflow ? { tooLong: true } : { text: Buffer.concat(parts).toString('utf8') };
      parts = [];
      size = 0;
      overflow = false;
      buf = buf.subarray(nl + 1);
    }
    if (!overflow && size + buf.length <= MAX_LINE) {
      parts.push(Buffer.from(buf));
      size += buf.length;
    } else {
      overflow = true;
      parts = [];
    }
  }
  if (overflow) yield { tooLong: true };
  else if (size > 0) yield { text: Buffer.concat(parts).toString('utf8') };
}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  // Respect back-pressure: a consumer reading slowly must not make us buffer every answer.
  return stream.write(text) ? Promise.resolve() : new Promise((resolve) => stream.once('drain', () => resolve()));
}

/** The answer object for one non-blank JSON Lines input line. */
function answerLine(answer: Answerer, opts: QueryOptions, text: string, lineNo: number): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { line: lineNo, allowed: null, error: `invalid JSON: ${(e as Error).message}` };
  }
  if (!isRecord(parsed)) return { line: lineNo, allowed: null, error: 'each line must be a JSON object' };
  const req = requestFromJson(parsed, opts.booleans);
  const v: Verdict = req.ok ? answer(req.value) : { ok: false, error: req.error };
  return v.ok ? { ...parsed, allowed: v.allowed, denied: v.denied, reason: v.reason } : { ...parsed, allowed: null, error: v.error };
}

async function answerStream(answer: Answerer, opts: QueryOptions, io: QueryIo): Promise<number> {
  let lineNo = 0;
  for await (const line of boundedLines(io.stdin)) {
    lineNo++;
    if ('text' in line && line.text.trim() === '') continue;
    const out = 'tooLong' in line ? { line: lineNo, allowed: null, error: `line longer than ${MAX_LINE} bytes` } : answerLine(answer, opts, line.text, lineNo);
    await write(io.stdout, JSON.stringify(out) + '\n');
  }
  return 0;
}

function answerOne(answer: Answerer, opts: QueryOptions, io: QueryIo): number {
  const { scontext, tcontext, tclass, perms } = opts;
  if (scontext === undefined || tcontext === undefined || tclass === undefined || !perms || perms.length === 0) {
    io.stderr.write('virt-seclabel query: one question needs all of -s CONTEXT -t CONTEXT -c CLASS -p PERM[,PERM]\n');
    return 2;
  }
  const req: AccessRequest = {
    scontext,
    tcontext,
    tclass,
    perms,
    ...(Object.keys(opts.booleans).length > 0 ? { booleans: opts.booleans } : {}),
  };
  const v = answer(req);
  if (opts.json) {
    const base = { scontext, tcontext, tclass, perms, ...(req.booleans ? { booleans: req.booleans } : {}) };
    io.stdout.write(JSON.stringify(v.ok ? { ...base, allowed: v.allowed, denied: v.denied, reason: v.reason } : { ...base, allowed: null, error: v.error }) + '\n');
  } else if (v.ok) {
    io.stdout.write(`${v.allowed ? 'allowed' : `denied: ${v.denied.join(', ')}`}\n${v.reason}\n`);
    if (v.permissive) io.stdout.write('note: the source domain is permissive, so the kernel would log but not enforce a denial\n');
  } else {
    io.stderr.write(`virt-seclabel query: ${v.error}\n`);
  }
  return v.ok ? (v.allowed ? 0 : 1) : 2;
}

export async function runQuery(opts: QueryOptions, io: QueryIo, env: QueryEnvironment = systemQueryEnvironment()): Promise<number> {
  const single = [opts.scontext, opts.tcontext, opts.tclass, opts.perms].some((x) => x !== undefined);
  const answerer = await openAnswerer(opts.policy, env);
  if (!answerer.ok) {
    io.stderr.write(`virt-seclabel query: ${answerer.error}\n`);
    return 2;
  }
  return single ? answerOne(answerer.value, opts, io) : answerStream(answerer.value, opts, io);
}
