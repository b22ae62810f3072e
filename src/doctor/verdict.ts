/**
 * The doctor's verdicts on one file (docs/libvirt-remembered-labels.md §9): its records decoded as
 * libvirt reads them, compared with the running domains that hold it (from the status files), give
 * consistent, stale (with the error or loss libvirt will cause next), cannot be recorded, or left
 * chowned; each with the plan --apply would carry out, or why it will not. Pure: facts in, findings out.
 */
import { resolveOwnership } from '../dac/ownership.js';
import type { Model } from '../decide/types.js';
import { MODELS } from '../decide/types.js';
import type { BootStamp } from './boot-stamp.js';
import {
  decodeRecord,
  noRecord,
  NO_CHANGE_ID,
  plausibleContext,
  recordNames,
  safeText,
  showValue,
  type DecodedRecord,
  type RawRecord,
  type RecordRead,
} from './records.js';
import type { FileRole, Holder } from './status.js';
import type { Result } from '../result.js';

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

export interface FileFacts {
  /** The path as the definition (or --path) names it: libvirt's messages use it. */
  readonly path: string;
  /** Where the records live: every libvirt xattr call follows symlinks. */
  readonly realPath: string | undefined;
  readonly inode: (Owner & { readonly type: string; readonly dev: number; readonly ino: number }) | undefined;
  readonly inodeWhy?: string;
  /** security.selinux now; null: none; undefined: cannot tell. */
  readonly selinuxLabel: string | null | undefined;
  readonly records: RecordRead;
  /** Running domains that use the file (any role). */
  readonly holders: readonly Holder[];
  /** How the definitions name it; 'path' when it came from --path or the command line. */
  readonly roles: readonly (FileRole | 'path')[];
  /** Per model: does any definition naming it have libvirt label it (undefined: not known, as for --path)? */
  readonly labelledBy?: Readonly<Record<Model, boolean>>;
  /** For files beyond the disks: the elements naming it (`os/nvram`, `devices/serial[1]`), for reports. */
  readonly elements?: readonly string[];
  /** The parent directory and a sibling's owner/label, for the "most likely had" guess. */
  readonly neighbours?: Neighbours;
  /** Static DAC labels (`<seclabel model='dac'><label>`) of the definitions naming it: owners libvirt sets besides the qemu user. */
  readonly dacLabels?: readonly Owner[];
}

export interface Neighbours {
  readonly dir: (Owner & { readonly label: string | null | undefined }) | undefined;
  /** Regular files beside it (a few), not owned by the qemu user. */
  readonly siblings: readonly (Owner & { readonly label: string | null | undefined })[];
}

/** `pid`: the daemon's process, when one was found (its qemu.conf is read through /proc/PID/root). */
export type DaemonXattrs = { readonly ok: true } | { readonly ok: false; readonly why: string; readonly pid?: number };

export interface DoctorHost {
  /** The stamp a daemon on this host uses (this process's computation, libvirt's algorithm). */
  readonly bootStamp: Result<BootStamp, string>;
  /** The qemu user:group as qemu.conf (or libvirt's default) names them, as numbers. */
  readonly qemu: Owner | undefined;
  readonly qemuNames: string;
  readonly userId: (name: string) => number | undefined;
  readonly groupId: (name: string) => number | undefined;
  /** Whether the daemon may write trusted.* (CAP_SYS_ADMIN in the initial user namespace). */
  readonly daemonXattrs: DaemonXattrs;
  /** false: the daemon's own qemu.conf says remember_owner = 0 (it writes no records); undefined: not known or not 0. */
  readonly daemonRemembers?: boolean;
}

export interface DoctorOptions {
  /** A person named the owner for files left chowned (`--owner`). */
  readonly owner?: Owner;
  /** A person named the label for files left labelled (`--label`). */
  readonly label?: string;
}

export type Verdict = 'consistent' | 'stale' | 'unrecordable' | 'left-chowned' | 'unknown';

export type Cause =
  | 'counts-match'
  | 'other-boot'
  | 'no-stamp'
  | 'over-count'
  | 'under-count'
  | 'zero-count'
  | 'malformed-count'
  | 'missing-label'
  | 'fragment'
  | 'filesystem'
  | 'namespace'
  | 'nothing-remembered'
  | 'unreadable';

