/**
 * The mount facts the kernel's open path consults beyond the inode: a read-only mount or superblock
 * (EROFS for writes), `nodev` (EACCES on device nodes before any permission check) and `nosymfollow`
 * (ELOOP on every symlink). Read from /proc/self/mountinfo (proc(5)).
 */
import { failure, success, type Result } from '../result.js';

export const MOUNTINFO_PATH = '/proc/self/mountinfo';

export interface MountEntry {
  readonly mountPoint: string;
  readonly fsType: string;
  /** Per-mount `ro` (e.g. a read-only bind mount): EROFS after the permission check. */
  readonly readOnly: boolean;
  /** Superblock `ro`: EROFS before the permission check (sb_permission). */
  readonly superReadOnly: boolean;
  readonly noDev: boolean;
  readonly noSymFollow: boolean;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(field: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(field, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const m = raw[i] === 0x5c ? /^[0-7]{3}/.exec(raw.subarray(i + 1, i + 4).toString('latin1')) : null;
    if (m) {
      bytes.push(parseInt(m[0], 8));
      i += 3;
    } else bytes.push(raw[i]!);
  }
  return Buffer.from(bytes).toString('utf8');
}

export function parseMountInfo(text: string): Result<MountEntry[], string> {
  const entries: MountEntry[] = [];
  for (const [n, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (fields.length < 10 || dash < 0 || fields.length < dash + 4) return failure(`mountinfo line ${n + 1} is malformed`);
    const opts = fields[5]!.split(',');
    const superOpts = fields[dash + 3]!.split(',');
    entries.push({
      mountPoint: unescape(fields[4]!),
      fsType: fields[dash + 1]!,
      readOnly: opts.includes('ro'),
      superReadOnly: superOpts.includes('ro'),
      noDev: opts.includes('nodev'),
      noSymFollow: opts.includes('nosymfollow'),
    });
  }
  if (!entries.some((e) => e.mountPoint === '/')) return failure('mountinfo has no root mount');
  return success(entries);
}

const under = (path: string, mountPoint: string) =>
  mountPoint === '/' || path === mountPoint || path.startsWith(`${mountPoint}/`);

/**
 * The mount a physical path (symlinks resolved) lives on. mountinfo lists mounts in the order they were
 * made, so a later mount on or above an earlier one's mount point hides it.
 */
export function mountOf(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  const visible: MountEntry[] = [];
  for (const e of entries) {
    for (let i = visible.length - 1; i >= 0; i--) if (under(visible[i]!.mountPoint, e.mountPoint)) visible.splice(i, 1);
    visible.push(e);
  }
  let best: MountEntry | undefined;
  for (const e of visible) if (under(path, e.mountPoint) && (!best || e.mountPoint.length > best.mountPoint.length)) best = e;
  return best;
}
