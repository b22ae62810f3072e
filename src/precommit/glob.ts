/**
 * The file patterns of .virt-seclabel.json, as users know them from .gitignore and pre-commit configs:
 * `*` and `?` stay inside one path segment, `**` crosses segments (`vms/**.xml`, `vms/**` + `/x.xml`),
 * `[abc]` is a class. Matched against `/`-separated paths relative to the config's directory.
 */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        // `**/` also matches no directory at all: vms/**/a.xml matches vms/a.xml.
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) re += '\\[';
      else {
        const body = pattern.slice(i + 1, close).replace(/\\/g, '\\\\').replace(/^!/, '^');
        re += `[${body}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'u');
}