export type Action =
  | {
      readonly kind: 'restore-record';
      readonly model: Model;
      readonly realPath: string;
      readonly dev: number;
      readonly ino: number;
      /** The attributes as planned, hex per name (absent: null): re-read under the lock, they must be the same. */
      readonly expect: Readonly<Record<string, string | null>>;
      /** What to give back after removing the records; undefined: remove only. */
      readonly restore: { readonly owner: Owner } | { readonly label: string } | undefined;
      /** The owner/label the file must still have for the restore to run. */
      readonly from: { readonly owner: Owner } | { readonly label: string } | undefined;
      /** The remembered owner/label exists but will not be given back (the file's is not libvirt's now): a person decides. */
      readonly keeps?: string;
    }
  | { readonly kind: 'set-owner'; readonly realPath: string; readonly dev: number; readonly ino: number; readonly from: Owner; readonly to: Owner }
  | { readonly kind: 'set-label'; readonly realPath: string; readonly dev: number; readonly ino: number; readonly from: string; readonly to: string };

export interface RecordView {
  readonly label: string | null;
  readonly count: string | null;
  readonly countValue: number | null;
  readonly stamp: string | null;
  /** The stamp equals this boot's (exactly or within the fallback's rounding); null: no stamp to compare. */
  readonly thisBoot: boolean | null;
}

export interface Likely {
  readonly owner?: Owner;
  readonly label?: string;
  readonly confidence: 'medium' | 'low' | 'none';
  readonly why: string;
}

export interface Finding {
  readonly path: string;
  readonly realPath: string | undefined;
  /** undefined: about the file, not one model's record. */
  readonly model: Model | undefined;
  readonly verdict: Verdict;
  readonly cause: Cause;
  readonly summary: string;
  readonly record?: RecordView;
  /** What libvirt remembered as the original, decoded. */
  readonly original?: { readonly owner?: Owner; readonly label?: string; readonly problem?: string };
  readonly counted: number;
  readonly users: readonly Holder[];
  /** The exact text libvirt will print (an error, or the daemon's warning). */
  readonly libvirtWillSay?: string;
  readonly consequence?: string;
  readonly avoid?: { readonly setting: string; readonly cost: string };
  readonly likely?: Likely;
  readonly action?: Action;
  /** Why --apply will not act on this finding. */
  readonly noAction?: string;
}

const own = (o: Owner) => `${o.uid}:${o.gid}`;
const sameOwner = (a: Owner, b: Owner) => a.uid === b.uid && a.gid === b.gid;
const typeOfContext = (c: string) => c.split(':')[2];
/** Types libvirt gives files (the imagelabel, file_context and content_context of libvirt-files.md §1). */
const LIBVIRT_TYPES = new Set(['svirt_image_t', 'virt_content_t', 'svirt_tcg_image_t']);

function hexOf(a: RawRecord[keyof RawRecord]): string | null {
  return a.kind === 'value' ? Buffer.from(a.bytes.buffer, a.bytes.byteOffset, a.bytes.length).toString('hex') : null;
}

function expectOf(model: Model, raw: RawRecord): Record<string, string | null> {
  const n = recordNames(model);
  return { [n.ref]: hexOf(raw.ref), [n.label]: hexOf(raw.label), [n.stamp]: hexOf(raw.stamp) };
}

/** Whether a stored stamp is this boot's. The /proc/uptime fallback may land a second either side per daemon start. */
function stampMatch(rec: DecodedRecord, boot: Result<BootStamp, string>): boolean | null {
  if (rec.stamp.kind !== 'value' || !boot.ok) return null;
  const t = rec.stamp.value.text;
  if (t === boot.value.value) return true;
  if (boot.value.source === 'uptime' && /^[0-9]{1,19}$/.test(t)) return Math.abs(Number(BigInt(t) - BigInt(boot.value.value))) <= 1;
  return false;
}

