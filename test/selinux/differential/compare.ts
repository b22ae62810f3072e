/**
 * One engine answer against libsepol's answer to the same question. Returns what differs (undefined
 * when they agree), in words precise enough to file as a bug: the query, what libsepol said, what we said.
 */
import type { AccessAnswer } from '../../../src/selinux/access.js';
import type { SepolAnswer, SepolQuery, SepolReason } from '../reference/sepol.js';

const REASONS: readonly SepolReason[] = ['te', 'cons', 'rbac', 'bounds'];
/** The engine's per-denial cause, as the libsepol flag it must be part of. */
const CAUSE_FLAG = { te: 'te', constraint: 'cons', mls: 'cons', rbac: 'rbac', bounds: 'bounds' } as const;

export interface Disagreement {
  readonly query: SepolQuery;
  readonly expected: string;
  readonly got: string;
}

function show(q: SepolQuery): string {
  const b = q.booleans ? ` booleans=${JSON.stringify(q.booleans)}` : '';
  return `${q.scontext} -> ${q.tcontext} ${q.tclass} { ${q.perms.join(' ')} }${b}`;
}

export function formatDisagreement(d: Disagreement): string {
  return `${show(d.query)}\n    libsepol: ${d.expected}\n    engine:   ${d.got}`;
}

function describeSepol(q: SepolQuery, a: SepolAnswer): string {
  if (!a.ok) return `error (${a.field}: ${a.message})`;
  const denied = q.perms.filter((_, i) => !a.allowed[i]);
  return `denied { ${denied.join(' ')} } reasons [${[...a.reasons].join(',')}] permissive=${a.permissive}`;
}

function describeEngine(a: AccessAnswer): string {
  if (!a.ok) return `error (${a.error})`;
  const flags = REASONS.filter((r) => a.because.flags[r]);
  return `denied { ${a.denied.join(' ')} } reasons [${flags.join(',')}] permissive=${a.permissive} causes [${a.because.denials.map((d) => `${d.cause}:${d.perms.join('+')}`).join(' ')}]`;
}

export function compareAnswer(q: SepolQuery, ref: SepolAnswer, got: AccessAnswer): Disagreement | undefined {
  const differ = (): Disagreement => ({ query: q, expected: describeSepol(q, ref), got: describeEngine(got) });
  if (!ref.ok || !got.ok) return ref.ok === got.ok ? undefined : differ();

  // Allowed bits, permission by permission.
  for (let i = 0; i < q.perms.length; i++) {
    const perm = q.perms[i] as string;
    if (ref.allowed[i] !== got.granted.includes(perm) || ref.allowed[i] === got.denied.includes(perm)) return differ();
  }
  if (got.allowed !== ref.allowed.every(Boolean)) return differ();
  // libsepol's reason flags, exactly (they depend on what was requested).
  for (const r of REASONS) if (ref.reasons.has(r) !== got.because.flags[r]) return differ();
  if (ref.permissive !== got.permissive) return differ();
  // The explanation must account for every denied permission with a cause libsepol also reports.
  const explained = got.because.denials.flatMap((d) => d.perms);
  if (explained.length !== got.denied.length || !got.denied.every((p) => explained.includes(p))) return differ();
  if (!got.because.denials.every((d) => ref.reasons.has(CAUSE_FLAG[d.cause]))) return differ();
  return undefined;
}
