/** Decisions for every disk and every other labelled or opened file of one domain. */
import type { Domain } from '../domain/model.js';
import type { OtherFile } from '../domain/files.js';
import type { XmlElement } from '../xml/tree.js';
import type { Connection } from './connection.js';
import { decideDisk, type DiskDecision } from './disk.js';
import { decideOtherFiles, type OtherFileDecision } from './files.js';
import type { DecisionPorts } from './ports.js';
import { failsAtStart, isStale, MODELS, type Model } from './types.js';

export interface DomainDecision {
  readonly domain: Domain;
  readonly disks: readonly DiskDecision[];
  /** Firmware, kernel, chardevs, qemu:commandline files; absent when nothing beyond disks was read. */
  readonly files?: readonly OtherFileDecision[];
}

export function decideDomain(domain: Domain, conn: Connection, ports: DecisionPorts): DomainDecision {
  return { domain, disks: domain.disks.map((d) => decideDisk(d, domain, conn, ports)), files: decideOtherFiles(domain, conn, ports) };
}

/** Existing relabel='no' seclabels that access no longer backs: they make the VM fail at start. */
export function staleSeclabels(decision: DomainDecision) {
  return decision.disks.flatMap((d) =>
    (['dac', 'selinux'] as const).flatMap((m) => {
      const md = d.models[m];
      const el = d.disk.seclabels.find((s) => s.model === m)?.element;
      return isStale(md) && el ? [{ disk: d.disk, model: m, element: el, reason: md.reason }] : [];
    }),
  );
}

/** The same for nvram and chardev sources. */
export function staleFileSeclabels(decision: DomainDecision): { file: OtherFile; model: Model; element: XmlElement; reason: string }[] {
  return (decision.files ?? []).flatMap((d) =>
    MODELS.flatMap((m) => {
      const md = d.models[m];
      const el = d.file.seclabels.find((s) => s.model === m)?.element;
      return md.action !== 'relabel' && md.action !== 'as-is' && isStale(md) && el ? [{ file: d.file, model: m, element: el, reason: md.reason }] : [];
    }),
  );
}

/**
 * What --check reports beyond planned edits: a stale seclabel anywhere, or a file QEMU is proven unable to
 * open (as it is, or because the AppArmor profile libvirt would load refuses it).
 */
export function needsAttention(decision: DomainDecision): boolean {
  if (decision.disks.some((d) => Object.values(d.models).some(isStale))) return true;
  if ([...decision.disks, ...(decision.files ?? [])].some((d) => d.apparmor?.accessible === false)) return true;
  return (decision.files ?? []).some((d) => MODELS.some((m) => { const md = d.models[m]; return failsAtStart(md) || (md.action === 'existing' && md.stale); }));
}
