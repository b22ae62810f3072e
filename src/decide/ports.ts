/**
 * What the decision core asks of the engines. The core knows nothing of mode bits or policy rules; the
 * engines know nothing of disks or XML. Each engine is bound to one domain (its qemu identity or svirt
 * context) before the core asks it about files.
 */
import type { Disk, Domain } from '../domain/model.js';
import type { AccessEngine, AppArmorChecker, ChainFile } from '../access/engine.js';
import type { Model } from './types.js';

export type Chain =
  | { readonly kind: 'ok'; readonly files: readonly ChainFile[] }
  | { readonly kind: 'unprovable'; readonly reason: string };

/** An engine for one domain, or why there is none (no policy, unknown qemu user, …). */
export type BoundEngine = { readonly ok: true; readonly engine: AccessEngine } | { readonly ok: false; readonly reason: string };

/** The AppArmor engine bound to the profile libvirt would load for one domain, or why there is none. */
export type BoundAppArmor =
  | { readonly ok: true; readonly engine: AppArmorChecker }
  /** path: the file virt-aa-helper refused, when it named one; advice: what gets it accepted. */
  | { readonly ok: false; readonly reason: string; readonly path?: string; readonly advice?: string };

export interface DecisionPorts {
  resolveChain(disk: Disk): Chain;
  engineFor(model: Model, domain: Domain): BoundEngine;
  /** Only where the AppArmor driver is active; absent: the apparmor rows say it cannot be told. */
  apparmorFor?(domain: Domain): BoundAppArmor;
}
