/**
 * The DAC engine as the decision core sees it: one qemu identity, bound to a host view, answering per
 * file. A directory QEMU cannot search is reported as a finding with the smallest fix, since a chown
 * of the file cannot help (the VM fails with or without it).
 */
import type { AccessEngine, ChainFile, FileVerdict } from '../access/engine.js';
import type { AccountNames } from '../host/accounts.js';
import type { HostView } from '../host/view.js';
import { checkDacAccess, DacHostFacts } from './check.js';
import { libvirtAsRoot } from './libvirt-as-root.js';
import { delegatesPermission } from '../host/mounts.js';

/** Whether root may open the file read-only, as libvirt's header read does first (null: cannot tell). */
function rootReads(view: HostView, path: string): boolean | null {
  const r = view.readBytes(path, 0, 1);
  if (r.kind === 'ok') return true;
  return r.kind === 'unknown' && /\((EACCES|EPERM)\)/.test(r.why) ? false : null;
}
import type { QemuIdentity } from './identity.js';

/**
 * `facts`: one reading of the mount table and sysctls for every file checked with it, consistent and
 * cheaper; the caller shares one per run over one view (every domain of the run), not across changes.
 */
export function createDacEngine(view: HostView, identity: QemuIdentity, names: AccountNames, facts = new DacHostFacts(view)): AccessEngine {
  return {
    check(file: ChainFile): FileVerdict {
      if (file.create) return createVerdict(view, identity, names, facts, file.path);
      const v = checkDacAccess(view, identity, file.path, file.access, { names, facts, ...(file.assumeQemuOwner && { assumeOwner: { uid: identity.uid, gid: identity.gid } }) });
      if (v.accessible === true) {
        // The kernel opens a directory or FIFO read-only too, but QEMU cannot use one as a disk image.
        const t = v.file.inode.type;
        if (t !== 'file' && t !== 'block' && t !== 'char' && !((t === 'socket' || t === 'fifo') && file.endpoint) && !(t === 'dir' && file.directory))
          return { accessible: null, reason: `${v.file.path} is a ${t}, not a file or device QEMU can open as a disk` };
        const because = file.note ? `${v.because}; ${file.note}` : v.because;
        // QEMU's user may open it; libvirtd, as root, checks the disk first and may refuse the start.
        const m = facts.mountOf(v.file.path);
        if (!m || delegatesPermission(m.fsType) === undefined) return { accessible: true, because };
        const lv = libvirtAsRoot(file, { fsType: m.fsType, lookup: !v.rootRefused, read: () => rootReads(view, v.file.path) });
        if (lv.starts === true) return { accessible: true, because: lv.how ? `${because}; ${lv.how}` : because };
        const reason = `${because}; but ${lv.why}`;
        if (lv.starts === null) return { accessible: null, reason };
        return {
          accessible: false,
          reason,
          findings: [{ code: 'libvirt-root-refused', severity: 'warning' as const, path: file.path, message: `${reason}; the VM will fail to start` }],
        };
      }
      if (v.accessible === null) return { accessible: null, reason: v.reason };
      const findings = [];
      if (v.dirBlocked)
        findings.push({
          code: 'dac-dir-search-denied',
          severity: 'warning' as const,
          path: v.dirBlocked.path,
          message: `${v.reason}: the VM fails with or without a chown (libvirt never changes directories); fix: ${v.dirBlocked.suggestion}`,
        });
      if (v.errno === 'ENOENT' || v.errno === 'ENOTDIR')
        findings.push({ code: 'missing-file', severity: 'warning' as const, path: v.blocking.path, message: `${v.reason}; the VM will fail to start` });
      return { accessible: false, reason: v.reason, findings };
    },
  };
}

/**
 * QEMU creates PATH (bind(2) of a listening socket after unlink(2) of an old one, or open(O_CREAT)): may_create
 * on its directory, and for an existing PATH may_delete's sticky rule (fs/namei.c check_sticky: in a sticky
 * directory only the file's owner or the directory's may remove it; QEMU has no CAP_FOWNER).
 */
function createVerdict(view: HostView, identity: QemuIdentity, names: AccountNames, facts: DacHostFacts, path: string): FileVerdict {
  const cut = path.lastIndexOf('/');
  const base = path.slice(cut + 1);
  if (cut < 0 || base === '' || base === '.' || base === '..') return { accessible: null, reason: `${path}: not a file name QEMU can create` };
  const dir = path.slice(0, cut) || '/';
  const v = checkDacAccess(view, identity, `${dir === '/' ? '' : dir}/.`, 'create', { names, facts });
  if (v.accessible === null) return { accessible: null, reason: v.reason };
  if (v.accessible === false) return { accessible: false, reason: v.reason };
  const d = v.file;
  const target = `${d.path === '/' ? '' : d.path}/${base}`;
  const old = view.lstat(target);
  if (old.kind === 'unknown') return { accessible: null, reason: `${target}: ${old.why}` };
  if (old.kind === 'ok') {
    if (old.value.type === 'dir') return { accessible: false, reason: `${target} is a directory: QEMU cannot replace it` };
    if ((d.inode.mode & 0o1000) !== 0 && old.value.uid !== identity.uid && d.inode.uid !== identity.uid) {
      const who = identity.userName ?? `uid ${identity.uid}`;
      const owner = names.userName(old.value.uid) ?? String(old.value.uid);
      return { accessible: false, reason: `${target} exists (owned by ${owner}) in the sticky directory ${d.path}: ${who} cannot remove it to create its own (only its owner or the directory's may)` };
    }
    return { accessible: true, because: `${v.because}; the existing ${target} can be removed and created again` };
  }
  return { accessible: true, because: v.because };
}
