/**
 * The hook's decision, pure given its ports: parse the domain XML with the same strict gate as
 * annotate, keep only the disks (and nvram and chardev sources) that carry `relabel='no'` for the phase's model, and decide them with
 * the same engines. A stale annotation is one the engine *proved* inaccessible; "cannot tell" is a note
 * and never a refusal. No host context is opened when no disk carries such a seclabel (the common,
 * fast case).
 */
import type { Connection } from '../decide/connection.js';
import { decideDomain } from '../decide/domain.js';
import type { DecisionPorts } from '../decide/ports.js';
import { staleDenial, type Model } from '../decide/types.js';
import { readDomainXmlGateLater, type DomainReadError } from '../domain/read.js';
import type { Disk, Domain } from '../domain/model.js';
import type { HostView } from '../host/view.js';
import { failure, success, type Result } from '../result.js';
import { PHASE_MODEL, type HookPhase } from './invocation.js';

export interface JudgedDisk {
  readonly target: string;
  readonly path: string;
  readonly model: Model;
  /** For a file beyond disks (nvram, chardev source): its element; undefined for a disk. */
  readonly element?: string;
}

export interface StaleDisk extends JudgedDisk {
  /** The engine's sentence for what denies access now (names the file, its mode/owner or label). */
  readonly denied: string;
}

export interface UnjudgedDisk extends JudgedDisk {
  readonly why: string;
}

export interface HookJudgement {
  readonly model: Model;
  /** Disks whose relabel='no' was re-checked; stale ones are a subset. */
  readonly checked: number;
  readonly stale: readonly StaleDisk[];
  readonly unjudged: readonly UnjudgedDisk[];
  /** Who QEMU runs as for this model, for the refusal text: `qemu (libvirt-qemu)` or the svirt label. */
  readonly who: string;
}

export interface HookContext {
  /** The host the check reads (the records check reads accounts through it too). */
  readonly view: HostView;
  readonly conn: Connection;
  readonly ports: DecisionPorts;
}

const carriesNoRelabel = (disk: Disk, model: Model) => disk.seclabels.some((s) => s.model === model && !s.relabel);

/** The connection with every model but `keep` off: each phase proves only its own model. */
function onlyModel(conn: Connection, keep: Model): Connection {
  const off = { active: false, why: `re-checked at the other hook phase` };
  return { ...conn, models: { dac: keep === 'dac' ? conn.models.dac : off, selinux: keep === 'selinux' ? conn.models.selinux : off } };
}

function whoFor(model: Model, conn: Connection, domainLabel: string | undefined): string {
  if (model === 'dac') return `qemu (${conn.user})`;
  return domainLabel ? `QEMU (${domainLabel})` : 'QEMU';
}

export function judgeDomainXml(
  bytes: Uint8Array,
  phase: HookPhase,
  openContext: () => Result<HookContext, string>,
): Result<HookJudgement, string> {
  const read = parseHookXml(bytes);
  if (!read.ok) return read;
  const gate = read.value.secondGate();
  return gate.ok ? judgeDomain(read.value.domain, phase, openContext) : gate;
}

/** The domain libvirt handed the hook (the same reading as annotate's), with XML's second gate still to run. */
export interface HookXml {
  readonly domain: Domain;
  /**
   * fast-xml-parser's validator on the same text (src/xml/second-gate.ts), whose refusal is why the domain
   * cannot be checked. The check runs it before it says or refuses anything on the document's account; a
   * start it lets go on without a word needs no second opinion, since a refusal of the gate would only have
   * let it go on too ("cannot check ...; start allowed unchecked").
   */
  secondGate(): Result<void, string>;
}

/** The domain libvirt handed the hook, or why it cannot be checked (the same reading as annotate). */
export function parseHookXml(bytes: Uint8Array): Result<HookXml, string> {
  const read = readDomainXmlGateLater(bytes);
  if (!read.ok) return failure(xmlProblem(read.error));
  return success({
    domain: read.value.domain,
    secondGate() {
      const g = read.value.secondGate();
      return g.ok ? g : failure(xmlProblem(g.error));
    },
  });
}

const xmlProblem = (e: DomainReadError) => `domain XML line ${e.line} column ${e.column}: ${e.message}`;

/** judgeDomainXml for a domain already parsed (the check parses once for the judgement and the records). */
export function judgeDomain(
  domain: Domain,
  phase: HookPhase,
  openContext: () => Result<HookContext, string>,
): Result<HookJudgement, string> {
  const model = PHASE_MODEL[phase];
  const disks = domain.disks.filter((d) => carriesNoRelabel(d, model));
  // nvram and chardev sources carry the same relabel='no' (the only other places libvirt honours one).
  const files = (domain.other?.files ?? []).filter((f) => f.seclabels.some((s) => s.model === model && !s.relabel));
  if (disks.length === 0 && files.length === 0) return success({ model, checked: 0, stale: [], unjudged: [], who: '' });
  const ctx = openContext();
  if (!ctx.ok) return failure(ctx.error);
  const conn = onlyModel(ctx.value.conn, model);
  const other = domain.other && { ...domain.other, files };
  const decision = decideDomain({ ...domain, disks, ...(other && { other }) }, conn, ctx.value.ports);
  const stale: StaleDisk[] = [];
  const unjudged: UnjudgedDisk[] = [];
  for (const d of decision.disks) {
    const base = { target: d.disk.target ?? `#${d.disk.index + 1}`, path: d.disk.path ?? '?', model };
    const md = d.models[model];
    const denied = staleDenial(md);
    if (denied !== undefined) stale.push({ ...base, denied });
    else if (md.action !== 'existing' || md.accessible !== true) unjudged.push({ ...base, why: md.reason });
  }
  for (const d of decision.files ?? []) {
    const base = { target: d.file.where, element: d.file.where, path: d.file.path ?? '?', model };
    const md = d.models[model];
    const denied = md.action === 'existing' ? staleDenial(md) : undefined;
    if (denied !== undefined) stale.push({ ...base, denied });
    else if (md.action !== 'existing' || md.accessible !== true) unjudged.push({ ...base, why: md.reason });
  }
  const label = domain.seclabels.find((s) => s.model === 'selinux')?.label;
  return success({ model, checked: decision.disks.length + (decision.files?.length ?? 0), stale, unjudged, who: whoFor(model, conn, label) });
}
