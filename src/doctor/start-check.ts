/**
 * What libvirt's Set (virSecurityDACSetOwnership / virSecuritySELinuxSetFilecon with remember = true,
 * docs/libvirt-remembered-labels.md §8.1) will do to a domain about to start, from the records on its
 * remembered files: a same-boot record whose count is already ≥ 1 makes the count ≥ 2, and then a file
 * whose owner (label) differs from the one this domain sets fails the start with "already in use". When
 * no running domain holds the record, the record is stale, and the fix is `doctor --apply`. Pure.
 */
import type { Connection } from '../decide/connection.js';
import { CONTENT_CONTEXT } from '../decide/files.js';
import type { Model } from '../decide/types.js';
import type { Domain } from '../domain/model.js';
import type { BootStamp } from './boot-stamp.js';
import { decodeRecord, recordNames, type RecordRead } from './records.js';
import { domainFileUses, type Holder } from './status.js';
import type { Owner } from './verdict.js';
import type { Result } from '../result.js';

export interface StartFile {
  readonly records: RecordRead;
  readonly owner: Owner | undefined;
  readonly label: string | null | undefined;
  /** Running domains (other than the one starting) that use it. */
  readonly holders: readonly Holder[];
}

export interface StartTarget {
  /** DAC: the uid:gid this domain's QEMU gets (its static <label> or the qemu user). */
  readonly owner?: Owner;
  /** SELinux: the domain's imagelabel. */
  readonly label?: string;
}

export interface StartProblem {
  readonly path: string;
  readonly stale: boolean;
  /** libvirt's own error, exactly. */
  readonly libvirtWillSay: string;
  readonly line: string;
}

const own = (o: Owner) => `${o.uid}:${o.gid}`;

/** As the doctor compares: exact, or within the /proc/uptime fallback's second either side. */
function sameBoot(stamp: string, boot: BootStamp): boolean {
  if (stamp === boot.value) return true;
  return boot.source === 'uptime' && /^[0-9]{1,19}$/.test(stamp) && Math.abs(Number(BigInt(stamp) - BigInt(boot.value))) <= 1;
}

export function checkStart(
  domain: Domain,
  model: Model,
  target: StartTarget,
  bootStamp: Result<BootStamp, string>,
  fileOf: (path: string) => StartFile | undefined,
  conn: Pick<Connection, 'stdioHandler'> = {},
): StartProblem[] {
  const out: StartProblem[] = [];
  if (!bootStamp.ok) return out;
  const seen = new Set<string>();
  // Every file libvirt remembers for this domain: writable disks, and the files beyond them (nvram, kernel, …).
  for (const use of domainFileUses(domain, conn)) {
    if (!use.remembered || !use.labelled[model] || seen.has(use.path)) continue;
    seen.add(use.path);
    const f = fileOf(use.path);
    if (!f || f.records.kind !== 'read') continue;
    const rec = decodeRecord(model, f.records.raw[model]);
    // Set validates the stamp only when ref_ exists; another boot's record is wiped and re-made (no failure).
    if (rec.ref.kind !== 'value' || rec.stamp.kind !== 'value' || !sameBoot(rec.stamp.value.text, bootStamp.value)) continue;
    if (!rec.count?.ok) continue; // "malformed refcount": libvirt's own words say it all
    const count = rec.count.value;
    if (count + 1 <= 1) continue;
    let differs: string | undefined;
    if (model === 'dac') {
      if (target.owner && f.owner && (f.owner.uid !== target.owner.uid || f.owner.gid !== target.owner.gid)) differs = `owned ${own(f.owner)}, not ${own(target.owner)}`;
    } else {
      // Kernel, initrd, dtb and ACPI tables get the content label, the same for every domain.
      const want = use.selinuxLabel === 'content' ? CONTENT_CONTEXT : target.label;
      if (want && typeof f.label === 'string' && f.label !== want) differs = `labelled ${f.label}, not ${want}`;
    }
    if (!differs) continue;
    const says =
      model === 'dac'
        ? `Requested operation is not valid: Setting different DAC user or group on ${use.path} which is already in use`
        : `Requested operation is not valid: Setting different SELinux label on ${use.path} which is already in use`;
    const counted = f.holders.filter((h) => h.counts[model]);
    const stale = count > counted.length;
    const name = recordNames(model).ref;
    // With the /proc/uptime fallback two daemon starts can land a second apart; libvirt then takes the
    // record for another boot's and wipes it instead of refusing.
    const exact = rec.stamp.value.text === bootStamp.value.value;
    const will = exact ? 'libvirt will refuse the start' : `libvirt will refuse the start if its boot stamp is ${rec.stamp.value.text} (this host's /proc/uptime fallback gives ${bootStamp.value.value} now)`;
    const line = stale
      ? `stale libvirt record on ${use.path}: run \`virt-seclabel doctor --apply ${use.path}\` (${name} = ${count} but ${counted.length === 0 ? 'no running domain holds it' : `only ${counted.map((h) => h.domain).join(', ')} hold${counted.length === 1 ? 's' : ''} it`}, and the file is ${differs}; ${will}: ${says})`
      : `${use.path} is in use by ${counted.map((h) => h.domain).join(', ')} and ${differs}; ${will}: ${says}`;
    out.push({ path: use.path, stale, libvirtWillSay: says, line });
  }
  return out;
}
