/**
 * Can the QEMU process open this path, as the kernel decides it? Replays the identity-independent walk
 * (host/walk.ts) for one identity, then the checks of the final open (may_open, inode_permission,
 * do_dentry_open). "Yes" only on proof: anything the view cannot tell that the kernel would look at
 * makes the verdict unknown.
 *
 * Only filesystems whose permission check is the kernel's generic one count (see usesGenericPermission);
 * NFS, CIFS, FUSE, overlayfs and the like answer unknown.
 * Not visible through a HostView, hence not modelled: the immutable/append-only inode flags (EPERM on
 * write), LSMs (SELinux is its own engine), idmapped mounts and user namespaces.
 */
import { decodeAcl } from './acl.js';
import { modeText } from './mode-text.js';
import { inodePermission, maskText, MAY_EXEC, MAY_READ, MAY_WRITE, type AclState, type PermissionResult } from './permission.js';
import type { QemuIdentity } from './identity.js';
import { numericNames, type AccountNames } from '../host/accounts.js';
import { accessAsksServer, delegatesPermission, isFuse, usesGenericPermission, type MountEntry } from '../host/mounts.js';
import { errnoWords } from '../host/errno.js';
import { DacHostFacts } from './host-facts.js';

export { DacHostFacts, PROTECTED_SYMLINKS_PATH } from './host-facts.js';
import type { HostView, Inode, KernelAnswer } from '../host/view.js';
import { walkPath, type WalkedInode, type WalkErrno, type WalkStep } from '../host/walk.js';
import { walkAsView, type RootRefused } from '../host/walk-as.js';
import { shellQuote } from '../shell-quote.js';

/** 'create': PATH is a directory (asked as `DIR/.`) in which QEMU creates a new name: write and search on it. */
export type DacWant = 'read' | 'readwrite' | 'create';
export type DacErrno = 'EACCES' | WalkErrno | 'EISDIR' | 'EROFS';
/** What the blocking inode would have needed to let the open through. */
export type DacNeed =
  | 'search'
  | 'read'
  | 'read+write'
  | 'create'
  | 'follow'
  | 'exist'
  | 'directory'
  | 'symlink-limit'
  | 'shorter-name'
  | 'writable-mount'
  | 'device-mount'
  | 'not-directory';

export interface DacBlocking {
  readonly path: string;
  /** null when the path does not exist. */
  readonly inode: Inode | null;
  readonly needed: DacNeed;
}

/** Directories QEMU cannot search: the VM fails whether or not libvirt chowns the file. */
export interface DirBlocked {
  readonly path: string;
  readonly paths: readonly string[];
  readonly suggestion: string;
  /** Whether the file itself grants the access once the directories are searchable (null: cannot tell). */
  readonly fileAccessible: boolean | null;
}

/**
 * Set when root (this view's reader) was refused a lookup on the way and the walk went on as QEMU's
 * identity (host/walk-as.ts): the verdict rests on what the kernel showed that identity. Whoever acts
 * as root on the path (libvirt's own checks, its chown) meets the refusal.
 */
interface AsIdentity {
  readonly rootRefused?: RootRefused;
}

export type DacVerdict =
  | ({ readonly accessible: true; readonly because: string; readonly file: WalkedInode } & AsIdentity)
  | ({
      readonly accessible: false;
      readonly errno: DacErrno;
      readonly blocking: DacBlocking;
      readonly reason: string;
      readonly dirBlocked?: DirBlocked;
    } & AsIdentity)
  | ({ readonly accessible: null; readonly reason: string } & AsIdentity);

export interface DacOptions {
  /** Account names for messages; numeric ids without it. */
  readonly names?: AccountNames;
  /**
   * Host-wide facts (mount table, fs.protected_symlinks) read once and shared by many checks against
   * the same host state; each check reads its own when absent.
   */
  readonly facts?: DacHostFacts;
  /**
   * Judge the final inode as if chowned to this uid:gid (what libvirt's DAC driver does at start), its mode
   * and ACL unchanged; the walk to it is judged as it is. Unknown where the permission check is not the
   * local kernel's generic one (the kernel could only be asked about the file as it is now).
   */
  readonly assumeOwner?: { readonly uid: number; readonly gid: number };
}


type Outcome =
  | { readonly kind: 'pass' }
  | { readonly kind: 'deny'; readonly errno: DacErrno; readonly blocking: DacBlocking; readonly reason: string; readonly delegated?: true }
  | { readonly kind: 'unknown'; readonly reason: string };

const PASS: Outcome = { kind: 'pass' };

