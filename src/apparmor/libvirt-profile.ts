/**
 * The profile libvirt's AppArmor driver loads for one domain, built exactly as libvirt 9.0 builds it
 * (src/security/security_apparmor.c load_profile, virt-aa-helper.c create_profile and main):
 *
 * - /etc/apparmor.d/libvirt/libvirt-UUID: kept when it exists and is not empty (virt-aa-helper -r only
 *   rewrites the .files); otherwise TEMPLATE.qemu with every "\nprofile LIBVIRT_TEMPLATE" made
 *   "\nprofile libvirt-UUID" and every "\n}" made "\n  #include <libvirt/libvirt-UUID.files>\n\n}";
 * - /etc/apparmor.d/libvirt/libvirt-UUID.files: what virt-aa-helper generates from the domain XML (its
 *   dry-run output), always regenerated at start, so the host's copy is never read;
 * - everything they include (tunables/global, abstractions/libvirt-qemu, local/…) from the host.
 */
import type { HostView } from '../host/view.js';
import { findProfile, parseProfileFile, type FileRule, type ProfileSources } from './parse.js';

export const APPARMOR_DIR = '/etc/apparmor.d';
export const LIBVIRT_PROFILE_DIR = `${APPARMOR_DIR}/libvirt`;
export const QEMU_TEMPLATE = `${LIBVIRT_PROFILE_DIR}/TEMPLATE.qemu`;
export const LOCAL_QEMU_ABSTRACTION = `${APPARMOR_DIR}/local/abstractions/libvirt-qemu`;

/**
 * The uuid as libvirt formats it (virUUIDFormat: lowercase, dashed), from what the XML holds (libvirt
 * accepts dashes anywhere, or none, and either case); undefined when it is not one.
 */
export function normalizeUuid(text: string): string | undefined {
  const hex = text.trim().replace(/[-\s]/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return undefined;
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const profileName = (uuid: string) => `libvirt-${uuid}`;
export const profilePath = (uuid: string) => `${LIBVIRT_PROFILE_DIR}/${profileName(uuid)}`;
export const filesPath = (uuid: string) => `${profilePath(uuid)}.files`;

/** The HostView as profile sources, with files served from memory in front of it. */
export function viewSources(view: HostView, overlay: ReadonlyMap<string, string> = new Map()): ProfileSources {
  return {
    kind(path) {
      if (overlay.has(path)) return 'file';
      const st = view.lstat(path);
      if (st.kind === 'missing') return 'missing';
      if (st.kind === 'unknown') return { unknown: st.why };
      return st.value.type === 'dir' ? 'dir' : 'file';
    },
    readText(path) {
      const o = overlay.get(path);
      if (o !== undefined) return { ok: true, text: o };
      const r = view.readText(path);
      return r.kind === 'ok' ? { ok: true, text: r.value } : { ok: false, why: r.kind === 'missing' ? 'it does not exist' : r.why };
    },
    listDir(path) {
      const r = view.listDir(path);
      return r.kind === 'ok' ? { ok: true, names: r.value } : { ok: false, why: r.kind === 'missing' ? 'it does not exist' : r.why };
    },
  };
}

export type DomainProfile =
  | {
      readonly ok: true;
      readonly name: string;
      readonly rules: readonly FileRule[];
      /** Every source file read (for facts and for humans). */
      readonly files: readonly string[];
      /** Whether the per-domain profile file is the host's (true) or made from the template (false). */
      readonly existing: boolean;
    }
  | { readonly ok: false; readonly reason: string };

/** Whether libvirt keeps the host's per-domain profile (-r) or creates it from the template (-c). */
export function existingProfile(view: HostView, uuid: string): 'absent' | 'present' | 'empty' | { readonly unknown: string } {
  const p = profilePath(uuid);
  const st = view.lstat(p);
  if (st.kind === 'missing') return 'absent';
  if (st.kind === 'unknown') return { unknown: st.why };
  const text = view.readText(p);
  if (text.kind !== 'ok') return { unknown: text.kind === 'missing' ? `${p} vanished` : text.why };
  return text.value.length === 0 ? 'empty' : 'present';
}

/** The template made into the domain's profile, as create_profile does it. */
export function profileFromTemplate(template: string, uuid: string): { ok: true; text: string } | { ok: false; reason: string } {
  const name = profileName(uuid);
  if (!template.includes('\nprofile LIBVIRT_TEMPLATE') || !template.includes('\n}'))
    return { ok: false, reason: `${QEMU_TEMPLATE} has no "profile LIBVIRT_TEMPLATE" line or no closing "}" line: virt-aa-helper fails with "no replacement string in template"` };
  const text = template
    .replaceAll('\nprofile LIBVIRT_TEMPLATE', `\nprofile ${name}`)
    .replaceAll('\n}', `\n  #include <libvirt/${name}.files>\n\n}`);
  return { ok: true, text };
}

/**
 * The rules of the domain's profile, `generated` being virt-aa-helper's .files text for this domain.
 * Pure given the view.
 */
export function domainProfile(view: HostView, uuid: string, generated: string): DomainProfile {
  const name = profileName(uuid);
  const overlay = new Map<string, string>([[filesPath(uuid), generated]]);
  const state = existingProfile(view, uuid);
  if (typeof state === 'object') return { ok: false, reason: `cannot read ${profilePath(uuid)}: ${state.unknown}` };
  const existing = state === 'present';
  if (!existing) {
    const t = view.readText(QEMU_TEMPLATE);
    if (t.kind !== 'ok') return { ok: false, reason: `cannot read ${QEMU_TEMPLATE}: ${t.kind === 'missing' ? 'it does not exist' : t.why}` };
    const made = profileFromTemplate(t.value, uuid);
    if (!made.ok) return made;
    overlay.set(profilePath(uuid), made.text);
  }
  const parsed = parseProfileFile(viewSources(view, overlay), profilePath(uuid), APPARMOR_DIR);
  if (!parsed.ok) {
    const what = parsed.kind === 'error' ? 'apparmor_parser would refuse the profile, so libvirt cannot start the domain' : parsed.kind === 'unsupported' ? 'the profile uses what this program does not evaluate' : 'a profile source cannot be read';
    return { ok: false, reason: `${what}: ${parsed.error}` };
  }
  const profile = findProfile(parsed.profiles, name);
  if (!profile) return { ok: false, reason: `${profilePath(uuid)} defines no profile ${name}` };
  return { ok: true, name, rules: profile.rules, files: parsed.files, existing };
}
