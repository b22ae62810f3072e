/** `ls -l` rendering of an inode's type and mode, so reasons read like what the user sees in a shell. */
import type { FileType, Inode } from '../host/view.js';

const TYPE_CHAR: Readonly<Record<FileType, string>> = {
  file: '-',
  dir: 'd',
  symlink: 'l',
  block: 'b',
  char: 'c',
  fifo: 'p',
  socket: 's',
};

/** e.g. `drwx------`, `-rw-r--r--+` (the `+` when the inode has an ACL), `drwxrwxrwt`. */
export function modeText(inode: Inode, hasAcl = false): string {
  const m = inode.mode;
  const bit = (mask: number, c: string) => (m & mask ? c : '-');
  const special = (execMask: number, specialMask: number, set: string) => {
    const x = m & execMask;
    if (m & specialMask) return x ? set : set.toUpperCase();
    return x ? 'x' : '-';
  };
  return (
    TYPE_CHAR[inode.type] +
    bit(0o400, 'r') + bit(0o200, 'w') + special(0o100, 0o4000, 's') +
    bit(0o040, 'r') + bit(0o020, 'w') + special(0o010, 0o2000, 's') +
    bit(0o004, 'r') + bit(0o002, 'w') + special(0o001, 0o1000, 't') +
    (hasAcl ? '+' : '')
  );
}