export function checkDacAccess(
  view: HostView,
  identity: QemuIdentity,
  path: string,
  want: DacWant,
  options: DacOptions = {},
): DacVerdict {
  const facts = options.facts ?? new DacHostFacts(view);
  const names = options.names ?? numericNames;
  // Where root may not look a path up on a delegating filesystem, the walk goes on as QEMU's identity.
  const as = walkAsView(view, identity, (p) => facts.mountOf(p));
  const v = decide(as.view, identity, path, want, names, facts, options.assumeOwner);
  const refused = as.refused()[0];
  if (refused === undefined) return v;
  const who = identity.userName ?? `uid ${identity.uid}`;
  const lookedUp = `looked up as ${who}: root may not ${refused.dir === refused.mount.mountPoint && refused.path === refused.dir ? 'look up' : 'search'} ${refused.dir} on this mount (${refused.mount.fsType} ${refused.mount.mountPoint})`;
  return v.accessible === true ? { ...v, because: `${v.because}; ${lookedUp}`, rootRefused: refused } : { ...v, reason: `${v.reason}; ${lookedUp}`, rootRefused: refused };
}

function decide(view: HostView, identity: QemuIdentity, path: string, want: DacWant, names: AccountNames, facts: DacHostFacts, assumeOwner: DacOptions['assumeOwner']): DacVerdict {
  const ctx = new Context(view, identity, names, facts);
  const walk = walkPath(view, path);
  const outcomes: Outcome[] = [];
  const blockedDirs: string[] = [];
  for (const [i, step] of walk.steps.entries()) {
    if (step.kind === 'search') {
      const o = ctx.permission(step.dir, MAY_EXEC, 'search', lookedUp(walk, i));
      // A refusal on a delegating filesystem is not one an ACL on the directory fixes.
      if (o.kind === 'deny' && !o.delegated && !blockedDirs.includes(step.dir.path)) blockedDirs.push(step.dir.path);
      outcomes.push(o);
    } else {
      outcomes.push(ctx.follow(step.link, step.parent, step.trailing));
    }
  }
  const end = walk.end;
  let final: Outcome;
  if (end.kind === 'found') {
    const o = assumeOwner;
    final = o === undefined ? ctx.open(end.file, want) : ctx.open({ ...end.file, inode: { ...end.file.inode, uid: o.uid, gid: o.gid } }, want, true);
  }
  else if (end.kind === 'unknown') final = { kind: 'unknown', reason: `${end.at}: ${end.why}` };
  else final = ctx.walkError(end.errno, end.at);
  outcomes.push(final);

  const first = outcomes.find((o) => o.kind !== 'pass');
  if (first === undefined) {
    if (end.kind !== 'found') throw new Error('unreachable: a walk error always yields a failing outcome');
    return { accessible: true, file: end.file, because: ctx.because(end.file, want) };
  }
  if (first.kind === 'unknown') return { accessible: null, reason: first.reason };
  const dirBlocked =
    first.blocking.needed === 'search' && blockedDirs.length > 0
      ? ctx.dirBlocked(blockedDirs, final)
      : undefined;
  return {
    accessible: false,
    errno: first.errno,
    blocking: first.blocking,
    reason: first.reason,
    ...(dirBlocked ? { dirBlocked } : {}),
  };
}

/**
 * The name the kernel looks up in the directory of search step `i` (the next inode the walk reaches),
 * as a physical path whose last component is that lookup; `dir/.` when the walk stays in or leaves
 * upward from the directory (`.`, `..`), so the kernel is still asked to search it.
 */
function lookedUp(walk: ReturnType<typeof walkPath>, i: number): string {
  const dir = (walk.steps[i] as Extract<WalkStep, { kind: 'search' }>).dir.path;
  const next = walk.steps[i + 1];
  const child = next === undefined ? (walk.end.kind === 'found' ? walk.end.file.path : walk.end.at) : next.kind === 'follow' ? next.link.path : next.dir.path;
  const parent = child.slice(0, child.lastIndexOf('/')) || '/';
  return parent === dir && child !== dir ? child : `${dir === '/' ? '' : dir}/.`;
}

/** Lazily read host facts (ACLs, mounts, sysctl) shared by the checks of one verdict. */
class Context {
  private readonly grants: string[] = [];

  constructor(
    private readonly view: HostView,
    private readonly id: QemuIdentity,
    private readonly names: AccountNames,
    private readonly facts: DacHostFacts,
  ) {}

  private who(): string {
    return this.id.userName ?? `uid ${this.id.uid}`;
  }

