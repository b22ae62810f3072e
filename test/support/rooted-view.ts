/**
 * The live view of a real tree built under `root`, seen as if `root` were `/` (like a chroot): the
 * walk, symlinks with absolute targets, ACLs and SELinux labels are all real kernel/filesystem answers,
 * while the domain XML keeps host-like paths (/srv/iso/…).
 */
import { createLiveView } from '../../src/adapters/live/live-view.js';
import { missing, ok, type HostView } from '../../src/host/view.js';
import { walkPath } from '../../src/host/walk.js';

export interface RootedOptions {
  /** readText answers for these paths (passwd, group) instead of the tree. */
  readonly text?: Readonly<Record<string, string>>;
  /** Real host files read as they are (a policy given with --policy). */
  readonly passthrough?: readonly string[];
}

export function rootedView(root: string, opts: RootedOptions = {}): HostView {
  const fallbackText = opts.text ?? {};
  const passthrough = new Set(opts.passthrough ?? []);
  const live = createLiveView();
  const at = (p: string) => (p === '/' ? root : `${root}${p}`);
  const view: HostView = {
    lstat: (p) => live.lstat(at(p)),
    readlink: (p) => live.readlink(at(p)),
    aclAccess: (p) => live.aclAccess(at(p)),
    selinuxLabel: (p) => live.selinuxLabel(at(p)),
    readBytes(p, offset, length) {
      // Resolve symlinks inside the tree first, so an absolute link target stays inside it.
      const w = walkPath(view, p);
      if (w.end.kind === 'unknown') return { kind: 'unknown', why: w.end.why };
      if (w.end.kind === 'error') return missing(w.end.errno === 'ENOTDIR' ? 'ENOTDIR' : 'ENOENT');
      return live.readBytes(at(w.end.file.path), offset, length);
    },
    readText: (p) => (p in fallbackText ? ok(fallbackText[p]!) : live.readText(at(p))),
    readBinary: (p) => live.readBinary(passthrough.has(p) ? p : at(p)),
    listDir: (p) => live.listDir(at(p)),
  };
  return view;
}
