/**
 * A view for one identity's path walk where root (the view's reader) is kept out but that identity may
 * not be: on a filesystem that delegates permission (host/mounts.ts delegatesPermission) the server or
 * daemon may refuse root a lookup it grants QEMU's user (an NFS root_squash export with a root:kvm 0750
 * directory; a FUSE mount without allow_other mounted by the qemu user; a daemon refusing uid 0).
 *
 * Only there, and only when root's own lstat or readlink is refused (EACCES/EPERM), the same question is
 * asked as the identity (HostView.lstatAs/readlinkAs: the kernel, through the probe, every component
 * looked up as that identity, none followed). Everything else is the view's own answer, so on local
 * filesystems and wherever root can look, nothing changes. The walk then goes on over what the identity
 * sees, and every path so looked up is recorded with the directory root could not search, so a verdict
 * can say whose lookup it rests on.
 */
import type { MountEntry } from './mounts.js';
import { delegatesPermission } from './mounts.js';
import type { HostView, Identity, Lookup } from './view.js';

export interface RootRefused {
  /** The first path root could not look up. */
  readonly path: string;
  /** The directory root may not search (path's parent), or the path itself when it is the mount's root. */
  readonly dir: string;
  readonly mount: MountEntry;
}

export interface WalkAsView {
  readonly view: HostView;
  /** The places root was refused and the identity was asked instead, in the order met. */
  refused(): readonly RootRefused[];
}

const ROOT_REFUSED = /\((EACCES|EPERM)\)/;
const parentOf = (p: string) => (p === '/' ? '/' : p.slice(0, p.lastIndexOf('/')) || '/');

export function walkAsView(view: HostView, who: Identity, mountOf: (path: string) => MountEntry | undefined): WalkAsView {
  const lstatAs = view.lstatAs?.bind(view);
  const readlinkAs = view.readlinkAs?.bind(view);
  const refused: RootRefused[] = [];
  if (!lstatAs || !readlinkAs) return { view, refused: () => refused };
  const note = (path: string, mount: MountEntry) => {
    if (refused.some((r) => path === r.path || path.startsWith(r.dir === '/' ? '/' : `${r.dir}/`))) return;
    refused.push({ path, dir: path === mount.mountPoint ? path : parentOf(path), mount });
  };
  /** root's answer, or the identity's where root was refused on a delegating filesystem. */
  const fallback = <T>(path: string, mine: Lookup<T>, theirs: () => Lookup<T>): Lookup<T> => {
    if (mine.kind !== 'unknown' || !ROOT_REFUSED.test(mine.why)) return mine;
    const mount = mountOf(path);
    if (!mount || delegatesPermission(mount.fsType) === undefined) return mine;
    const a = theirs();
    if (a.kind === 'unknown') return { kind: 'unknown', why: `${mine.why}; as uid ${who.uid}: ${a.why}` };
    note(path, mount);
    return a;
  };
  return {
    refused: () => refused,
    view: {
      lstat: (p) => fallback(p, view.lstat(p), () => lstatAs(who, p)),
      readlink: (p) => fallback(p, view.readlink(p), () => readlinkAs(who, p)),
      aclAccess: (p) => view.aclAccess(p),
      selinuxLabel: (p) => view.selinuxLabel(p),
      readBytes: (p, o, l) => view.readBytes(p, o, l),
      readText: (p) => view.readText(p),
      readBinary: (p) => view.readBinary(p),
      listDir: (p) => view.listDir(p),
      ...(view.kernelAccess ? { kernelAccess: (q) => view.kernelAccess!(q) } : {}),
      ...(view.readBytesAs ? { readBytesAs: (w, p, o, l) => view.readBytesAs!(w, p, o, l) } : {}),
      lstatAs,
      readlinkAs,
    },
  };
}