  private describe(w: WalkedInode, hasAcl = false): string {
    const owner = this.names.userName(w.inode.uid) ?? String(w.inode.uid);
    const group = this.names.groupName(w.inode.gid) ?? String(w.inode.gid);
    return `${w.path} (${modeText(w.inode, hasAcl)} ${owner}:${group})`;
  }

  private readonly acls = new Map<string, AclState>();

  private aclState(path: string): AclState {
    let state = this.acls.get(path);
    if (!state) this.acls.set(path, (state = this.readAclState(path)));
    return state;
  }

  private readAclState(path: string): AclState {
    const raw = this.view.aclAccess(path);
    if (raw.kind === 'unknown') return { kind: 'unknown', why: `cannot read the ACL of ${path}: ${raw.why}` };
    if (raw.kind === 'missing' || raw.value === null) return { kind: 'none' };
    const acl = decodeAcl(raw.value);
    if (!acl.ok) return { kind: 'unknown', why: `malformed ACL on ${path}: ${acl.error}` };
    return acl.value === null ? { kind: 'none' } : { kind: 'acl', acl: acl.value };
  }

  private check(w: WalkedInode, mask: number): { result: PermissionResult; hasAcl: boolean } {
    let hasAcl = false;
    const result = inodePermission(w.inode, this.id, mask, () => {
      const s = this.aclState(w.path);
      hasAcl = s.kind === 'acl';
      return s;
    });
    return { result, hasAcl };
  }

  /** `child`: for a search, the physical path whose last component is looked up in `w`. */
  permission(w: WalkedInode, mask: number, needed: DacNeed, child?: string, assumed = false): Outcome {
    // Network and FUSE filesystems decide on the server (root squash, server ACLs, id mapping):
    // the local algorithm proves nothing there; only the kernel asked as QEMU can tell.
    const m = this.mount(w.path);
    if (!m.ok) return { kind: 'unknown', reason: `${w.path}: ${m.why}` };
    if (!usesGenericPermission(m.entry.fsType)) {
      if (needed === 'create') return { kind: 'unknown', reason: `${w.path} is on ${m.entry.fsType} (${m.entry.mountPoint}), whose permission checks are not the local kernel's: creating a file there is not judged` };
      // The kernel can only be asked about the file as it is, not as a chown would leave it (which may fail there too).
      if (assumed) return { kind: 'unknown', reason: `${w.path} is on ${m.entry.fsType} (${m.entry.mountPoint}): what a chown would leave there is not judged (the server decides, and may refuse the chown)` };
      const decider = delegatesPermission(m.entry.fsType);
      if (decider !== undefined && this.view.kernelAccess) return this.askKernel(w, m.entry, decider, needed, child);
      return {
        kind: 'unknown',
        reason: `${w.path} is on ${m.entry.fsType} (${m.entry.mountPoint}), whose permission checks are not the local kernel's${decider ? ` (${decider}) and this view cannot ask the kernel` : ''}`,
      };
    }
    const { result, hasAcl } = this.check(w, mask);
    if (result.granted === null) return { kind: 'unknown', reason: result.why };
    if (result.granted) {
      if (needed !== 'search') this.grants.push(`${maskText(mask)} on ${w.path} by ${result.by}`);
      return PASS;
    }
    return {
      kind: 'deny',
      errno: 'EACCES',
      blocking: { path: w.path, inode: w.inode, needed },
      reason: `${this.describe(w, hasAcl)}: ${this.who()} cannot ${needed === 'search' ? 'search' : needed === 'read' ? 'read' : needed === 'create' ? 'create files in it' : 'read and write'} (${result.by})`,
    };
  }

  private asked(): string {
    const name = this.id.userName ?? `uid ${this.id.uid}`;
    return `asked as ${name} (uid ${this.id.uid} gid ${this.id.gid} groups ${this.id.groups.join(',') || 'none'}, no capabilities)`;
  }

  private mountText(m: MountEntry): string {
    return `${m.fsType} ${m.mountPoint} from ${m.source} (${m.options.join(',')}; ${m.superOptions.join(',')})`;
  }