function recordView(rec: DecodedRecord, boot: Result<BootStamp, string>): RecordView {
  const text = (d: DecodedRecord['label']) => (d.kind === 'value' ? showValue(d.value) : null);
  return {
    label: text(rec.label),
    count: text(rec.ref),
    countValue: rec.count?.ok ? rec.count.value : null,
    stamp: text(rec.stamp),
    thisBoot: stampMatch(rec, boot),
  };
}

/** The original the record names, decoded for the restore (DAC: numeric ids; SELinux: a plausible context). */
function originalOf(rec: DecodedRecord, host: DoctorHost): { owner?: Owner; label?: string; problem?: string } | undefined {
  if (rec.label.kind !== 'value') return undefined;
  const text = rec.label.value.text;
  if (rec.model === 'selinux') return plausibleContext(text) ? { label: text } : { problem: `${showValue(rec.label.value)} is not an SELinux context` };
  const o = resolveOwnership(text, host.userId, host.groupId);
  if (!o.ok) return { problem: o.error };
  if (o.value.uid === NO_CHANGE_ID || o.value.gid === NO_CHANGE_ID) return { problem: `${text} holds id 4294967295, which chown(2) reads as "leave unchanged"` };
  return { owner: o.value };
}

/** What the file must carry now for a restore to be libvirt's own undo: the qemu owner, or a libvirt type. */
function restoreFrom(model: Model, facts: FileFacts, host: DoctorHost): { ok: true; from: { owner: Owner } | { label: string } } | { ok: false; why: string } {
  if (model === 'dac') {
    if (!facts.inode) return { ok: false, why: 'its owner cannot be read' };
    if (!host.qemu) return { ok: false, why: 'the qemu user is unknown' };
    const now = { uid: facts.inode.uid, gid: facts.inode.gid };
    const set = [host.qemu, ...(facts.dacLabels ?? [])];
    if (!set.some((o) => sameOwner(now, o)))
      return { ok: false, why: `its owner ${own(now)} is not the qemu user ${own(host.qemu)}${facts.dacLabels?.length ? ` nor a DAC label of the definitions naming it (${facts.dacLabels.map(own).join(', ')})` : ''}: someone changed it since libvirt did` };
    return { ok: true, from: { owner: now } };
  }
  const now = facts.selinuxLabel;
  if (now === undefined) return { ok: false, why: 'its SELinux label cannot be read' };
  if (now === null) return { ok: false, why: 'it has no SELinux label' };
  if (!LIBVIRT_TYPES.has(typeOfContext(now) ?? '')) return { ok: false, why: `its label ${now} is not one libvirt sets: someone changed it since` };
  return { ok: true, from: { label: now } };
}

