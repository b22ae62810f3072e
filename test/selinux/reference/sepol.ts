/**
 * TypeScript side of the libsepol reference helper (sepol-av.c): builds it when missing or stale, feeds it
 * a batch of questions in one process, and parses its answers. Differential suites and the bench compare
 * the engine with these answers, never with hard-coded expectations.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const buildScript = fileURLToPath(new URL('./build-sepol-av.sh', import.meta.url));

/** libsepol's SEPOL_COMPUTEAV_* reason flags, by the names the helper prints. */
export type SepolReason = 'te' | 'cons' | 'rbac' | 'bounds';

export interface SepolQuery {
  readonly scontext: string;
  readonly tcontext: string;
  readonly tclass: string;
  readonly perms: readonly string[];
  readonly booleans?: Readonly<Record<string, boolean>>;
}

export type SepolAnswer =
  | {
      readonly ok: true;
      /** One entry per requested permission, in request order: in libsepol's avd.allowed or not. */
      readonly allowed: readonly boolean[];
      readonly reasons: ReadonlySet<SepolReason>;
      /** The source type is in the policy's permissive map. */
      readonly permissive: boolean;
    }
  | { readonly ok: false; readonly field: string; readonly message: string };

let helperPath: string | undefined;

/**
 * Path of the compiled helper; compiles it (cc + static libsepol.a) the first time, when stale.
 * SEPOL_AV names a prebuilt helper instead (scratch runs outside the source tree).
 */
export function sepolHelper(): string {
  helperPath ??= process.env.SEPOL_AV || execFileSync('sh', [buildScript], { encoding: 'utf8' }).trim();
  return helperPath;
}

/** The line format has no escaping: a field with a tab, newline or the list separators cannot be sent. */
function field(value: string, what: string, forbidden: RegExp): string {
  if (forbidden.test(value)) throw new Error(`sepol-av cannot carry ${what} ${JSON.stringify(value)}`);
  return value;
}

export function encodeQuery(q: SepolQuery): string {
  const bools = Object.entries(q.booleans ?? {})
    .map(([name, on]) => `${field(name, 'boolean', /[\t\n\r,=]/)}=${on ? 1 : 0}`)
    .join(',');
  return [
    field(q.scontext, 'scontext', /[\t\n\r]/),
    field(q.tcontext, 'tcontext', /[\t\n\r]/),
    field(q.tclass, 'class', /[\t\n\r]/),
    q.perms.map((p) => field(p, 'perm', /[\t\n\r,]/)).join(','),
    bools,
  ].join('\t');
}

export function parseAnswer(line: string): SepolAnswer {
  const parts = line.split('\t');
  if (parts[0] === 'ok' && parts.length === 4) {
    const reasons = parts[2] === '-' ? [] : (parts[2] ?? '').split(',');
    return {
      ok: true,
      allowed: [...(parts[1] ?? '')].map((c) => c === '1'),
      reasons: new Set(reasons as SepolReason[]),
      permissive: parts[3] === '1',
    };
  }
  if (parts[0] === 'error') return { ok: false, field: parts[1] ?? '', message: parts.slice(2).join('\t') };
  throw new Error(`sepol-av: unexpected answer line ${JSON.stringify(line)}`);
}

/** Answers every query with one helper process over one policy file. */
export function askSepol(policyPath: string, queries: readonly SepolQuery[]): SepolAnswer[] {
  if (queries.length === 0) return [];
  const input = queries.map(encodeQuery).join('\n') + '\n';
  const run = spawnSync(sepolHelper(), [policyPath], { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (run.status !== 0) throw new Error(`sepol-av ${policyPath} failed (${run.status}): ${run.stderr}`);
  const lines = run.stdout.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length !== queries.length) {
    throw new Error(`sepol-av answered ${lines.length} lines for ${queries.length} queries`);
  }
  return lines.map(parseAnswer);
}

export type SepolListing =
  | 'types'
  | 'attributes'
  | 'aliases'
  | 'classes'
  | 'booleans'
  | 'roles'
  | 'users'
  | 'permissive'
  | 'bounds'
  | 'mls'
  | 'sensitivities'
  | 'categories';

/** libsepol's view of the policy's names, one row per line, columns split on tabs. */
export function listSepol(policyPath: string, what: SepolListing): string[][] {
  const out = execFileSync(sepolHelper(), [policyPath, '--list', what], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

/** Class name → its permissions (common ones included), as libsepol resolves them. */
export function sepolClasses(policyPath: string): Map<string, string[]> {
  return new Map(listSepol(policyPath, 'classes').map(([c, perms]) => [c ?? '', perms ? perms.split(',') : []]));
}
