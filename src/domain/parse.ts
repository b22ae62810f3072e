/**
 * Reads the domain model out of the XML tree. The tree is already well-formed (xml/parse); here the
 * only failures are structural ones libvirt itself would refuse, reported with the element's position.
 */
import { attr, child, childrenNamed, type XmlElement } from '../xml/tree.js';
import { failure, success, type Result } from '../result.js';
import {
  DISK_TYPES,
  type DeclaredBacking,
  type Disk,
  type DiskSeclabel,
  type DiskType,
  type Domain,
  type DomainSeclabel,
  type DomainSeclabelType,
} from './model.js';
import { readOtherFiles } from './files.js';

export interface DomainError {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

const fail = (el: XmlElement, message: string): Result<never, DomainError> =>
  failure({ line: el.line, column: el.column, message });

function parseYesNo(el: XmlElement, name: string): Result<boolean | undefined, DomainError> {
  const v = attr(el, name);
  if (v === undefined) return success(undefined);
  if (v === 'yes') return success(true);
  if (v === 'no') return success(false);
  return fail(el, `<${el.name} ${name}='${v}'>: libvirt accepts only 'yes' or 'no'`);
}

function isDiskType(t: string): t is DiskType {
  return (DISK_TYPES as readonly string[]).includes(t);
}

/** The path of a local source, by disk type; the attribute libvirt reads for that type. */
function sourcePath(type: string | undefined, source: XmlElement | undefined): string | undefined {
  if (!source) return undefined;
  switch (type) {
    case 'file':
      return attr(source, 'file');
    case 'block':
      return attr(source, 'dev');
    case 'dir':
      return attr(source, 'dir');
    default:
      return undefined;
  }
}

function parseDiskSeclabel(el: XmlElement): Result<DiskSeclabel, DomainError> {
  const relabel = parseYesNo(el, 'relabel');
  if (!relabel.ok) return relabel;
  const label = child(el, 'label')?.text.trim();
  if (relabel.value === false && label !== undefined)
    return fail(el, 'Cannot specify a label if relabelling is turned off (libvirt refuses this seclabel)');
  return success({ element: el, model: attr(el, 'model'), relabel: relabel.value ?? true, label });
}

function parseBacking(el: XmlElement | undefined, depth: number): Result<DeclaredBacking | undefined, DomainError> {
  if (!el) return success(undefined);
  if (depth > 200) return fail(el, '<backingStore> nested more than 200 deep');
  const type = attr(el, 'type');
  const source = child(el, 'source');
  if (type === undefined && !source && el.children.length === 0) return success({ kind: 'none' });
  const next = parseBacking(child(el, 'backingStore'), depth + 1);
  if (!next.ok) return next;
  return success({
    kind: 'layer',
    type,
    format: child(el, 'format') ? attr(child(el, 'format')!, 'type') : undefined,
    path: sourcePath(type, source),
    next: next.value,
  });
}

/** The per-device seclabels of one `<source>` (disk, nvram, chardev), refused as libvirt refuses them. */
function parseSourceSeclabels(source: XmlElement | undefined): Result<DiskSeclabel[], DomainError> {
  const seclabels: DiskSeclabel[] = [];
  for (const s of source ? childrenNamed(source, 'seclabel') : []) {
    const parsed = parseDiskSeclabel(s);
    if (!parsed.ok) return parsed;
    const model = parsed.value.model;
    if (model !== undefined && seclabels.some((x) => x.model === model))
      return fail(s, `seclabel for model ${model} is already provided (libvirt refuses a second one)`);
    seclabels.push(parsed.value);
  }
  return success(seclabels);
}

function parseDisk(el: XmlElement, index: number): Result<Disk, DomainError> {
  const rawType = attr(el, 'type') ?? 'file';
  const source = child(el, 'source');
  const secl = parseSourceSeclabels(source);
  if (!secl.ok) return secl;
  const seclabels = secl.value;
  const backing = parseBacking(child(el, 'backingStore'), 0);
  if (!backing.ok) return backing;
  const type = isDiskType(rawType) ? rawType : undefined;
  const driver = child(el, 'driver');
  return success({
    element: el,
    index,
    type,
    rawType,
    device: attr(el, 'device') ?? 'disk',
    target: child(el, 'target') ? attr(child(el, 'target')!, 'dev') : undefined,
    source,
    path: sourcePath(type, source),
    format: driver ? attr(driver, 'type') : undefined,
    readonly: child(el, 'readonly') !== undefined,
    shareable: child(el, 'shareable') !== undefined,
    backing: backing.value,
    seclabels,
  });
}

function parseDomainSeclabel(el: XmlElement): Result<DomainSeclabel, DomainError> {
  const rawType = attr(el, 'type') ?? 'dynamic';
  if (rawType !== 'none' && rawType !== 'static' && rawType !== 'dynamic')
    return fail(el, `<seclabel type='${rawType}'>: libvirt accepts none, static or dynamic`);
  const relabel = parseYesNo(el, 'relabel');
  if (!relabel.ok) return relabel;
  if (rawType === 'dynamic' && relabel.value === false)
    return fail(el, "<seclabel type='dynamic' relabel='no'>: libvirt refuses it (dynamic label type must use resource relabeling)");
  return success({
    element: el,
    type: rawType as DomainSeclabelType,
    model: attr(el, 'model'),
    relabel: relabel.value,
    label: child(el, 'label')?.text.trim(),
    baselabel: child(el, 'baselabel')?.text.trim(),
  });
}

export function parseDomain(root: XmlElement): Result<Domain, DomainError> {
  if (root.name !== 'domain') return fail(root, `the root element is <${root.name}>, not a libvirt <domain>`);
  const seclabels: DomainSeclabel[] = [];
  for (const s of childrenNamed(root, 'seclabel')) {
    const parsed = parseDomainSeclabel(s);
    if (!parsed.ok) return parsed;
    seclabels.push(parsed.value);
  }
  const disks: Disk[] = [];
  const devices = child(root, 'devices');
  for (const d of devices ? childrenNamed(devices, 'disk') : []) {
    const parsed = parseDisk(d, disks.length);
    if (!parsed.ok) return parsed;
    disks.push(parsed.value);
  }
  // Seclabels of nvram and chardev sources are refused like a disk's; the first refusal wins.
  let refused: DomainError | undefined;
  const other = readOtherFiles(root, (source) => {
    const r = parseSourceSeclabels(source);
    if (!r.ok) refused ??= r.error;
    return r.ok ? r.value : [];
  });
  if (refused) return failure(refused);
  const nameEl = child(root, 'name');
  const uuid = child(root, 'uuid')?.text.trim();
  return success({ name: nameEl?.text.trim(), ...(uuid && { uuid }), type: attr(root, 'type'), seclabels, disks, other });
}
