/**
 * Can the svirt process already access every inode QEMU touches for a disk file: search on each
 * directory of the path, read on each symlink followed, and the disk permissions on the file itself?
 * Labels come from the host view, answers from the policy oracle. A label that cannot be read or
 * parsed, an inode type QEMU cannot use, or an invalid context means "cannot tell", never "yes".
 */
import type { AccessEngine, ChainFile, FileVerdict, FixedLabel } from '../access/engine.js';
import type { Finding } from '../access/types.js';
import type { HostView } from '../host/view.js';
import { walkPath, type WalkedInode } from '../host/walk.js';
import { parseContext } from './context.js';
import type { SelinuxOracle } from './oracle.js';
import { diskClass, diskPerms, DIR_OPEN_PERMS, DIR_SEARCH_PERMS, ENTRYPOINT_PERMS, LINK_FOLLOW_PERMS } from './qemu-perms.js';
import { processContexts, type SvirtProcess } from './svirt-process.js';
import { pathProblem } from '../host/errno.js';
import { delegatesPermission, MOUNTINFO_PATH, mountOf, parseMountInfo, type MountEntry } from '../host/mounts.js';

type Check = { ok: true; because: string } | { ok: false; reason: string } | { ok: null; reason: string };

export function createSelinuxFileEngine(view: HostView, oracle: SelinuxOracle, proc: SvirtProcess, booleans: Readonly<Record<string, boolean>>): AccessEngine {
  const cache = new Map<string, Check>();

  /** The policy's answer for one label, class and permission set, under every representative level. */
  function askLabel(tcontext: string, tclass: string, perms: readonly string[]): Check {
    const key = `${tcontext}\u0000${tclass}\u0000${perms.join(',')}`;
    const cached = cache.get(key);
    if (cached) return cached;
    const parsed = parseContext(tcontext);
    let result: Check | undefined;
    if (!parsed.ok) result = { ok: null, reason: `label ${tcontext} is not a valid context: ${parsed.error}` };
    for (const scontext of parsed.ok ? processContexts(proc, parsed.value) : []) {
      const a = oracle.compute({ scontext, tcontext, tclass, perms, booleans });
      if (!a.ok) {
        result = { ok: null, reason: `(${tcontext}): ${a.error}` };
        break;
      }
      if (!a.allowed) {
        // Only a constraint depends on the level; name the level that fails it.
        const levelMatters = a.because.denials.some((d) => d.cause === 'constraint' || d.cause === 'mls');
        const who = levelMatters && proc.kind === 'dynamic' ? ` for a process at ${scontext.split(':').slice(3).join(':')}` : '';
        result = { ok: false, reason: `(${tcontext}): ${a.reason}${who}` };
        break;
      }
      result ??= { ok: true, because: a.reason };
    }
    result ??= { ok: null, reason: 'no process context to check' };
    cache.set(key, result);
    return result;
  }

  let mounts: readonly MountEntry[] | undefined | null;
  /** The mount of a path, when the table can be read (null: it cannot; labels then come from xattrs alone). */
  function mountFor(path: string): MountEntry | undefined {
    if (mounts === undefined) {
      const text = view.readText(MOUNTINFO_PATH);
      const parsed = text.kind === 'ok' ? parseMountInfo(text.value) : undefined;
      mounts = parsed?.ok ? parsed.value : null;
    }
    return mounts === null ? undefined : mountOf(mounts, path);
  }

  /**
   * The label the kernel gives an inode. On a filesystem that delegates (NFS, CIFS, FUSE...), unless the
   * mount carries real labels (`seclabel`, e.g. NFS 4.2 security_label), every inode has the mount's
   * `context=` or else the policy's genfscon label for that filesystem type (nfs_t, cifs_t, fusefs_t):
   * an xattr read there (a FUSE daemon passing its source's through, on a host whose kernel does not
   * enforce SELinux) is not the label the kernel checks.
   */
  /** The mount of `path` when its labels are fixed (a delegating filesystem without `seclabel`). */
  function fixedMount(path: string): MountEntry | undefined {
    const m = mountFor(path);
    return m && delegatesPermission(m.fsType) !== undefined && !m.superOptions.includes('seclabel') ? m : undefined;
  }

  function labelOf(path: string): { ok: true; label: string; how?: string } | { ok: false; reason: string } {
    const m = fixedMount(path);
    if (m) {
      const opt = [...m.superOptions, ...m.options].find((o) => o.startsWith('context='));
      if (opt !== undefined) return { ok: true, label: opt.slice('context='.length).replace(/^"(.*)"$/, '$1'), how: `the context= of the ${m.fsType} mount ${m.mountPoint}` };
      const base = m.fsType.startsWith('fuse.') ? 'fuse' : m.fsType;
      const g = oracle.genfsContext?.(base);
      if (g === undefined) return { ok: false, reason: `${path} is on ${m.fsType} (${m.mountPoint}) without security labels, and the policy's genfscon label for ${base} cannot be told` };
      if (g === null) return { ok: false, reason: `${path} is on ${m.fsType} (${m.mountPoint}) without security labels, and the policy has no genfscon for ${base}` };
      return { ok: true, label: g, how: `the policy's genfscon for ${base}, as ${m.fsType} ${m.mountPoint} carries no security labels and no context=` };
    }
    const label = view.selinuxLabel(path);
    if (label.kind !== 'ok') return { ok: false, reason: `${path}: cannot read its SELinux label${label.kind === 'unknown' ? `: ${label.why}` : ''}` };
    if (label.value === null) return { ok: false, reason: `${path} has no SELinux label` };
    return { ok: true, label: label.value };
  }

  /** The same for one inode on the path: its label from the view, the policy's answer for it. */
  function ask(at: WalkedInode, tclass: string, perms: readonly string[]): Check {
    const label = labelOf(at.path);
    if (!label.ok) return { ok: null, reason: label.reason };
    const c = askLabel(label.label, tclass, perms);
    const where = label.how ? `${at.path} (labelled ${label.label} by ${label.how})` : at.path;
    return c.ok === true ? { ok: true, because: `${where}: ${c.because}` } : ({ ok: c.ok, reason: `${where} ${c.reason}` } as Check);
  }

  /** The policy's answer for an inode as if labelled `label` (what libvirt will set on it at start). */
  function assumed(at: WalkedInode, label: string, tclass: string, perms: readonly string[]): Check {
    const c = askLabel(label, tclass, perms);
    return c.ok === true ? { ok: true, because: `${at.path} once labelled ${label}: ${c.because}` } : ({ ok: c.ok, reason: `${at.path} once labelled ${label} ${c.reason}` } as Check);
  }

  return {
    fixedLabel(path: string): FixedLabel | undefined {
      const m = fixedMount(path);
      if (!m) return undefined;
      const l = labelOf(path);
      return { fsType: m.fsType, mountPoint: m.mountPoint, ...(l.ok && { label: l.label, ...(l.how !== undefined && { how: l.how }) }) };
    },
    check(file: ChainFile): FileVerdict {
      const walk = walkPath(view, file.path);
      const findings: Finding[] = [];
      for (const step of walk.steps) {
        const c =
          step.kind === 'search'
            ? ask(step.dir, 'dir', DIR_SEARCH_PERMS)
            : ask(step.link, 'lnk_file', LINK_FOLLOW_PERMS);
        if (c.ok === true) continue;
        if (c.ok === false && step.kind === 'search') {
          findings.push({
            code: 'selinux-dir-search-denied',
            severity: 'warning',
            path: step.dir.path,
            message: `SELinux denies QEMU search on ${step.dir.path}: the VM fails with or without a relabel (libvirt never relabels directories): ${c.reason}`,
          });
          return { accessible: false, reason: c.reason, findings };
        }
        return c.ok === false ? { accessible: false, reason: c.reason, findings } : { accessible: null, reason: c.reason, findings };
      }
      const end = walk.end;
      if (end.kind === 'unknown') return { accessible: null, reason: `${end.at}: ${end.why}` };
      if (end.kind === 'error') return { accessible: false, reason: pathProblem(end.at, end.errno) };
      // A directory QEMU opens itself (a 9p share's root): the walk above searched it, the open reads it.
      const dir = file.directory === true && end.file.inode.type === 'dir';
      const tclass = dir ? 'dir' : diskClass(end.file.inode.type);
      if (!tclass) return { accessible: null, reason: `${end.file.path} is a ${end.file.inode.type}, not a file or device QEMU can open as a disk` };
      const perms = dir ? DIR_OPEN_PERMS : file.entrypoint ? ENTRYPOINT_PERMS : file.mapped ? [...diskPerms(file.access), 'map'] : diskPerms(file.access);
      const c = file.assumeLabel === undefined ? ask(end.file, tclass, perms) : assumed(end.file, file.assumeLabel, tclass, perms);
      if (c.ok === true) return { accessible: true, because: c.because, findings };
      return c.ok === false ? { accessible: false, reason: c.reason, findings } : { accessible: null, reason: c.reason, findings };
    },
  };
}
