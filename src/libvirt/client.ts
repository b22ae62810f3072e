/**
 * libvirt as the domains mode needs it, behind an interface: the core never knows it is talking to
 * libvirt, and tests can hand it a recording fake. The one implementation is virsh
 * (src/adapters/libvirt/virsh-client.ts: a few virsh processes for any number of domains).
 */
import type { Result } from '../result.js';

/** What reading one domain gave. */
export type DomainRead =
  | { readonly name: string; readonly kind: 'transient' }
  | { readonly name: string; readonly kind: 'failed'; readonly why: string }
  | {
      readonly name: string;
      readonly kind: 'persistent';
      /** How dumpInactive finds this domain again (its UUID: a name can also be another domain's ID). */
      readonly ref: string;
      /** Not shut off when it was read: a new definition takes effect at its next start. */
      readonly running: boolean;
      /** The persistent definition (`dumpxml --inactive`): what the next start uses. */
      readonly xml: Uint8Array;
    };

export interface LibvirtClient {
  /**
   * Each named domain (as `virsh --domain` takes it), or with undefined every domain libvirt has, in
   * libvirt's order; read lazily, a batch at a time. A domain that cannot be read is a failed entry of its
   * own; the Result fails only when nothing can be read at all (no virsh, no connection).
   */
  readDefinitions(names: readonly string[] | undefined): Result<Iterable<DomainRead>, string>;
  /** The persistent definition now, by a DomainRead's ref. */
  dumpInactive(ref: string): Result<Uint8Array, string>;
  define(xml: Uint8Array): Result<void, string>;
}
