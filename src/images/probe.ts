/**
 * Format probing by magic, for a backing file whose image records no backing format: QEMU probes then,
 * and so does libvirt (which refuses to start if the probed image has a backing file of its own).
 * Only the formats that matter for which files get opened are told apart; everything else is raw.
 */
import { ascii, startsWith, u32be, u32le } from './bytes.js';
import { QCOW2_MAGIC } from './qcow2.js';
import { QED_MAGIC } from './qed.js';
import { VMDK4_MAGIC } from './vmdk.js';

/** Bytes a probe needs: QEMU and libvirt look at the first sectors only. */
export const PROBE_BYTES = 2048;

const VMDK_TEXT = ascii('# Disk DescriptorFile');
const VMDK3_MAGIC = ascii('COWD');
const VPC_MAGIC = ascii('conectix');
const LUKS_MAGIC = [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe];

export function probeFormat(head: Uint8Array): string {
  // qcow (v1) and qcow2 share the magic; the version tells them apart.
  if (startsWith(head, 0, QCOW2_MAGIC) && head.length >= 8) {
    const version = u32be(head, 4);
    if (version === 2 || version === 3) return 'qcow2';
    if (version === 1) return 'qcow';
  }
  if (startsWith(head, 0, QED_MAGIC)) return 'qed';
  if (startsWith(head, 0, VMDK4_MAGIC) || startsWith(head, 0, VMDK3_MAGIC)) return 'vmdk';
  // QEMU's vmdk_probe also accepts a text descriptor; libvirt would call it raw. Taking vmdk lists its
  // extents too, the larger (safer) set of files.
  if (startsWith(head, 0, VMDK_TEXT)) return 'vmdk';
  if (startsWith(head, 0, VPC_MAGIC)) return 'vpc';
  if (head.length >= 72 && u32le(head, 64) === 0xbeda107f) return 'vdi';
  if (startsWith(head, 0, LUKS_MAGIC)) return 'luks';
  return 'raw';
}