  /** The delegating filesystem's verdict, from the kernel asked as QEMU's identity (view.kernelAccess). */
  private askKernel(w: WalkedInode, m: MountEntry, decider: string, needed: DacNeed, child: string | undefined): Outcome {
    const search = needed === 'search';
    const path = search ? (child ?? `${w.path === '/' ? '' : w.path}/.`) : w.path;
    const op = search ? 'lookup' : needed === 'read' ? 'read' : 'readwrite';
    const a = this.view.kernelAccess!({ uid: this.id.uid, gid: this.id.gid, groups: this.id.groups, path, op });
    const on = `${m.fsType} (${m.mountPoint})`;
    if (a.kind !== 'ok') {
      const why = a.kind === 'unknown' ? a.why : errnoWords(a.errno);
      return { kind: 'unknown', reason: `${w.path} is on ${on}, where ${decider}, and asking the kernel as ${this.who()} failed: ${why}` };
    }
    const answer: KernelAnswer = a.value;
    if (answer.kind === 'allowed') {
      if (search) return PASS;
      if (op === 'readwrite' && answer.write === 'access' && !accessAsksServer(m.fsType)) {
        const daemon = isFuse(m.fsType) && !m.superOptions.includes('default_permissions') ? ' (no default_permissions: the kernel checks no mode bits)' : '';
        return {
          kind: 'unknown',
          reason: `${w.path} is on ${on}${daemon}: the kernel let ${this.who()} read it, but ${decider} write only at an open for write, which is never tried (${this.asked()})`,
        };
      }
      const what = op === 'read' ? 'read' : 'read and write';
      this.grants.push(`the kernel allowed ${what} for uid ${this.id.uid} on ${m.fsType} (${answer.how}): ${this.asked()}`);
      return PASS;
    }
    // The kernel stopped before this step's own lookup or open: another step answers for it.
    if (answer.at !== path) return { kind: 'unknown', reason: `${w.path} is on ${on}: asked as ${this.who()}, the kernel stopped earlier, at ${answer.at}: ${errnoWords(answer.errno)}` };
    const errno: DacErrno | undefined =
      answer.errno === 'EACCES' || answer.errno === 'EPERM' ? 'EACCES' : answer.errno === 'ENOENT' || answer.errno === 'ENOTDIR' || answer.errno === 'ELOOP' || answer.errno === 'EROFS' ? answer.errno : undefined;
    // A name the walk did not find is not found by QEMU either: the search itself passed.
    if (search && answer.errno === 'ENOENT' && this.view.lstat(path).kind === 'missing') return PASS;
    // A name longer than NAME_MAX fails in the filesystem's lookup, after the search was granted.
    if (search && answer.errno === 'ENAMETOOLONG') return PASS;
    const refused = `the kernel refused ${search ? `the lookup of ${path}` : op === 'read' ? 'read' : 'read and write'} (${answer.step}: ${errnoWords(answer.errno)}), ${this.asked()}`;
    const seen = `${this.describe(w)} on ${this.mountText(m)}`;
    if (errno === undefined) return { kind: 'unknown', reason: `${seen}: ${refused}; ${decider}` };
    return {
      kind: 'deny',
      errno,
      blocking: { path: w.path, inode: w.inode, needed },
      reason: `${seen}: ${refused}; ${decider}`,
      delegated: true,
    };
  }

  private mount(path: string): { ok: true; entry: MountEntry } | { ok: false; why: string } {
    const table = this.facts.mounts();
    if (!table.ok) return table;
    const entry = this.facts.mountOf(path);
    return entry ? { ok: true, entry } : { ok: false, why: `no mount holds ${path}` };
  }

  /** pick_link: may_follow_link for trailing links (fs.protected_symlinks), then the nosymfollow mount. */
  follow(link: WalkedInode, parent: WalkedInode, trailing: boolean): Outcome {
    if (
      trailing &&
      link.inode.uid !== this.id.uid &&
      (parent.inode.mode & 0o1002) === 0o1002 &&
      parent.inode.uid !== link.inode.uid
    ) {
      const sysctl = this.facts.protectedSymlinks();
      if (typeof sysctl === 'string') return { kind: 'unknown', reason: `${link.path} is a symlink in a sticky world-writable directory and ${sysctl}` };
      if (sysctl !== 0) {
        return {
          kind: 'deny',
          errno: 'EACCES',
          blocking: { path: link.path, inode: link.inode, needed: 'follow' },
          reason: `${this.describe(link)}: fs.protected_symlinks forbids ${this.who()} to follow a link owned by someone else in sticky world-writable ${parent.path}`,
        };
      }
    }
    const m = this.mount(link.path);
    if (!m.ok) return { kind: 'unknown', reason: `following ${link.path}: ${m.why}` };
    if (m.entry.noSymFollow) {
      return {
        kind: 'deny',
        errno: 'ELOOP',
        blocking: { path: link.path, inode: link.inode, needed: 'follow' },
        reason: `${link.path}: symlinks are not followed on the nosymfollow mount ${m.entry.mountPoint}`,
      };
    }
    return PASS;
  }

