/**
 * libvirt as the domains mode needs it, behind an interface: the core never knows it is talking to
 * libvirt, and tests can hand it a recording fake. The one implementation is virsh (virsh-client.ts).
 */
import type { Result } from '../result.js';

export interface DomainInfo {
  readonly persistent: boolean;
  /** libvirt's state word: running, paused, shut off, … */
  readonly state: string;
}

export interface LibvirtClient {
  /** Every domain's name, persistent and transient. */
  listAll(): Result<string[], string>;
  info(name: string): Result<DomainInfo, string>;
  /** The persistent definition (`dumpxml --inactive`): what the next start uses. */
  dumpInactive(name: string): Result<Uint8Array, string>;
  define(xml: Uint8Array): Result<void, string>;
}
