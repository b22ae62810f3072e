/**
 * Shared by the XML suites: the sample corpus, and "annotate every disk that can carry a seclabel",
 * the edit the property and libvirt suites check.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseXml } from '../../src/xml/parse.js';
import { applyEdits, planSeclabelInsert, type Edit, type SeclabelModel } from '../../src/xml/splice.js';
import { attr, type XmlDocument, type XmlElement } from '../../src/xml/tree.js';

export const SAMPLES_DIR = join(import.meta.dirname, '../../samples/domains');
export const INVALID_DIR = join(import.meta.dirname, '../../samples/invalid');
export const MODELS: readonly SeclabelModel[] = ['dac', 'selinux'];

export interface Sample {
  readonly file: string;
  readonly bytes: Uint8Array;
}

export function samples(): Sample[] {
  return readdirSync(SAMPLES_DIR)
    .filter((f) => f.endsWith('.xml'))
    .sort()
    .map((file) => ({ file, bytes: readFileSync(join(SAMPLES_DIR, file)) }));
}

export function parseOrThrow(bytes: Uint8Array, what: string): XmlDocument {
  const r = parseXml(bytes);
  if (!r.ok) throw new Error(`${what}:${r.error.line}:${r.error.column}: ${r.error.message}`);
  return r.value;
}

export function parseTextOrThrow(text: string, what = 'input'): XmlDocument {
  return parseOrThrow(new TextEncoder().encode(text), what);
}

export function descendants(el: XmlElement, name: string, out: XmlElement[] = []): XmlElement[] {
  for (const c of el.children) {
    if (c.name === name) out.push(c);
    descendants(c, name, out);
  }
  return out;
}

/** The disk types whose <source> may carry a seclabel (libvirt's RelaxNG: file, block, volume). */
const LABELLED_DISK_TYPES = new Set(['file', 'block', 'volume']);

export interface DiskTarget {
  /** The disk's <target dev>, which identifies it in libvirt's own output. */
  readonly dev: string;
  readonly source: XmlElement;
  /** Models this run adds (those the source does not have yet). */
  readonly models: SeclabelModel[];
}

/**
 * Models whose labelling the domain turns off (`<seclabel type='none' model=M/>`, or relabel='no', which
 * static labels default to). libvirt refuses a per-disk seclabel for such a model at define time:
 * "label overrides require relabeling to be enabled at the domain level" (measured, libvirt 9.0.0).
 */
export function modelsWithRelabelOff(doc: XmlDocument): Set<string> {
  const off = new Set<string>();
  for (const s of doc.root.children.filter((c) => c.name === 'seclabel')) {
    const model = attr(s, 'model');
    const type = attr(s, 'type') ?? 'dynamic';
    const relabel = attr(s, 'relabel') ?? (type === 'dynamic' ? 'yes' : 'no');
    if (model !== undefined && (type === 'none' || relabel === 'no')) off.add(model);
  }
  return off;
}

/** Every file/block/volume disk <source> and the models it still lacks (and libvirt would accept). */
export function annotatableDisks(doc: XmlDocument): DiskTarget[] {
  const off = modelsWithRelabelOff(doc);
  const out: DiskTarget[] = [];
  for (const disk of descendants(doc.root, 'disk')) {
    const source = disk.children.find((c) => c.name === 'source');
    const dev = disk.children.find((c) => c.name === 'target');
    if (source === undefined || dev === undefined || !LABELLED_DISK_TYPES.has(attr(disk, 'type') ?? '')) continue;
    const present = source.children.filter((c) => c.name === 'seclabel').map((c) => attr(c, 'model'));
    const models = MODELS.filter((m) => !present.includes(m) && !off.has(m));
    out.push({ dev: attr(dev, 'dev') ?? '', source, models });
  }
  return out;
}

export function planAll(doc: XmlDocument): Edit[] {
  return annotatableDisks(doc).flatMap((d) => planSeclabelInsert(doc, d.source, d.models));
}

export function annotate(doc: XmlDocument): string {
  return applyEdits(doc.text, planAll(doc));
}
