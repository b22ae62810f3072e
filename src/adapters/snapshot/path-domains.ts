/**
 * `facts --path P`: a domain, in libvirt XML, whose disks are the given paths read-only and read-write,
 * so running the ordinary decisions on it records everything a later domain pointing at those paths
 * will ask (path walk, labels, ACLs, image chain, SELinux questions). Synthesizing XML rather than
 * calling the engines directly keeps `--path` on exactly the code path real domains take.
 */
import type { FileType } from '../../host/view.js';

export interface PathDisk {
  readonly path: string;
  /** block devices become type='block' disks; everything else type='file'. */
  readonly type: FileType;
  /** The image format to decide under ('raw' reads no header; others record the backing chain). */
  readonly format: string;
}

/** XML 1.0 cannot carry C0 controls other than tab/LF/CR, nor U+FFFE/U+FFFF; such a path is reported. */
export function xmlCarries(path: string): boolean {
  for (const ch of path) {
    const c = ch.codePointAt(0)!;
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0xfffe || c === 0xffff) return false;
  }
  return true;
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');

/** vda, vdb, ..., vdz, vdaa, ...: libvirt's own target naming. */
export function targetName(i: number): string {
  let s = '';
  let n = i;
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return `vd${s}`;
}

/**
 * One domain of `domainType` (kvm → svirt_t, qemu → svirt_tcg_t where the policy has it) with two disks
 * per path: read-only and read-write.
 */
export function pathDomainXml(disks: readonly PathDisk[], domainType: 'kvm' | 'qemu'): string {
  const out = [`<domain type='${domainType}'>`, `  <name>virt-seclabel-facts-${domainType}</name>`, '  <devices>'];
  let i = 0;
  for (const d of disks) {
    const block = d.type === 'block';
    const attr = block ? 'dev' : 'file';
    for (const readonly of [true, false]) {
      out.push(
        `    <disk type='${block ? 'block' : 'file'}' device='disk'>`,
        `      <driver name='qemu' type='${escapeAttr(d.format)}'/>`,
        `      <source ${attr}='${escapeAttr(d.path)}'/>`,
        `      <target dev='${targetName(i++)}' bus='virtio'/>`,
        ...(readonly ? ['      <readonly/>'] : []),
        '    </disk>',
      );
    }
  }
  out.push('  </devices>', '</domain>', '');
  return out.join('\n');
}
