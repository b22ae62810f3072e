/**
 * AppArmor's file globs (apparmor.d(5), "Globbing") turned into anchored regular expressions over a
 * path, with the meaning apparmor_parser gives them when it builds the profile's DFA:
 *
 * - `*` any run of characters except '/', `**` any run including '/', `?` one character except '/';
 * - a `*` or `**` that makes up a whole path component (right after a '/', and followed by '/' or the
 *   end) must match at least one character, so `/tmp/*` and `/tmp/**` never match the directory `/tmp/`;
 * - `[abc]`, `[a-c]`, `[^a-c]` one character of (not of) the class; `{a,b}` alternation, nested;
 * - `\` escapes the next character; everything else, `.` `+` `|` `(` `)` `^` `$` included, is literal;
 * - runs of '/' count as one (the parser filters them, except a leading `//`).
 *
 * A directory is looked up with a trailing '/', so only a rule ending in '/' (or a glob that can end in
 * '/') matches a directory; the caller appends the '/' for directories.
 */

export type GlobResult = { readonly ok: true; readonly regex: RegExp } | { readonly ok: false; readonly error: string };

const MAX_ALT_DEPTH = 50;

/** Filters runs of '/' to one, keeping a leading `//` (a distinct namespace in Linux), as the parser does. */
export function filterSlashes(path: string): string {
  if (path.length < 2) return path;
  const lead = path.startsWith('//') && path[2] !== '/' ? '//' : '';
  return lead + path.slice(lead.length).replace(/\/{2,}/g, '/');
}

const escapeRe = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

export function compileGlob(glob: string): GlobResult {
  const g = filterSlashes(glob);
  let re = '';
  /** The last thing emitted was a literal '/' (what decides whether a star starts a path component). */
  let afterSlash = false;
  let depth = 0;
  const alternatives: number[] = [];
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === '\\') {
      const n = g[i + 1];
      if (n === undefined) return { ok: false, error: `trailing '\\' escape character in ${glob}` };
      re += escapeRe(n);
      afterSlash = n === '/';
      i++;
      continue;
    }
    if (c === '*') {
      let j = i;
      while (g[j] === '*') j++;
      const stars = j - i;
      const wholeComponent = afterSlash && (j === g.length || g[j] === '/');
      if (wholeComponent) re += '[^/]';
      // Three or more stars read as `**` followed by `*`: both any-run forms, so the same language.
      re += stars >= 2 ? '.*' : '[^/]*';
      i = j - 1;
      afterSlash = false;
      continue;
    }
    if (c === '?') {
      re += '[^/]';
      afterSlash = false;
      continue;
    }
    if (c === '[') {
      let j = i + 1;
      let cls = '';
      if (g[j] === '^') {
        cls += '^';
        j++;
      }
      let first = true;
      for (; j < g.length && (g[j] !== ']' || first); j++) {
        first = false;
        const d = g[j]!;
        if (d === '\\' && j + 1 < g.length) {
          cls += escapeRe(g[j + 1]!);
          j++;
        } else if (d === '-') cls += '-';
        else cls += escapeRe(d);
      }
      if (j >= g.length) return { ok: false, error: `unclosed character class in ${glob}` };
      re += `[${cls}]`;
      i = j;
      afterSlash = false;
      continue;
    }
    if (c === '{') {
      depth++;
      if (depth >= MAX_ALT_DEPTH) return { ok: false, error: `more than ${MAX_ALT_DEPTH} nested {} in ${glob}` };
      alternatives.push(0);
      re += '(?:';
      afterSlash = false;
      continue;
    }
    if (c === '}') {
      if (depth === 0) return { ok: false, error: `'}' without '{' in ${glob}` };
      if (alternatives.pop() === 0) return { ok: false, error: `a {} group without ',' in ${glob}` };
      depth--;
      re += ')';
      afterSlash = false;
      continue;
    }
    if (c === ',' && depth > 0) {
      alternatives[alternatives.length - 1]!++;
      re += '|';
      afterSlash = false;
      continue;
    }
    re += escapeRe(c);
    afterSlash = c === '/';
  }
  if (depth > 0) return { ok: false, error: `unclosed {} group in ${glob}` };
  // Paths never hold NUL, so '.' (any character but newline) needs the s flag to take newlines too.
  return { ok: true, regex: new RegExp(`^${re}$`, 's') };
}