/** What a person who knows the current owner was libvirt's (e.g. before a qemu.conf user change) can run. */
function giveBackHint(v: { owner: Owner } | { label: string }, path: string): string {
  const q = `'${path.replace(/'/g, `'\\''`)}'`;
  return 'owner' in v
    ? ` (or qemu.conf's user or group changed since); if it was libvirt's, \`chown ${own(v.owner)} ${q}\` gives it back`
    : ` (or the domain's label changed since); if it was libvirt's, \`chcon ${v.label} ${q}\` gives it back`;
}

function usersText(users: readonly Holder[]): string {
  return users.map((u) => `${u.domain} (${u.disk}, ${u.role})`).join(', ');
}

/** The next start of a domain on this file, when the record is a same-boot over-count (§9's two rows). */
function overCountStart(model: Model, facts: FileFacts, host: DoctorHost, count: number, original: string): { says?: string; consequence: string } {
  if (model === 'dac') {
    const now = facts.inode;
    if (now && host.qemu && !sameOwner(now, host.qemu))
      return {
        says: `Requested operation is not valid: Setting different DAC user or group on ${facts.path} which is already in use`,
        consequence: `the next start of a domain as ${host.qemuNames} fails: the count says another domain holds the file, and its owner ${own(now)} is not the qemu user`,
      };
    // A definition naming the file with a static DAC label sets that owner instead of the qemu user's.
    const other = now ? facts.dacLabels?.find((o) => !sameOwner(now, o)) : undefined;
    if (now && other)
      return {
        says: `Requested operation is not valid: Setting different DAC user or group on ${facts.path} which is already in use`,
        consequence: `the next start of the domain whose DAC label is +${other.uid}:+${other.gid} fails: the count says another domain holds the file, and its owner ${own(now)} is not ${own(other)}`,
      };
    return {
      consequence: `the next start succeeds and counts ${count + 1}; its stop counts back to ${count}, so ${original} is never given back (and for a disk the stop then wipes the record: the qemu user keeps the file for good)`,
    };
  }
  return {
    says: `Requested operation is not valid: Setting different SELinux label on ${facts.path} which is already in use`,
    consequence: 'the next start fails: each domain gets its own MCS categories, so its label never equals the one the count claims is in use',
  };
}

function likelyOwner(facts: FileFacts, host: DoctorHost): Likely {
  const dir = facts.neighbours?.dir;
  const q = host.qemu;
  const isQemu = (o: Owner) => q !== undefined && sameOwner(o, q);
  const sib = facts.neighbours?.siblings.find((s) => !isQemu(s));
  if (dir && !isQemu(dir)) {
    const agrees = sib !== undefined && sameOwner(sib, dir);
    return {
      owner: { uid: dir.uid, gid: dir.gid },
      confidence: agrees ? 'medium' : 'low',
      why: agrees ? `the directory and another file in it are owned ${own(dir)}` : `the directory is owned ${own(dir)}${sib ? `; another file in it is owned ${own(sib)}` : ''}`,
    };
  }
  if (sib) return { owner: { uid: sib.uid, gid: sib.gid }, confidence: 'low', why: `another file in the directory is owned ${own(sib)}` };
  return { confidence: 'none', why: 'the directory and the files beside it belong to the qemu user too' };
}

function likelyLabel(facts: FileFacts): Likely {
  const dir = facts.neighbours?.dir?.label;
  const notLibvirt = (l: string | null | undefined): l is string => typeof l === 'string' && !LIBVIRT_TYPES.has(typeOfContext(l) ?? '');
  const sib = facts.neighbours?.siblings.map((s) => s.label).find(notLibvirt);
  if (notLibvirt(dir)) {
    const agrees = sib === dir;
    return { label: dir, confidence: agrees ? 'medium' : 'low', why: agrees ? 'the directory and another file in it carry it (new files take the directory\'s label)' : 'the directory carries it (new files take the directory\'s label)' };
  }
  if (sib) return { label: sib, confidence: 'low', why: 'another file in the directory carries it' };
  return { confidence: 'none', why: 'no neighbour carries a label libvirt did not set' };
}

const ROLE_WORDS: Readonly<Record<FileRole | 'path', string>> = {
  top: 'a writable disk',
  readonly: 'a read-only disk',
  shareable: 'a shareable disk',
  backing: 'a backing file',
  'remembered-file': 'a file of the domain beyond its disks',
  'unremembered-file': 'a file of the domain beyond its disks that libvirt labels without remembering',
  path: 'a file',
};

/** Roles whose files libvirt labels without ever recording what they had. */
const UNREMEMBERED: ReadonlySet<FileRole | 'path'> = new Set(['readonly', 'shareable', 'backing', 'unremembered-file']);

/** --owner's plan: a set-owner action through a descriptor, or for a socket (which cannot be opened) the chown to run. */
function ownerPlan(facts: FileFacts, opts: DoctorOptions, from: Owner): Pick<Finding, 'action' | 'noAction'> {
  if (!opts.owner || !facts.realPath || !facts.inode) return { noAction: 'the owner it had is not known: name it with --owner UID:GID to give it back' };
  if (facts.inode.type === 'socket')
    return { noAction: `a socket cannot be opened to be changed through a descriptor: \`chown ${own(opts.owner)} '${facts.path.replace(/'/g, `'\\''`)}'\` gives it the owner you named` };
  return { action: { kind: 'set-owner', realPath: facts.realPath, dev: facts.inode.dev, ino: facts.inode.ino, from: { uid: from.uid, gid: from.gid }, to: opts.owner } };
}

/**
 * A file libvirt labels without remembering, now root:root while its directory says otherwise: libvirt
 * 9.0 chowns a unix socket chardev at start and its stop resets it to root:root (measured), so the owner
 * it had is lost. Reported with the likely owner; root:root may also be its real owner, hence only
 * where the neighbours name another one.
 */
function resetToRoot(facts: FileFacts, host: DoctorHost, opts: DoctorOptions, base: Omit<Finding, 'summary'>, roles: string, known: readonly (FileRole | 'path')[]): Finding | undefined {
  const inode = facts.inode;
  if (!inode || inode.uid !== 0 || inode.gid !== 0 || known.length === 0 || !known.every((r) => r === 'unremembered-file')) return undefined;
  const likely = likelyOwner(facts, host);
  if (!likely.owner || likely.confidence === 'none' || sameOwner(likely.owner, { uid: 0, gid: 0 })) return undefined;
  return {
    ...base,
    summary: `${roles} owned by root:root with no record and no running domain using it: the stop after libvirt chowned it reset it to root:root (libvirt 9.0 does so for a unix socket chardev, measured), so the owner it had is lost`,
    likely,
    ...ownerPlan(facts, opts, { uid: 0, gid: 0 }),
  };
}

function leftChowned(model: Model, facts: FileFacts, host: DoctorHost, opts: DoctorOptions): Finding | undefined {
  // A file every definition opts out of this model's labelling (relabel='no') was not chowned by libvirt.
  if (facts.labelledBy && !facts.labelledBy[model]) return undefined;
  // What the definitions say about the file is more than "a file" (--path): keep only that when there is some.
  const known = facts.roles.filter((r) => r !== 'path');
  // A socket is labelled only as a chardev libvirt does not remember (unix connect/bind).
  const socket = facts.inode?.type === 'socket' && known.includes('unremembered-file');
  if (facts.holders.length > 0 || !facts.inode || (facts.inode.type !== 'file' && facts.inode.type !== 'block' && !socket)) return undefined;
  const shown = known.length > 0 ? known : facts.roles;
  const roles = shown.map((r) => ROLE_WORDS[r]).join(' and ') + (facts.elements?.length ? ` (${facts.elements.join(', ')})` : '');
  const base = { path: facts.path, realPath: facts.realPath, model, verdict: 'left-chowned' as const, cause: 'nothing-remembered' as const, counted: 0, users: [] };
  const why =
    known.length > 0 && known.every((r) => UNREMEMBERED.has(r))
      ? known.every((r) => r === 'unremembered-file')
        ? 'libvirt chowns and relabels it at start but never remembers or gives back what it had'
        : 'libvirt chowns and relabels read-only and shareable disks and backing files but never remembers or restores them'
      : 'libvirt remembers nothing for it now, so no stop will give it back';
  if (model === 'dac') {
    const q = host.qemu;
    if (!q) return undefined;
    const inode = facts.inode;
    const setter = [q, ...(facts.dacLabels ?? [])].find((o) => sameOwner(inode, o));
    if (!setter) return resetToRoot(facts, host, opts, base, roles, known);
    const who = setter === q ? `the qemu user (${host.qemuNames}, ${own(q)})` : `${own(setter)}, the DAC label of a definition naming it`;
    const likely = likelyOwner(facts, host);
    return {
      ...base,
      summary: `${roles} owned by ${who} with no record and no running domain using it: ${why}`,
      likely,
      ...ownerPlan(facts, opts, setter),
    };
  }
  const label = facts.selinuxLabel;
  if (typeof label !== 'string' || !LIBVIRT_TYPES.has(typeOfContext(label) ?? '')) return undefined;
  const likely = likelyLabel(facts);
  const { dev, ino } = facts.inode;
  return {
    ...base,
    summary: `${roles} labelled ${label} with no record and no running domain using it: ${why}`,
    likely,
    ...(opts.label && facts.realPath
      ? { action: { kind: 'set-label', realPath: facts.realPath, dev, ino, from: label, to: opts.label } as const }
      : { noAction: 'the label it had is not known: name it with --label CONTEXT to give it back' }),
  };
}

const REMEMBER_COST =
  'libvirt then remembers no owner or label on any file: every stop gives files root:root (DAC) and the file_contexts default (SELinux) instead of what they had, and two domains may use one file under different owners without the "already in use" check';

/** What libvirt 9.0 printed for a start in a user namespace (measured: test/libvirt/doctor-userns-libvirtd.test.ts). */
export const NAMESPACE_SAYS = 'Unable to set XATTR trusted.libvirt.security.dac on /var/lib/libvirt/qemu/domain-ID-NAME/master-key.aes: Operation not permitted';
export const NAMESPACE_SETTING =
  'qemu.conf remember_owner = 0; where the daemon\'s user namespace inherited its mounts, QEMU\'s mount namespace cannot be built either (libvirt then says "Unable to move /dev/pts mount to /run/libvirt/qemu/ID-NAME.pts: Invalid argument"), so namespaces = [] as well';

/** Findings about a file whose records cannot exist (the filesystem or the daemon's namespace refuses them). */
function unrecordable(facts: FileFacts, host: DoctorHost): Finding[] {
  const remembered = facts.roles.some((r) => r === 'top' || r === 'remembered-file' || r === 'path');
  if (!remembered) return [];
  const base = { path: facts.path, realPath: facts.realPath, model: undefined, verdict: 'unrecordable' as const, counted: 0, users: facts.holders };
  const out: Finding[] = [];
  if (facts.records.kind === 'unsupported')
    out.push({
      ...base,
      cause: 'filesystem',
      summary: `its filesystem refuses trusted.* extended attributes (${facts.records.errno}): libvirt remembers nothing here`,
      consequence: 'starts succeed, but every stop gives the file root:root (DAC) and the file_contexts default (SELinux), never the owner and label it had',
      avoid: {
        setting: "<seclabel model='dac' relabel='no'/> on the disk where QEMU can already open the file (virt-seclabel annotate), or qemu.conf dynamic_ownership = 0",
        cost: 'relabel=\'no\' needs the file accessible to QEMU as it is; dynamic_ownership = 0 stops all chowning, so every image must already be accessible to the qemu user',
      },
      noAction: 'nothing to undo: there are no records',
    });
  // A daemon whose own qemu.conf says remember_owner = 0 never writes records: nothing fails (the scan notes the cost).
  if (!host.daemonXattrs.ok && host.daemonRemembers !== false)
    out.push({
      ...base,
      cause: 'namespace',
      summary: `the daemon cannot write trusted.* attributes (${host.daemonXattrs.why}); libvirt 9.0 fails every start on the first file it remembers, the domain's master key, before it reaches this one`,
      libvirtWillSay: NAMESPACE_SAYS,
      consequence: 'every start of a domain using this file fails (and of every other domain on this daemon)',
      avoid: { setting: NAMESPACE_SETTING, cost: `${REMEMBER_COST}; namespaces = [] also gives up QEMU's private /dev (it sees the daemon's)` },
      noAction: 'a qemu.conf setting, not a file change',
    });
  return out;
}

function recordFinding(model: Model, raw: RawRecord, facts: FileFacts, host: DoctorHost): Finding | undefined {
  const rec = decodeRecord(model, raw);
  const n = recordNames(model);
  if (noRecord(rec)) return undefined;
  const record = recordView(rec, host.bootStamp);
  const counted = facts.holders.filter((h) => h.counts[model]).length;
  const users = facts.holders;
  const original = originalOf(rec, host);
  const base = { path: facts.path, realPath: facts.realPath, model, record, counted, users, ...(original ? { original } : {}) };
  const errs = (['ref', 'label', 'stamp'] as const).filter((k) => rec[k].kind === 'error');
  if (errs.length > 0)
    return {
      ...base,
      verdict: 'unknown',
      cause: 'unreadable',
      summary: `cannot read ${errs.map((k) => `${n[k]} (${(rec[k] as { errno: string }).errno})`).join(', ')}`,
      noAction: 'its records cannot be read',
    };
  const originalText = original?.owner ? `the owner +${original.owner.uid}:+${original.owner.gid}` : original?.label ? `the label ${original.label}` : 'the original';

  /** The plan for a stale record: remove the records (libvirt's order) and give back the original when it is safe. */
  const plan = (): Pick<Finding, 'action' | 'noAction' | 'consequence'> & { note?: string } => {
    if (users.length > 0) return { noAction: `running domains use the file: ${usersText(users)}` };
    if (!facts.realPath || !facts.inode) return { noAction: facts.inodeWhy ?? 'the file cannot be read' };
    const from = restoreFrom(model, facts, host);
    const restoreValue: { owner: Owner } | { label: string } | undefined = original?.owner ? { owner: original.owner } : original?.label ? { label: original.label } : undefined;
    const current = model === 'dac' ? facts.inode : facts.selinuxLabel;
    const already =
      restoreValue !== undefined &&
      ('owner' in restoreValue ? sameOwner(restoreValue.owner, facts.inode) : typeof current === 'string' && current === restoreValue.label);
    const restore = restoreValue && from.ok && !already ? restoreValue : undefined;
    const note = !restoreValue
      ? `the records are removed; ${original?.problem ? `the remembered value is unusable (${original.problem}), so` : 'nothing was remembered, so'} the ${model === 'dac' ? 'owner' : 'label'} is left as it is`
      : already
        ? `the records are removed; the file already has ${originalText}`
        : !from.ok
          ? `the records are removed; ${originalText} is not given back: ${from.why}${giveBackHint(restoreValue, facts.path)}`
          : undefined;
    return {
      action: {
        kind: 'restore-record',
        model,
        realPath: facts.realPath,
        dev: facts.inode.dev,
        ino: facts.inode.ino,
        expect: expectOf(model, raw),
        restore,
        from: from.ok ? from.from : undefined,
        ...(restoreValue && !already && !from.ok ? { keeps: `${originalText} is not given back: ${from.why}` } : {}),
      },
      ...(note ? { note } : {}),
    };
  };
  const stale = (cause: Cause, summary: string, says: string | undefined, consequence: string): Finding => {
    const p = plan();
    return {
      ...base,
      verdict: 'stale',
      cause,
      summary: p.note ? `${summary}; --apply: ${p.note}` : summary,
      ...(says ? { libvirtWillSay: says } : {}),
      consequence,
      ...(p.action ? { action: p.action } : {}),
      ...(p.noAction ? { noAction: p.noAction } : {}),
    };
  };

  if (rec.ref.kind === 'absent')
    return stale(
      'fragment',
      `${n.ref} is missing while ${[rec.label.kind === 'value' ? n.label : '', rec.stamp.kind === 'value' ? n.stamp : ''].filter(Boolean).join(' and ')} remain (a write failed half way)`,
      undefined,
      'libvirt ignores them: the next start overwrites them with the current owner, a stop gives root:root / the default label',
    );
  const consequenceLost = (current: string) =>
    users.length === 0
      ? `the next start drops the record and remembers the file's current ${current} as the original: ${originalText} is lost for good; a stop would give the default (${model === 'dac' ? 'root:root' : 'the file_contexts label'})`
      : `the stop of ${usersText(users)} drops the record and gives the default (${model === 'dac' ? 'root:root' : 'the file_contexts label'}), not ${originalText}`;
  const currentWord = model === 'dac' ? `owner${facts.inode ? ` ${own(facts.inode)}` : ''}` : `label${facts.selinuxLabel ? ` ${facts.selinuxLabel}` : ''}`;
  const warning = `Invalid XATTR timestamp detected on ${facts.path} secdriver=${model}`;
  if (rec.stamp.kind === 'absent') return stale('no-stamp', `${n.ref} has no ${n.stamp}: libvirt takes it for a record of another boot`, `${warning} (a warning in the daemon's log)`, consequenceLost(currentWord));
  if (!host.bootStamp.ok) return { ...base, verdict: 'unknown', cause: 'unreadable', summary: `this boot's stamp cannot be computed: ${host.bootStamp.error}`, noAction: 'cannot tell which boot the record is from' };
  if (record.thisBoot === false)
    return stale(
      'other-boot',
      `the boot stamp ${record.stamp} is not this boot's (${host.bootStamp.value.value}): the record survived a reboot (or was copied)`,
      `${warning} (a warning in the daemon's log)`,
      consequenceLost(currentWord),
    );
  if (!rec.count!.ok)
    return stale('malformed-count', `the count ${record.count} is not a number libvirt reads (${rec.count!.error})`, `internal error: malformed refcount ${safeText((rec.ref as { value: { text: string } }).value.text)} on ${facts.path}`, 'every start and stop of a domain using the file fails on it');
  const count = rec.count!.value;
  if (rec.label.kind === 'absent')
    return stale('missing-label', `${n.ref} = ${count} with no ${n.label}: the original is unknown`, `Unable to get XATTR ${n.label} on ${facts.path}: No data available`, 'the stop that brings the count to 0 fails on it and leaves the timestamp behind');
  if (count === 0)
    return stale('zero-count', 'the count is 0, which libvirt never writes', undefined, `the next start counts 1 and remembers the file's current ${currentWord} as the original: ${originalText} is lost`);
  if (count === counted) return { ...base, verdict: 'consistent', cause: 'counts-match', summary: `${count} running domain${count === 1 ? '' : 's'} hold${count === 1 ? 's' : ''} it: ${usersText(facts.holders.filter((h) => h.counts[model]))}; the last stop gives back ${originalText}` };
  if (count > counted) {
    const next = overCountStart(model, facts, host, count, originalText);
    return stale(
      'over-count',
      `the count is ${count} but ${counted === 0 ? 'no running domain holds it' : `only ${counted} running domain${counted === 1 ? '' : 's'} hold${counted === 1 ? 's' : ''} it`} (a domain stopped without libvirt: QEMU and the daemon killed, or the daemon's status lost)`,
      next.says,
      next.consequence,
    );
  }
  return {
    ...base,
    verdict: 'stale',
    cause: 'under-count',
    summary: `the count is ${count} but ${counted} running domains hold it`,
    consequence: `the stop of the ${count === 1 ? 'first' : `${count}th`} of them gives back ${originalText} while the others still run: they lose access`,
    noAction: `running domains use the file: ${usersText(users)}`,
  };
}

/** Every finding on one file: the records of each model, what cannot be recorded, what was left chowned. */
export function diagnoseFile(facts: FileFacts, host: DoctorHost, opts: DoctorOptions = {}): Finding[] {
  const out: Finding[] = [];
  if (facts.records.kind === 'error') {
    out.push({ path: facts.path, realPath: facts.realPath, model: undefined, verdict: 'unknown', cause: 'unreadable', summary: facts.records.why, counted: 0, users: facts.holders, noAction: 'its records cannot be read' });
    return out;
  }
  out.push(...unrecordable(facts, host));
  for (const model of MODELS) {
    const f = facts.records.kind === 'read' ? recordFinding(model, facts.records.raw[model], facts, host) : undefined;
    if (f) out.push(f);
    else {
      const l = leftChowned(model, facts, host, opts);
      if (l) out.push(l);
    }
  }
  return selinuxFirst(out);
}

/**
 * libvirt's security stack labels with SELinux before DAC (the SELinux driver is the primary, the DAC
 * driver a secondary; their transactions commit in that order): when a stale SELinux record fails the next
 * start, the DAC record's own consequence only comes after that record is gone. Seen in the enforcing
 * SELinux guest (test/selinux-kernel/files-doctor-enforcing.test.ts): with both records stale and the file
 * owned by the qemu user, the restart of the crashed domain failed with the SELinux "already in use",
 * where the DAC record alone would have let it start.
 */
function selinuxFirst(out: Finding[]): Finding[] {
  const sel = out.find((f) => f.model === 'selinux' && f.verdict === 'stale' && f.cause === 'over-count' && f.libvirtWillSay !== undefined);
  if (!sel) return out;
  return out.map((f) => {
    if (f.model !== 'dac' || f.verdict !== 'stale' || f.consequence === undefined) return f;
    const { libvirtWillSay: dacSays, ...rest } = f;
    const then = dacSays ? `libvirt then says "${dacSays}": ${f.consequence}` : f.consequence;
    return { ...rest, consequence: `the next start fails on the SELinux record first (libvirt labels with SELinux before DAC: "${sel.libvirtWillSay}"); once that record is gone, ${then}` };
  });
}

/** Verdicts that need a person's attention (everything but consistent). */
export const isProblem = (f: Finding) => f.verdict !== 'consistent';

export { MODELS };
export type { Holder, FileRole };
