/**
 * Can the svirt process already access every inode QEMU touches for a disk file: search on each
 * directory of the path, read on each symlink followed, and the disk permissions on the file itself?
 * Labels come from the host view, answers from the policy oracle. A label that cannot be read or
 * parsed, an inode type QEMU cannot use, or an invalid context means "cannot tell", never "yes".
 */
import type { AccessEngine, ChainFile, FileVerdict } from '../access/engine.js';
import type { Finding } from '../access/types.js';
import type { HostView } from '../host/view.js';
import { walkPath, type WalkedInode } from '../host/walk.js';
import { parseContext } from './context.js';
import type { SelinuxOracle } from './oracle.js';
import { diskClass, diskPerms, DIR_SEARCH_PERMS, LINK_FOLLOW_PERMS } from './qemu-perms.js';
import { processContexts, type SvirtProcess } from './svirt-process.js';
import { pathProblem } from '../host/errno.js';

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

  /** The same for one inode on the path: its label from the view, the policy's answer for it. */
  function ask(at: WalkedInode, tclass: string, perms: readonly string[]): Check {
    const label = view.selinuxLabel(at.path);
    if (label.kind !== 'ok') return { ok: null, reason: `${at.path}: cannot read its SELinux label${label.kind === 'unknown' ? `: ${label.why}` : ''}` };
    if (label.value === null) return { ok: null, reason: `${at.path} has no SELinux label` };
    const c = askLabel(label.value, tclass, perms);
    return c.ok === true ? { ok: true, because: `${at.path}: ${c.because}` } : { ok: c.ok, reason: `${at.path} ${c.reason}` } as Check;
  }

  /** The policy's answer for an inode as if labelled `label` (what libvirt will set on it at start). */
  function assumed(at: WalkedInode, label: string, tclass: string, perms: readonly string[]): Check {
    const c = askLabel(label, tclass, perms);
    return c.ok === true ? { ok: true, because: `${at.path} once labelled ${label}: ${c.because}` } : ({ ok: c.ok, reason: `${at.path} once labelled ${label} ${c.reason}` } as Check);
  }

  return {
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
      const tclass = diskClass(end.file.inode.type);
      if (!tclass) return { accessible: null, reason: `${end.file.path} is a ${end.file.inode.type}, not a file or device QEMU can open as a disk` };
      const c = file.assumeLabel === undefined ? ask(end.file, tclass, diskPerms(file.access)) : assumed(end.file, file.assumeLabel, tclass, diskPerms(file.access));
      if (c.ok === true) return { accessible: true, because: c.because, findings };
      return c.ok === false ? { accessible: false, reason: c.reason, findings } : { accessible: null, reason: c.reason, findings };
    },
  };
}
