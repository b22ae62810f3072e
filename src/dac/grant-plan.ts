/**
 * `grant`'s plan: for the files QEMU opens for one disk, the smallest set of ACL edits after which the
 * DAC engine proves access. Pure over a HostView plus an ACL-support probe.
 *
 * The engine itself finds each blocker: the file is checked against the view with the edits planned so
 * far laid over it; the first inode that denies gets the edit for the bits it was asked for (acl-grant.ts);
 * repeat until the engine says yes or names something an ACL cannot fix. So the plan is exactly the
 * blockers on the kernel's own walk (the directories it searches, the file it opens, in the order the
 * kernel meets them), and "access provable" is the engine's proof on the edited view, not a promise.
 * Paths in the plan are physical (symlinks resolved, as the walk records them).
 */
import { encodeAcl, type Acl } from './acl.js';
import { planAclEdit, type AclEdit, type CurrentAcl } from './acl-grant.js';
import { checkDacAccess, DacHostFacts, type DacWant } from './check.js';
import type { QemuIdentity } from './identity.js';
import { MAY_EXEC, MAY_READ, MAY_WRITE, type AccessMask } from './permission.js';
import { decodeAcl } from './acl.js';
import type { AccountNames } from '../host/accounts.js';
import { delegatesPermission, usesGenericPermission } from '../host/mounts.js';
import { ok, type HostView, type Inode } from '../host/view.js';
import { walkPath, type Walk, type WalkedInode } from '../host/walk.js';

/** The view with lstat, readlink and the ACL read at most once per path. */
function onceEach(view: HostView): HostView {
  const memo = <T>(f: (p: string) => T) => {
    const seen = new Map<string, T>();
    return (p: string): T => {
      if (!seen.has(p)) seen.set(p, f(p));
      return seen.get(p)!;
    };
  };
  return { ...view, lstat: memo((p) => view.lstat(p)), readlink: memo((p) => view.readlink(p)), aclAccess: memo((p) => view.aclAccess(p)) };
}

/**
 * A followed link planted by someone other than root and the owner of the inode to be edited: whoever
 * owns a link chooses where it points, so a grant through it would let them pick the inode (/etc/shadow).
 */
function plantedLink(walk: Walk, owner: number): WalkedInode | undefined {
  for (const s of walk.steps) if (s.kind === 'follow' && s.link.inode.uid !== 0 && s.link.inode.uid !== owner) return s.link;
  return undefined;
}

/** Does the filesystem holding this inode store POSIX ACLs? Asked of the real filesystem, never guessed. */
export type AclSupport = { readonly kind: 'yes' } | { readonly kind: 'no'; readonly why: string } | { readonly kind: 'unknown'; readonly why: string };
export type AclSupportProbe = (path: string) => AclSupport;

/** One inode's planned edit. */
export interface InodeGrant extends AclEdit {
  readonly path: string;
  /** The inode as planned: the applier refuses when it is no longer this (type, mode, owner, group). */
  readonly inode: Inode;
  /** The ACL before (null: none); the applier refuses when it changed. */
  readonly before: Acl | null;
  /** The bits QEMU needs here: search on directories, read or read+write on files. */
  readonly need: AccessMask;
}

export type FileGrant =
  | { readonly path: string; readonly access: DacWant; readonly outcome: 'accessible'; readonly reason: string }
  | { readonly path: string; readonly access: DacWant; readonly outcome: 'grant'; readonly reason: string; readonly changes: readonly string[]; readonly proof: string }
  | { readonly path: string; readonly access: DacWant; readonly outcome: 'refused'; readonly reason: string };

/** Edits accumulated over several files (a directory shared by two disks is edited once, for the union of needs). */
export class GrantPlanner {
  private readonly needs = new Map<string, { inode: Inode; current: CurrentAcl; need: AccessMask }>();
  private readonly edits = new Map<string, InodeGrant>();
  private readonly facts: DacHostFacts;

  private readonly view: HostView;

  /**
   * `view` is read once per path and remembered: every walk of the plan (the engine's, the link check's)
   * sees the same host, so a tree swapped between two reads cannot make them disagree.
   */
  constructor(
    view: HostView,
    private readonly identity: QemuIdentity,
    private readonly probe: AclSupportProbe,
    private readonly names?: AccountNames,
  ) {
    this.view = onceEach(view);
    this.facts = new DacHostFacts(this.view);
  }

  /** Every planned edit, in the order first needed. */
  changes(): InodeGrant[] {
    return [...this.edits.values()];
  }

  /** The view with every planned edit applied, as the kernel would show it. */
  edited(): HostView {
    const edits = this.edits;
    const inner = this.view;
    return {
      ...inner,
      lstat(path) {
        const e = edits.get(path);
        const r = inner.lstat(path);
        return e && r.kind === 'ok' ? ok({ ...r.value, mode: e.mode }) : r;
      },
      aclAccess(path) {
        const e = edits.get(path);
        return e ? ok(encodeAcl(e.after)) : inner.aclAccess(path);
      },
    };
  }

  /** A point to roll back to: a disk that cannot be granted as a whole keeps none of its edits. */
  mark(): { needs: Map<string, { inode: Inode; current: CurrentAcl; need: AccessMask }>; edits: Map<string, InodeGrant> } {
    return { needs: new Map(this.needs), edits: new Map(this.edits) };
  }

