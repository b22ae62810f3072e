/**
 * Whether a security driver labels this domain's images at all, and with which identity or context.
 * Follows libvirt: a domain `<seclabel>` with type='none', or type='static' without relabel='yes', turns
 * that driver's image labelling off; a model-less domain seclabel belongs to the primary (MAC) driver;
 * without any seclabel, security_default_confined decides.
 */
import type { Domain, DomainSeclabel } from '../domain/model.js';
import type { Connection } from './connection.js';
import type { Model } from './types.js';

export type Labelling =
  | { readonly on: false; readonly why: string }
  | {
      readonly on: true;
      /** The domain seclabel that configures it, if any (static label, baselabel). */
      readonly seclabel: DomainSeclabel | undefined;
    };

/** The domain seclabel libvirt assigns to a model. */
export function seclabelFor(domain: Domain, model: Model, conn: Connection): DomainSeclabel | undefined {
  const explicit = domain.seclabels.find((s) => s.model === model);
  if (explicit) return explicit;
  // libvirt < 0.10 style: one model-less seclabel goes to the host's primary driver, which is the MAC
  // driver when one is active (virSecurityLabelDefsParseXML copies host->secModels[0]).
  const only = domain.seclabels.length === 1 ? domain.seclabels[0] : undefined;
  if (only && only.model === undefined && model === 'selinux' && conn.models.selinux.active) return only;
  return undefined;
}

export function domainLabelling(domain: Domain, model: Model, conn: Connection): Labelling {
  const s = seclabelFor(domain, model, conn);
  if (!s) {
    if (!conn.defaultConfined)
      return { on: false, why: 'security_default_confined = 0 and the domain has no seclabel: libvirt labels nothing' };
    return { on: true, seclabel: undefined };
  }
  const where = `domain <seclabel type='${s.type}'${s.model ? ` model='${s.model}'` : ''}> (line ${s.element.line})`;
  if (s.type === 'none') return { on: false, why: `${where} turns ${model} labelling off` };
  if (s.type === 'static' && s.relabel !== true)
    return { on: false, why: `${where} without relabel='yes': libvirt does not relabel images for this domain` };
  return { on: true, seclabel: s };
}
