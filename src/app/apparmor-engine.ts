/**
 * The AppArmor engine for a domain, wired: the uuid the profile is named after, virt-aa-helper's
 * per-domain rules (the host's binary live, a recorded run offline), the profile assembled from the
 * host's /etc/apparmor.d (through the view, so `facts` records the sources), and QEMU's fsuid for the
 * owner rules. Bound once per domain and kept for all its files.
 */
import type { BoundAppArmor } from '../decide/ports.js';
import type { Domain } from '../domain/model.js';
import type { HostView } from '../host/view.js';
import { bindAppArmor } from '../apparmor/engine.js';
import { domainProfile, existingProfile, LOCAL_QEMU_ABSTRACTION, normalizeUuid, profilePath, QEMU_TEMPLATE } from '../apparmor/libvirt-profile.js';
import { parseDryRun, refusedPathAdvice, type VirtAaHelper } from '../apparmor/virt-aa-helper.js';

export function lazyAppArmor(view: HostView, helper: VirtAaHelper | undefined, fsuidOf: (domain: Domain) => number | undefined): (domain: Domain) => BoundAppArmor {
  const bound = new WeakMap<Domain, BoundAppArmor>();
  return (domain) => {
    let b = bound.get(domain);
    if (b === undefined) {
      b = bind(view, helper, domain, fsuidOf);
      bound.set(domain, b);
    }
    return b;
  };
}

function bind(view: HostView, helper: VirtAaHelper | undefined, domain: Domain, fsuidOf: (domain: Domain) => number | undefined): BoundAppArmor {
  if (domain.uuid === undefined)
    return { ok: false, reason: "the domain XML has no <uuid>: libvirt generates one when it defines the domain and names the AppArmor profile after it; decide on the defined domain's XML (virsh dumpxml)" };
  const uuid = normalizeUuid(domain.uuid);
  if (uuid === undefined) return { ok: false, reason: `<uuid>${domain.uuid}</uuid> is not a UUID libvirt accepts` };
  if (domain.xml === undefined) return { ok: false, reason: 'the domain XML text is not at hand for virt-aa-helper' };
  if (helper === undefined) return { ok: false, reason: 'virt-aa-helper cannot be run here, so the per-domain rules are unknown' };
  const state = existingProfile(view, uuid);
  if (typeof state === 'object') return { ok: false, reason: `cannot read ${profilePath(uuid)}: ${state.unknown}` };
  if (state === 'empty') return { ok: false, reason: `${profilePath(uuid)} is empty: libvirt unloads, deletes and recreates it at start; not evaluated (virt-aa-helper -r would delete it even in dry-run mode)` };
  const run = helper.run({ uuid, xml: domain.xml, mode: state === 'present' ? 'replace' : 'create' });
  const generated = parseDryRun(uuid, run);
  if (!generated.ok) return { ok: false, reason: generated.why, ...(generated.path !== undefined && { path: generated.path, advice: refusedPathAdvice(generated.path) }) };
  const profile = domainProfile(view, uuid, generated.rules);
  if (!profile.ok) return { ok: false, reason: profile.reason };
  return { ok: true, engine: bindAppArmor(view, { name: profile.name, rules: profile.rules, localFile: LOCAL_QEMU_ABSTRACTION, templateFile: QEMU_TEMPLATE }, fsuidOf(domain)) };
}