  rollback(to: ReturnType<GrantPlanner['mark']>): void {
    this.needs.clear();
    this.edits.clear();
    for (const [k, v] of to.needs) this.needs.set(k, v);
    for (const [k, v] of to.edits) this.edits.set(k, v);
  }

  /** Plans what `path` needs for `want`; the edits stay planned only when the whole file can be granted. */
  planFile(path: string, want: DacWant): FileGrant {
    const saved = this.mark();
    const touched: string[] = [];
    const restore = (reason: string): FileGrant => {
      this.rollback(saved);
      return { path, access: want, outcome: 'refused', reason };
    };
    // Each round fixes one distinct inode of the walk; a walk has at most PATH_MAX/2 components.
    for (let round = 0; round < 2048; round++) {
      const v = checkDacAccess(this.edited(), this.identity, path, want, { facts: this.facts, ...(this.names ? { names: this.names } : {}) });
      if (v.accessible === true) {
        if (touched.length === 0) return { path, access: want, outcome: 'accessible', reason: v.because };
        return { path, access: want, outcome: 'grant', reason: `${touched.length} ACL change(s)`, changes: touched, proof: v.because };
      }
      if (v.accessible === null) return restore(`the DAC engine cannot judge it: ${v.reason}`);
      const b = v.blocking;
      const bits = b.needed === 'search' ? MAY_EXEC : b.needed === 'read' ? MAY_READ : b.needed === 'read+write' ? MAY_READ | MAY_WRITE : b.needed === 'create' ? MAY_WRITE | MAY_EXEC : 0;
      if (bits === 0 || !b.inode) return restore(`no ACL can fix it: ${v.reason}`);
      const planted = plantedLink(walkPath(this.edited(), path), b.inode.uid);
      if (planted) return restore(`${b.path} is reached through the symbolic link ${planted.path}, owned by uid ${planted.inode.uid}, who owns neither it nor the system: a grant there would hand QEMU a file its owner never offered (name the link's target in the domain instead)`);
      const why = this.addNeed(b.path, bits);
      if (why !== undefined) return restore(`${v.reason}; no ACL can fix it: ${b.path}: ${why}`);
      if (!touched.includes(b.path)) touched.push(b.path);
    }
    return restore('too many blocking inodes');
  }

  /** Records that `path` needs `bits` and (re)computes its edit from the ORIGINAL inode and ACL. */
  private addNeed(path: string, bits: AccessMask): string | undefined {
    const known = this.needs.get(path);
    if (known && (known.need & bits) === bits) return 'the planned edit did not grant it (internal error)';
    let entry = known;
    if (!entry) {
      const refusal = this.refusal(path);
      if (refusal !== undefined) return refusal;
      const current = this.currentAcl(path);
      if (typeof current === 'string') return current;
      // The edited view may show a mode the plan set; the original inode is what the applier will find.
      const original = this.view.lstat(path);
      if (original.kind !== 'ok') return 'it cannot be looked up';
      entry = { inode: original.value, current, need: 0 };
    }
    const need = entry.need | bits;
    const edit = planAclEdit(entry.inode, entry.current, this.identity, need);
    if (!edit.ok) return edit.why;
    this.needs.set(path, { ...entry, need });
    this.edits.set(path, { path, inode: entry.inode, before: entry.current.kind === 'acl' ? entry.current.acl : null, need, ...edit.edit });
    return undefined;
  }

  /** Where ACLs do not apply: not the kernel's own permission check, a read-only mount, no ACL support. */
  private refusal(path: string): string | undefined {
    const table = this.facts.mounts();
    if (!table.ok) return table.why;
    const m = this.facts.mountOf(path);
    if (!m) return 'no mount holds it';
    if (!usesGenericPermission(m.fsType)) {
      // An ACL set there (if the server even takes one) is not what decides: the server or daemon does.
      const decider = delegatesPermission(m.fsType);
      return decider
        ? `it is on ${m.fsType} (${m.mountPoint} from ${m.source}), where ${decider} and a local ACL edit proves nothing; change access on the server or in the daemon's options`
        : `it is on ${m.fsType} (${m.mountPoint}), where access is not decided by the local kernel's ACL check`;
    }
    if (m.readOnly || m.superReadOnly) return `it is on the read-only mount ${m.mountPoint}`;
    const s = this.probe(path);
    if (s.kind === 'no') return `its filesystem (${m.fsType} on ${m.mountPoint}) does not support POSIX ACLs: ${s.why}`;
    if (s.kind === 'unknown') return `cannot tell whether its filesystem supports POSIX ACLs: ${s.why}`;
    return undefined;
  }

  private currentAcl(path: string): CurrentAcl | string {
    const raw = this.view.aclAccess(path);
    if (raw.kind === 'unknown') return `cannot read its ACL: ${raw.why}`;
    if (raw.kind === 'missing' || raw.value === null) return { kind: 'none' };
    const acl = decodeAcl(raw.value);
    if (!acl.ok) return `its ACL is malformed: ${acl.error}`;
    return acl.value === null ? { kind: 'none' } : { kind: 'acl', acl: acl.value };
  }
}
