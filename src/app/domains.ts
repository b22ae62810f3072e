/**
 * Defined domains, directly: the persistent definitions are read through the LibvirtClient (in batches,
 * not a process per domain) and each is decided exactly as annotate decides a file (processInput), all
 * with the one host context built before the first (policy, qemu.conf, accounts read once). Applying is a thin step over that plan: read the
 * definition again and refuse if it changed since it was decided, define, read it back and check that
 * libvirt kept every edit. Pure given the client and the host context.
 */
import type { HostContext } from './host-context.js';
import { processInput, type InputOutcome } from './process-input.js';
import type { DomainRead, LibvirtClient } from '../libvirt/client.js';
import type { Result } from '../result.js';
import type { PlannedChange as Change } from '../edit/plan.js';
import { readDomainXml } from '../domain/read.js';
import { needsAttention } from '../decide/domain.js';
import { createHash } from 'node:crypto';

/**
 * The digest of a definition as it was read (sha256 of `dumpxml --inactive`'s bytes, hex): a plan shown to
 * a person carries it, and applying that plan later refuses when the definition no longer has it.
 */
export const definitionDigest = (xml: Uint8Array): string => createHash('sha256').update(xml).digest('hex');

export type DomainOutcome =
  | { readonly name: string; readonly kind: 'skipped'; readonly why: string }
  | { readonly name: string; readonly kind: 'failed'; readonly why: string }
  | {
      readonly name: string;
      readonly kind: 'decided';
      /** How the client finds this domain again to re-read it (DomainRead.ref). */
      readonly ref: string;
      readonly running: boolean;
      readonly before: Uint8Array;
      readonly outcome: InputOutcome;
      /** --check's finding: a seclabel to add, a stale one, or a file QEMU is proven unable to open (needsAttention). */
      readonly found: boolean;
    };

/** The label a domain's findings carry where a file's would carry its path. */
export const domainLabel = (name: string) => `domain ${name}`;

export function decideRead(read: DomainRead, ctx: HostContext, opts: { pruneStale: boolean }): DomainOutcome {
  const { name } = read;
  if (read.kind === 'failed') return { name, kind: 'failed', why: read.why };
  if (read.kind === 'transient') return { name, kind: 'skipped', why: 'transient (no persistent definition to annotate)' };
  const outcome = processInput(domainLabel(name), read.xml, ctx.conn, ctx.ports, opts);
  const found = outcome.documents.some((doc) => doc.ok && (doc.changed || needsAttention(doc.decision)));
  return { name, kind: 'decided', ref: read.ref, running: read.running, before: read.xml, outcome, found };
}

/** Each named domain (undefined: every one) read and decided, one at a time as the client reads them. */
export function decideDefinedDomains(names: readonly string[] | undefined, client: LibvirtClient, ctx: HostContext, opts: { pruneStale: boolean }): Result<Iterable<DomainOutcome>, string> {
  const reads = client.readDefinitions(names);
  if (!reads.ok) return reads;
  return {
    ok: true,
    value: (function* () {
      for (const r of reads.value) yield decideRead(r, ctx, opts);
    })(),
  };
}

export type ApplyResult =
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'refused'; readonly why: string }
  | { readonly kind: 'failed'; readonly why: string }
  | { readonly kind: 'defined'; readonly changes: readonly Change[]; readonly lost: readonly Change[] };

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Is the change visible in the definition libvirt now holds? */
function kept(change: Change, xml: Uint8Array): boolean {
  const read = readDomainXml(xml);
  if (!read.ok) return false;
  const labels =
    change.where !== undefined
      ? read.value.domain.other?.files.find((f) => f.where === change.where)?.seclabels
      : read.value.domain.disks.find((d) => d.target === change.target)?.seclabels;
  const has = labels?.some((s) => s.model === change.model && !s.relabel) ?? false;
  return change.kind === 'insert' ? has : !has;
}

export function applyDefinedDomain(o: Extract<DomainOutcome, { kind: 'decided' }>, client: LibvirtClient): ApplyResult {
  const doc = o.outcome.documents[0];
  if (!o.outcome.changed || !o.outcome.output || !doc?.ok) return { kind: 'unchanged' };
  const again = client.dumpInactive(o.ref);
  if (!again.ok) return { kind: 'failed', why: again.error };
  if (!sameBytes(again.value, o.before)) return { kind: 'refused', why: 'its definition changed since it was read; nothing defined (run again to decide on the new definition)' };
  const defined = client.define(o.outcome.output);
  if (!defined.ok) return { kind: 'failed', why: defined.error };
  const back = client.dumpInactive(o.ref);
  if (!back.ok) return { kind: 'failed', why: `defined, but cannot read it back: ${back.error}` };
  const changes = doc.plan.changes;
  return { kind: 'defined', changes, lost: changes.filter((c) => !kept(c, back.value)) };
}
