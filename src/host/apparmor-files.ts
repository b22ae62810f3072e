/**
 * Where a host shows whether libvirt's AppArmor driver can run (decide/apparmor.ts reads them). They
 * only inform: no annotation depends on them, so a facts snapshot taken before they were read answers
 * "cannot tell" for them without a warning (adapters/snapshot/snapshot-view.ts).
 */
export const APPARMOR_ENABLED = '/sys/module/apparmor/parameters/enabled';
export const APPARMOR_PROFILES = '/sys/kernel/security/apparmor/profiles';
export const APPARMOR_QEMU_TEMPLATE = '/etc/apparmor.d/libvirt/TEMPLATE.qemu';
export const APPARMOR_FILES: ReadonlySet<string> = new Set([APPARMOR_ENABLED, APPARMOR_PROFILES, APPARMOR_QEMU_TEMPLATE]);
