/**
 * Can the svirt process already access every inode QEMU touches for a disk file: search on each
 * directory of the path, read on each symlink followed, and the disk permissions on the file itself?
 * Labels come from the host view, answers from the policy oracle. A label that cannot be read or
 * parsed, an inode type QEMU cannot use, or an invalid context means "cannot tell", never "yes".
 */
import type { AccessEngine, ChainFile, FileVerdict } from '../decide/ports.js';
import type { Finding } from '../decide/types.js';
import type { HostView } from '../host/view.js';
import { walkPath, type WalkedInode } from '../host/walk.js';
import { parseContext } from './context.js';
import type { SelinuxOracle } from './oracle.js';
import { diskClass, diskPerms, DIR_SEARCH_PERMS, LINK_FOLLOW_PERMS } from './qemu-perms.js';
import { processContexts, type SvirtProcess } from './svirt-process.js';

type Check = { ok: true; because: string } | { ok: false; reason: string } | { ok: null; reason: string };

export function createSelinuxFileEngine(view: HostView, oracle: SelinuxOracle, proc: SvirtProcess, booleans: Readonly<Record<string, boolean>>): AccessEngine {
  const cache = new Map<string, Check>();

  /** Every representative process context must be granted `perms` on the inode. */
  function ask(at: WalkedInode, tclass: string, perms: readonly string[]): Check {
    const label = view.selinuxLabel(at.path);
    if (label.kind !== 'ok') return { ok: null, reason: `${at.path}: cannot read its SELinux label${label.kind === 'unknown' ? `: ${label.why}` : ''}` };
    if (label.value === null) return { ok: null, reason: `${at.path} has no SELinux label` };
    const tcontext = label.value;
    const key = `${tcontext}\u0000${tclass}\u0000${perms.join(',')}`;
    const cached = cache.get(key);
    if (cached) return cached;
    const parsed = parseContext(tcontext);
    if (!parsed.ok) return { ok: null, reason: `${at.path}: label ${tcontext} is not a valid context: ${parsed.error}` };
    let result: Check | undefined;
    for (const scontext of processContexts(proc, parsed.value)) {
      const a = oracle.compute({ scontext, tcontext, tclass, perms, booleans });
      if (!a.ok) {
        result = { ok: null, reason: `${at.path} (${tcontext}): ${a.error}` };
        break;
      }
      if (!a.allowed) {
        const who = proc.kind === 'dynamic' && proc.mls ? ` for a process at ${scontext.split(':').slice(3).join(':')}` : '';
        result = { ok: false, reason: `${at.path} (${tcontext}): ${a.reason}${who}` };
        break;
      }
      result ??= { ok: true, because: `${at.path}: ${a.reason}` };
    }
    result ??= { ok: null, reason: 'no process context to check' };
    cache.set(key, result);
    return result;
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
      if (end.kind === 'error') return { accessible: false, reason: `${end.at}: ${end.errno}` };
      const tclass = diskClass(end.file.inode.type);
      if (!tclass) return { accessible: null, reason: `${end.file.path} is a ${end.file.inode.type}, not a file or device QEMU can open as a disk` };
      const c = ask(end.file, tclass, diskPerms(file.access));
      if (c.ok === true) return { accessible: true, because: c.because, findings };
      return c.ok === false ? { accessible: false, reason: c.reason, findings } : { accessible: null, reason: c.reason, findings };
    },
  };
}
