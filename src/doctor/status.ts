/**
 * What libvirt itself knows about its running QEMU domains without being asked: the status files it
 * keeps in its state directory (/run/libvirt/qemu/NAME.xml, `<domstatus state=… pid=…>` with
 * `<rememberOwner/>` and the live `<domain>` inside, docs/libvirt-remembered-labels.md §8.4). Reading
 * them never calls into the daemon, so the hook can use them while libvirtd holds its locks. Pure:
 * bytes in, the domain's users of files out.
 */
import { labelledOtherFiles } from '../decide/files.js';
import type { Connection } from '../decide/connection.js';
import type { Model } from '../decide/types.js';
import type { DeclaredBacking, Disk, Domain } from '../domain/model.js';
import { parseDomain } from '../domain/parse.js';
import { failure, success, type Result } from '../result.js';
import { parseXml } from '../xml/parse.js';
import { attr, child, type XmlElement } from '../xml/tree.js';

/** libvirt's QEMU state directory for qemu:///system: one `<domstatus>` file per running domain. */
export const DEFAULT_STATE_DIR = '/run/libvirt/qemu';

export interface DomainStatus {
  readonly name: string;
  readonly state: string | undefined;
  readonly pid: number | undefined;
  /** `<rememberOwner/>`: the domain counts in the records it touches (its stop will decrement them). */
  readonly rememberOwner: boolean;
  readonly domain: Domain;
}

export function parseDomainStatus(bytes: Uint8Array): Result<DomainStatus, string> {
  const doc = parseXml(bytes);
  if (!doc.ok) return failure(`line ${doc.error.line} column ${doc.error.column}: ${doc.error.message}`);
  const root = doc.value.root;
  if (root.name !== 'domstatus') return failure(`the root element is <${root.name}>, not <domstatus>`);
  const dom = child(root, 'domain');
  if (!dom) return failure('no <domain> inside <domstatus>');
  const domain = parseDomain(dom);
  if (!domain.ok) return failure(`line ${domain.error.line} column ${domain.error.column}: ${domain.error.message}`);
  const pidText = attr(root, 'pid');
  const pid = pidText !== undefined && /^[1-9][0-9]{0,9}$/.test(pidText) ? Number(pidText) : undefined;
  return success({
    name: domain.value.name ?? '?',
    state: attr(root, 'state'),
    pid,
    rememberOwner: child(root, 'rememberOwner') !== undefined,
    domain: domain.value,
  });
}

/**
 * How a domain uses one file: of one of its disks, or beyond them (nvram, kernel, chardev source, …:
 * `remembered-file` where libvirt records what it replaced, `unremembered-file` where it labels without).
 */
export type FileRole = 'top' | 'readonly' | 'shareable' | 'backing' | 'remembered-file' | 'unremembered-file';

export interface FileUse {
  readonly path: string;
  readonly role: FileRole;
  /** The disk's target, or for a file beyond the disks its element (`os/nvram`, `devices/serial[1]`). */
  readonly disk: string;
  /** Per model: does libvirt label this file for this domain (and so touch its records or its owner)? */
  readonly labelled: Readonly<Record<Model, boolean>>;
  /** libvirt records the owner and label it replaced (a count per domain) and gives them back at the last stop. */
  readonly remembered: boolean;
  /** The SELinux label libvirt gives it: the VM's imagelabel or the content label. */
  readonly selinuxLabel: 'image' | 'content';
}

function domainModelOff(domain: Domain, model: Model): boolean {
  return domain.seclabels.some((s) => s.model === model && (s.type === 'none' || s.relabel === false));
}

function backingPaths(b: DeclaredBacking | undefined): string[] {
  const out: string[] = [];
  for (let cur = b, depth = 0; cur && cur.kind === 'layer' && depth < 200; cur = cur.next, depth++) if (cur.path) out.push(cur.path);
  return out;
}