  /** do_open / may_open / inode_permission / do_dentry_open on the final inode. */
  /** `assumed`: the inode's owner is the one a chown would give it, not the one it has. */
  open(file: WalkedInode, want: DacWant, assumed = false): Outcome {
    if (want === 'create') return this.createIn(file);
    const write = want === 'readwrite';
    const t = file.inode.type;
    if (t === 'dir' && write) {
      return { kind: 'deny', errno: 'EISDIR', blocking: { path: file.path, inode: file.inode, needed: 'not-directory' }, reason: `${file.path} is a directory` };
    }
    const needsMount = t === 'block' || t === 'char' || (write && (t === 'file' || t === 'dir'));
    const m = needsMount ? this.mount(file.path) : undefined;
    if (m && !m.ok) return { kind: 'unknown', reason: `opening ${file.path}: ${m.why}` };
    const mount = m?.ok ? m.entry : undefined;
    if ((t === 'block' || t === 'char') && mount?.noDev) {
      return {
        kind: 'deny',
        errno: 'EACCES',
        blocking: { path: file.path, inode: file.inode, needed: 'device-mount' },
        reason: `${file.path}: device nodes cannot be opened on the nodev mount ${mount.mountPoint}`,
      };
    }
    const roDeny = (): Outcome => ({
      kind: 'deny',
      errno: 'EROFS',
      blocking: { path: file.path, inode: file.inode, needed: 'writable-mount' },
      reason: `${file.path} is on the read-only mount ${mount!.mountPoint}`,
    });
    if (write && (t === 'file' || t === 'dir') && mount?.superReadOnly) return roDeny();
    const perm = this.permission(file, write ? MAY_READ | MAY_WRITE : MAY_READ, write ? 'read+write' : 'read', undefined, assumed);
    if (perm.kind !== 'pass') return perm;
    if (write && t === 'file' && mount?.readOnly) return roDeny();
    return PASS;
  }

  /** may_create (fs/namei.c): write and search on the directory, on a writable mount. */
  private createIn(dir: WalkedInode): Outcome {
    if (dir.inode.type !== 'dir')
      return { kind: 'deny', errno: 'ENOTDIR', blocking: { path: dir.path, inode: dir.inode, needed: 'directory' }, reason: `${dir.path} is not a directory` };
    const m = this.mount(dir.path);
    if (!m.ok) return { kind: 'unknown', reason: `creating in ${dir.path}: ${m.why}` };
    if (m.entry.superReadOnly || m.entry.readOnly)
      return { kind: 'deny', errno: 'EROFS', blocking: { path: dir.path, inode: dir.inode, needed: 'writable-mount' }, reason: `${dir.path} is on the read-only mount ${m.entry.mountPoint}` };
    return this.permission(dir, MAY_WRITE | MAY_EXEC, 'create');
  }

  walkError(errno: WalkErrno, at: string): Outcome {
    const st = this.view.lstat(at);
    const inode = st.kind === 'ok' ? st.value : null;
    const table: Record<WalkErrno, { needed: DacNeed; reason: string }> = {
      ENOENT: { needed: 'exist', reason: `${at} does not exist` },
      ENOTDIR: { needed: 'directory', reason: `${at} is not a directory but is used as one` },
      ELOOP: { needed: 'symlink-limit', reason: `${at}: too many levels of symbolic links (more than 40)` },
      ENAMETOOLONG: { needed: 'shorter-name', reason: `${at}: file name too long` },
    };
    const t = table[errno];
    return { kind: 'deny', errno, blocking: { path: at, inode, needed: t.needed }, reason: t.reason };
  }

  because(file: WalkedInode, want: DacWant): string {
    const grant = this.grants[this.grants.length - 1] ?? `${want} on ${file.path}`;
    return `${this.who()} can ${want === 'read' ? 'read' : want === 'create' ? 'create files in' : 'read and write'} ${file.path}: ${grant}; every directory on the way is searchable`;
  }

  dirBlocked(paths: readonly string[], final: Outcome): DirBlocked {
    const who = this.id.userName ?? String(this.id.uid);
    return {
      path: paths[0]!,
      paths,
      suggestion: `setfacl -m u:${who}:x ${paths.map(shellQuote).join(' ')}`,
      fileAccessible: final.kind === 'pass' ? true : final.kind === 'deny' ? false : null,
    };
  }
}
