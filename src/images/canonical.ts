/**
 * The file a path finally names, as the kernel resolves it (symlinks followed, `..` taken after the
 * link), computed through the HostView. Used only to recognise the same image reached twice.
 */
import type { HostView } from '../host/view.js';
import type { Result } from '../result.js';
import { failure, success } from '../result.js';
import { pathProblem } from '../host/errno.js';

/** The kernel's own limit on symlinks followed in one lookup (ELOOP). */
const MAX_SYMLINKS = 40;

export function canonicalPath(view: Pick<HostView, 'lstat' | 'readlink'>, path: string): Result<string> {
  if (!path.startsWith('/')) return failure(`${path} is not an absolute path`);
  let pending = path.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const [name, ...rest] = pending as [string, ...string[]];
    pending = rest;
    if (name === '..') {
      done.pop();
      continue;
    }
    const here = `/${[...done, name].join('/')}`;
    const st = view.lstat(here);
    if (st.kind !== 'ok') return failure(st.kind === 'missing' ? pathProblem(here, st.errno) : `${here}: ${st.why}`);
    if (st.value.type !== 'symlink') {
      done.push(name);
      continue;
    }
    if (++links > MAX_SYMLINKS) return failure(`${path}: too many levels of symbolic links`);
    const target = view.readlink(here);
    if (target.kind !== 'ok') return failure(`${here}: cannot read link`);
    if (target.value.startsWith('/')) done.length = 0;
    pending = [...target.value.split('/').filter((c) => c !== '' && c !== '.'), ...pending];
  }
  return success(`/${done.join('/')}`);
}
