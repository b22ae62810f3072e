/**
 * Whether libvirt's AppArmor driver would be active, probed the way libvirt probes it
 * (security_apparmor.c, AppArmorSecurityManagerProbe / use_apparmor): AppArmor enabled in the kernel,
 * the daemon's own profile loaded (libvirt cannot aa_change_profile from an unconfined daemon), and the
 * qemu profile template installed. Read through the host view, so a facts snapshot replays it.
 *
 * AppArmor never changes a file's label: virt-aa-helper writes a per-VM path profile, and per-disk
 * seclabels mean nothing to it. It is reported so a person on a Debian or Ubuntu host knows that only
 * the DAC decision matters there; it never yields an annotation.
 */
import { APPARMOR_ENABLED, APPARMOR_PROFILES, APPARMOR_QEMU_TEMPLATE } from '../host/apparmor-files.js';
import type { HostView } from '../host/view.js';

export { APPARMOR_ENABLED, APPARMOR_PROFILES, APPARMOR_QEMU_TEMPLATE };
/** The daemons libvirt's probe looks itself up as: the monolithic and the modular qemu daemon, by path or name. */
const DAEMON_PROFILES = ['/usr/sbin/libvirtd', 'libvirtd', '/usr/sbin/virtqemud', 'virtqemud'];

export interface AppArmorProbe {
  readonly available: boolean;
  readonly why: string;
}

export function probeAppArmor(view: HostView): AppArmorProbe {
  const enabled = view.readText(APPARMOR_ENABLED);
  if (enabled.kind === 'unknown') return { available: false, why: `cannot tell whether AppArmor is enabled: ${enabled.why}` };
  if (enabled.kind !== 'ok' || !enabled.value.startsWith('Y')) return { available: false, why: 'AppArmor is not enabled in this kernel' };
  const profiles = view.readText(APPARMOR_PROFILES);
  if (profiles.kind !== 'ok') return { available: false, why: `cannot read ${APPARMOR_PROFILES}, so libvirt's probe cannot succeed either` };
  // Each line is `NAME (mode)`; libvirt's profile_status looks for the daemon's own.
  const loaded = new Set(profiles.value.split('\n').map((l) => l.replace(/ \([^)]*\)$/, '')));
  const daemon = DAEMON_PROFILES.find((p) => loaded.has(p));
  if (daemon === undefined) return { available: false, why: 'no AppArmor profile for libvirtd is loaded, so libvirt does not use AppArmor' };
  const template = view.lstat(APPARMOR_QEMU_TEMPLATE);
  if (template.kind !== 'ok') return { available: false, why: `${APPARMOR_QEMU_TEMPLATE} is missing, so libvirt does not use AppArmor` };
  return { available: true, why: `AppArmor is enabled, the ${daemon} profile is loaded and ${APPARMOR_QEMU_TEMPLATE} exists` };
}

/** The reason on every disk's apparmor row. */
export const APPARMOR_DISK_REASON =
  "AppArmor's profile is path-based (virt-aa-helper adds this path to the VM's profile); libvirt changes no label for it and ignores per-disk seclabels, so only the DAC decision matters here";
