/**
 * Host-wide facts the DAC check consults besides inodes: the mount table (filesystem type, ro, nodev,
 * nosymfollow) and fs.protected_symlinks. Read lazily through the HostView and memoised, so one object
 * shared by the checks of a run reads each once and every check sees the same host state.
 */
import { MOUNTINFO_PATH, mountOf, parseMountInfo, type MountEntry } from '../host/mounts.js';
import type { HostView } from '../host/view.js';

export const PROTECTED_SYMLINKS_PATH = '/proc/sys/fs/protected_symlinks';

type MountTable = { readonly ok: true; readonly entries: readonly MountEntry[] } | { readonly ok: false; readonly why: string };

/** Share one per run, not across changes to the host. */
export class DacHostFacts {
  private mountTable?: MountTable;
  private sysctl?: number | string;

  private readonly mountByPath = new Map<string, MountEntry | undefined>();

  constructor(private readonly view: HostView) {}

  /** The mount holding a physical path (memoised; the table must have been read). */
  mountOf(path: string): MountEntry | undefined {
    const table = this.mounts();
    if (!table.ok) return undefined;
    if (!this.mountByPath.has(path)) this.mountByPath.set(path, mountOf(table.entries, path));
    return this.mountByPath.get(path);
  }

  mounts(): MountTable {
    if (!this.mountTable) {
      const text = this.view.readText(MOUNTINFO_PATH);
      if (text.kind !== 'ok') this.mountTable = { ok: false, why: `cannot read ${MOUNTINFO_PATH}` };
      else {
        const parsed = parseMountInfo(text.value);
        this.mountTable = parsed.ok ? { ok: true, entries: parsed.value } : { ok: false, why: parsed.error };
      }
    }
    return this.mountTable;
  }

  /** fs.protected_symlinks as a number, or why it cannot be read. */
  protectedSymlinks(): number | string {
    if (this.sysctl === undefined) {
      const text = this.view.readText(PROTECTED_SYMLINKS_PATH);
      const n = text.kind === 'ok' ? Number(text.value.trim()) : NaN;
      this.sysctl = Number.isInteger(n) ? n : `cannot read ${PROTECTED_SYMLINKS_PATH}`;
    }
    return this.sysctl;
  }
}

