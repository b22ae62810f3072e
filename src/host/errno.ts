/**
 * errno codes in words, the one translation every message a person reads goes through: the words
 * first (what is wrong), the code after it in parentheses (what to search for), never Node's own
 * message (it repeats the path, and for a write names the temporary file nobody asked about).
 */

const WORDS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'does not exist',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EIO: 'input/output error',
  EBUSY: 'device or resource busy',
  ETXTBSY: 'text file busy',
  EFBIG: 'file too large',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENXIO: 'no such device or address',
  ENODEV: 'no such device',
  ENOMEDIUM: 'no medium found',
  EXDEV: 'crosses a mount point',
  EINVAL: 'invalid argument',
  EOPNOTSUPP: 'operation not supported',
  ENOTSUP: 'operation not supported',
  ENODATA: 'no such attribute',
  ESTALE: 'stale file handle',
  ETIMEDOUT: 'timed out',
  EAGAIN: 'resource temporarily unavailable',
  EWOULDBLOCK: 'resource temporarily unavailable',
  EOVERFLOW: 'value too large for its type',
  ENOMEM: 'out of memory',
};

/** The errno code of a thrown fs error, or undefined for anything else. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || !('code' in e)) return undefined;
  const code = (e as { code: unknown }).code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** `read-only file system (EROFS)`; an unknown code stands alone; a non-errno error says so. */
export function errnoWords(codeOrError: unknown): string {
  const code = typeof codeOrError === 'string' ? codeOrError : errnoCode(codeOrError);
  if (code === undefined) return 'unexpected error';
  const words = WORDS[code];
  return words === undefined ? code : `${words} (${code})`;
}

/**
 * A path and what is wrong with it, naming the path once: `/srv/x.iso does not exist`,
 * `/srv/x.iso: permission denied (EACCES)`.
 */
export function pathProblem(path: string, code: string): string {
  if (code === 'ENOENT') return `${path} does not exist`;
  if (code === 'ENOTDIR') return `${path} is not a directory`;
  if (code === 'EISDIR') return `${path} is a directory`;
  return `${path}: ${errnoWords(code)}`;
}
