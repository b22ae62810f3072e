/**
 * The disks `facts --path` covers: each path given, and for a directory every file, symlink and block
 * device below it (directory symlinks are not descended, so a loop cannot run away). Enumeration reads
 * the host through an unrecorded view: listing a directory is the snapshot's own business, not a
 * question any decision asks.
 */
import { probeFormat, PROBE_BYTES } from '../images/probe.js';
import type { HostView } from '../host/view.js';
import { walkPath } from '../host/walk.js';
import type { PathDisk } from '../adapters/snapshot/path-domains.js';
import { pathProblem } from '../host/errno.js';

/** Bounds on what one `--path` may expand to; beyond them the rest is reported, not silently cut. */
export const MAX_PATHS = 100_000;
export const MAX_DEPTH = 64;

export interface Enumeration {
  readonly disks: PathDisk[];
  readonly problems: string[];
}

const join = (dir: string, name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`);

export function enumeratePaths(view: HostView, roots: readonly string[]): Enumeration {
  const disks: PathDisk[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();

  function add(path: string): void {
    if (seen.has(path)) return;
    seen.add(path);
    // What QEMU opens is what the path resolves to: a link to a device is a block disk.
    const end = walkPath(view, path).end;
    if (end.kind !== 'found') {
      problems.push(`${end.kind === 'error' ? pathProblem(end.at, end.errno) : `${end.at}: ${end.why}`}; recorded as QEMU would find it`);
      disks.push({ path, type: 'file', format: 'raw' });
      return;
    }
    const type = end.file.inode.type;
    let format = 'raw';
    if (type === 'file') {
      const head = view.readBytes(path, 0, PROBE_BYTES);
      if (head.kind === 'ok') format = probeFormat(head.value);
    }
    disks.push({ path, type, format });
  }

  function visit(path: string, depth: number): void {
    if (disks.length >= MAX_PATHS) {
      problems.push(`${path}: not covered, more than ${MAX_PATHS} paths`);
      return;
    }
    const st = view.lstat(path);
    if (st.kind !== 'ok' || st.value.type !== 'dir') return add(path);
    if (depth >= MAX_DEPTH) {
      problems.push(`${path}: not descended, deeper than ${MAX_DEPTH} levels`);
      return;
    }
    const names = view.listDir(path);
    if (names.kind !== 'ok') {
      problems.push(names.kind === 'unknown' ? `${path}: ${names.why}` : pathProblem(path, names.errno));
      return;
    }
    for (const name of [...names.value].sort()) {
      const child = join(path, name);
      const cst = view.lstat(child);
      if (cst.kind === 'ok' && cst.value.type === 'dir') visit(child, depth + 1);
      else if (cst.kind === 'ok' && (cst.value.type === 'file' || cst.value.type === 'symlink' || cst.value.type === 'block')) {
        if (disks.length >= MAX_PATHS) return visit(child, depth + 1);
        add(child);
      }
    }
  }

  for (const r of roots) visit(r, 0);
  return { disks, problems };
}
