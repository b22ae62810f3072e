/** Builds real images with qemu-img and reads qemu-img's own view of a chain: the reference for these suites. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

export function qemuImg(...args: string[]): string {
  return execFileSync('qemu-img', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface ReferenceFile {
  readonly path: string;
  readonly format: string;
  readonly role: 'image' | 'data-file' | 'extent';
}

interface InfoImage {
  filename: string;
  format: string;
  'backing-filename'?: string;
  'format-specific'?: {
    type: string;
    data?: { 'data-file'?: string; extents?: { filename: string }[] };
  };
}

/** `qemu-img info --backing-chain` with the format given, as libvirt passes it (no probing of the top). */
export function qemuInfoChain(top: string, format: string): InfoImage[] {
  return JSON.parse(qemuImg('info', '--backing-chain', '--output=json', '-f', format, top)) as InfoImage[];
}

/** Every file qemu-img says the chain consists of, top first, in the order chain.ts lists them. */
export function referenceFiles(top: string, format: string): ReferenceFile[] {
  const out: ReferenceFile[] = [];
  for (const img of qemuInfoChain(top, format)) {
    out.push({ path: img.filename, format: img.format, role: 'image' });
    const data = img['format-specific']?.data;
    if (data?.['data-file'] !== undefined) out.push({ path: data['data-file'], format: 'raw', role: 'data-file' });
    for (const e of data?.extents ?? []) {
      if (e.filename !== img.filename) out.push({ path: e.filename, format: 'raw', role: 'extent' });
    }
  }
  return out;
}

/**
 * Makes an image record no backing format, which qemu-img 7.2 refuses to create: the backing format
 * extension's magic is overwritten with an unknown one, which QEMU skips (so it probes the backing file).
 */
export function dropBackingFormat(image: string): void {
  const bytes = readFileSync(image);
  const at = bytes.indexOf(Buffer.from([0xe2, 0x79, 0x2a, 0xca]));
  if (at < 0 || at > 4096) throw new Error(`no backing format extension in ${image}`);
  bytes.writeUInt32BE(0x7a7a7a7a, at);
  writeFileSync(image, bytes);
}
