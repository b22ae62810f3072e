/**
 * Which loaded policy the running kernel holds, without reading it: the boot (boot_id) and the `policyload`
 * number of selinuxfs's status page (struct selinux_kernel_status, version 1: version, sequence, enforcing,
 * policyload, deny_unknown, little-endian u32 each). The kernel gives `policyload` a new sequence number at
 * every policy load and at every boolean commit (security_load_policy and security_set_bools both end in
 * selinux_status_update_policyload), and the number restarts only with the boot, which boot_id tells
 * apart. So two equal pairs mean the same policy with the same boolean values, byte for byte what
 * /sys/fs/selinux/policy gave in between. Reading the page needs only read on selinuxfs's files, which
 * libvirtd's domain has where `security { read_policy }` is denied to it (Debian's policy).
 */

/** A loaded policy with its boolean values: one boot, one policy load or boolean commit. */
export interface PolicyInstance {
  readonly bootId: string;
  readonly policyload: number;
}

const STATUS_VERSION = 1;
const STATUS_BYTES = 20;

/**
 * The page's `policyload`, when the page is whole and was not being written while it was read (its
 * seqlock `sequence` even); undefined otherwise, which callers treat as "cannot tell".
 */
export function statusPolicyload(page: Uint8Array): number | undefined {
  if (page.byteLength < STATUS_BYTES) return undefined;
  const v = new DataView(page.buffer, page.byteOffset, page.byteLength);
  if (v.getUint32(0, true) < STATUS_VERSION) return undefined;
  if (v.getUint32(4, true) % 2 !== 0) return undefined;
  return v.getUint32(12, true);
}

const BOOT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** boot_id as /proc/sys/kernel/random/boot_id gives it, checked; undefined when it is not one. */
export function parseBootId(text: string): string | undefined {
  const id = text.trim();
  return BOOT_ID.test(id) ? id : undefined;
}

/** The instance from two reads of the status page around nothing else: equal and whole, or unknown. */
export function instanceOf(bootId: string | undefined, first: Uint8Array | undefined, second: Uint8Array | undefined): PolicyInstance | undefined {
  if (bootId === undefined || first === undefined || second === undefined) return undefined;
  const a = statusPolicyload(first);
  const b = statusPolicyload(second);
  return a !== undefined && a === b ? { bootId, policyload: a } : undefined;
}

export const sameInstance = (a: PolicyInstance, b: PolicyInstance): boolean => a.bootId === b.bootId && a.policyload === b.policyload;

/** One line: `BOOT_ID POLICYLOAD`. */
export const formatInstance = (i: PolicyInstance): string => `${i.bootId} ${i.policyload}\n`;

export function parseInstance(text: string): PolicyInstance | undefined {
  const m = /^(\S+) (\d{1,10})\n$/.exec(text);
  if (!m) return undefined;
  const bootId = parseBootId(m[1]!);
  const policyload = Number(m[2]);
  return bootId !== undefined && policyload <= 0xffffffff ? { bootId, policyload } : undefined;
}