/** The top image's role: libvirt remembers only a writable, non-shareable top (§6). */
export function topRole(disk: Disk): FileRole {
  return disk.readonly ? 'readonly' : disk.shareable ? 'shareable' : 'top';
}

/**
 * Every local file a domain's disks name, top first, with `<backingStore>` layers as written (the live
 * XML of a running domain has them all). `chain` may give the layers a definition does not write.
 */
export function diskFileUses(domain: Domain, chain?: (disk: Disk) => readonly string[] | undefined): FileUse[] {
  const uses: FileUse[] = [];
  for (const disk of domain.disks) {
    if (!disk.path || (disk.type !== 'file' && disk.type !== 'block')) continue;
    const target = disk.target ?? `#${disk.index + 1}`;
    const labelled = (model: Model) => !domainModelOff(domain, model) && !disk.seclabels.some((s) => s.model === model && !s.relabel);
    const lab = { dac: labelled('dac'), selinux: labelled('selinux') };
    const role = topRole(disk);
    uses.push({ path: disk.path, role, disk: target, labelled: lab, remembered: role === 'top', selinuxLabel: 'image' });
    const layers = backingPaths(disk.backing);
    for (const p of layers.length > 0 ? layers : (chain?.(disk) ?? [])) uses.push({ path: p, role: 'backing', disk: target, labelled: lab, remembered: false, selinuxLabel: 'image' });
  }
  return uses;
}

/**
 * Every local file libvirt labels for a domain: its disks (diskFileUses) and the files beyond them that
 * decide/files.ts says libvirt labels (docs/libvirt-files.md), each with whether libvirt remembers it.
 * A domain's live XML (its status file) names them all, so holders are counted the same way.
 */
export function domainFileUses(domain: Domain, conn: Pick<Connection, 'stdioHandler'> = {}, chain?: (disk: Disk) => readonly string[] | undefined): FileUse[] {
  const uses = diskFileUses(domain, chain);
  for (const f of labelledOtherFiles(domain, conn)) {
    const labelled = (m: Model) => f.labelled[m] && !domainModelOff(domain, m);
    uses.push({
      path: f.path,
      role: f.remembered ? 'remembered-file' : 'unremembered-file',
      disk: f.file.where,
      labelled: { dac: labelled('dac'), selinux: labelled('selinux') },
      remembered: f.remembered,
      selinuxLabel: f.selinuxLabel,
    });
  }
  return uses;
}

/** A running domain's use of a file, as the verdicts count it. */
export interface Holder {
  readonly domain: string;
  readonly role: FileRole;
  readonly disk: string;
  /** It holds a count in this model's record: a remembered use (top, labelled) by a domain with <rememberOwner/>. */
  readonly counts: Readonly<Record<Model, boolean>>;
  /** The domain's DAC `<label>` (`+uid:+gid`) and SELinux `<imagelabel>` from its live XML, when written. */
  readonly dacLabel: string | undefined;
  readonly imageLabel: string | undefined;
}

export function holderOf(st: DomainStatus, use: FileUse): Holder {
  const counted = (m: Model) => st.rememberOwner && use.remembered && use.labelled[m] && (m === 'dac' || hasModel(st.domain, 'selinux'));
  const dacSec = st.domain.seclabels.find((s) => s.model === 'dac');
  const selSec = st.domain.seclabels.find((s) => s.model === 'selinux');
  return {
    domain: st.name,
    role: use.role,
    disk: use.disk,
    counts: { dac: counted('dac'), selinux: counted('selinux') },
    dacLabel: dacSec?.label,
    imageLabel: selSec ? imageLabelOf(selSec.element) : undefined,
  };
}

const hasModel = (domain: Domain, model: Model) => domain.seclabels.some((s) => s.model === model && s.type !== 'none' && s.relabel !== false);

function imageLabelOf(el: XmlElement): string | undefined {
  return child(el, 'imagelabel')?.text.trim() || undefined;
}
