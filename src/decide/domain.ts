/** Decisions for every disk of one domain. */
import type { Domain } from '../domain/model.js';
import type { Connection } from './connection.js';
import { decideDisk, type DiskDecision } from './disk.js';
import type { DecisionPorts } from './ports.js';
import { isStale } from './types.js';

export interface DomainDecision {
  readonly domain: Domain;
  readonly disks: readonly DiskDecision[];
}

export function decideDomain(domain: Domain, conn: Connection, ports: DecisionPorts): DomainDecision {
  return { domain, disks: domain.disks.map((d) => decideDisk(d, domain, conn, ports)) };
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
