/**
 * The AppArmor profile language (apparmor.d(5)) as far as file access goes, read the way apparmor_parser
 * reads it: `#include` / `include` / `include if exists` of `<magic>` (under the base directory) and
 * `"absolute"` paths, a directory included as all its files (dot files, backups and package-manager
 * leftovers skipped), `@{VAR}` variables set with `=` and extended with `+=` (expanded as the parser does:
 * one rule per combination of values, then runs of '/' filtered), profile blocks (`profile NAME … {`,
 * `/attach/path {`), hats and child profiles (`^hat {`, `hat NAME {`, nested `profile`), qualifier blocks
 * (`audit {`, `deny {`, `owner {`), and file rules in both orders (`PATH PERMS`, `PERMS PATH`, `file`
 * prefix, bare `file,`) with `audit`, `deny`, `allow`, `owner` and an exec target (`-> name`).
 * Every other rule (capability, network, signal, ptrace, unix, dbus, mount, …) is skipped whole,
 * parentheses and alternations kept together. What it does not implement makes the profile "unsupported"
 * (an answer of its own: the caller decides nothing from it): conditionals (`if`), `alias` rules, and
 * boolean variables used in a rule.
 */
import { compileGlob, filterSlashes } from './glob.js';

/** Where profile sources come from: text of a file, or the names in a directory (a HostView slice). */
export interface ProfileSources {
  /** 'dir' for a directory, 'file' for anything readable as text, 'missing', or unknown with why. */
  kind(path: string): 'file' | 'dir' | 'missing' | { readonly unknown: string };
  readText(path: string): { readonly ok: true; readonly text: string } | { readonly ok: false; readonly why: string };
  listDir(path: string): { readonly ok: true; readonly names: readonly string[] } | { readonly ok: false; readonly why: string };
}

export type Perm = 'r' | 'w' | 'a' | 'k' | 'l' | 'm' | 'x';

export interface FileRule {
  /** The file and 1-based line the rule starts on, and that line's text (trimmed). */
  readonly file: string;
  readonly line: number;
  readonly text: string;
  readonly deny: boolean;
  readonly audit: boolean;
  readonly owner: boolean;
  readonly perms: ReadonlySet<Perm>;
  /** The path glob as written, and its expansions (variables substituted, slashes filtered). */
  readonly glob: string;
  /** The glob with its variables substituted and slashes filtered, as apparmor_parser -D rule-exprs shows it. */
  readonly expanded: string;
  readonly patterns: readonly RegExp[];
}

export interface ParsedProfile {
  /** The profile's name (`profile NAME` or the attachment path). */
  readonly name: string;
  readonly rules: readonly FileRule[];
  /** Hats and child profiles, by name: their rules never apply to the parent. */
  readonly children: readonly ParsedProfile[];
}

export type ParseResult =
  | { readonly ok: true; readonly profiles: readonly ParsedProfile[]; readonly files: readonly string[] }
  /** A profile apparmor_parser would refuse (it is never loaded), or input this reader cannot follow. */
  | { readonly ok: false; readonly kind: 'error' | 'unsupported' | 'unreadable'; readonly error: string };

class ParseError extends Error {
  constructor(
    readonly kind: 'error' | 'unsupported' | 'unreadable',
    message: string,
  ) {
    super(message);
  }
}

/** Files in an included directory that apparmor_parser skips (its is_blacklisted list). */
const SKIPPED_SUFFIXES = ['~', '.dpkg-new', '.dpkg-old', '.dpkg-dist', '.dpkg-bak', '.dpkg-remove', '.rpmnew', '.rpmsave', '.orig', '.rej', '.pacsave', '.pacnew'];
const skippedInDir = (name: string) => name.startsWith('.') || name === 'README' || SKIPPED_SUFFIXES.some((s) => name.endsWith(s));

/** Rule classes that never grant or deny file access by path (apparmor.d(5)); everything else unknown is refused. */
const OTHER_RULES = new Set([
  'capability', 'network', 'signal', 'ptrace', 'unix', 'dbus', 'mount', 'remount', 'umount', 'pivot_root', 'change_profile',
  'change_hat', 'rlimit', 'set', 'link', 'userns', 'io_uring', 'mqueue', 'all',
]);

const MAX_INCLUDE_DEPTH = 32;
const MAX_EXPANSIONS = 4096;
const EXEC_MODES = ['pux', 'PUx', 'cux', 'CUx', 'pix', 'Pix', 'cix', 'Cix', 'ix', 'ux', 'Ux', 'px', 'Px', 'cx', 'Cx', 'x'];

/** One source file's text with a cursor; tokens carry their file and line. */
class Cursor {
  pos = 0;
  constructor(
    readonly file: string,
    readonly text: string,
  ) {}
  get done() {
    return this.pos >= this.text.length;
  }
  private starts: number[] | undefined;
  /** 1-based line of a position (line starts indexed once, then a binary search). */
  lineAt(pos: number): number {
    if (this.starts === undefined) {
      this.starts = [0];
      for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1)) this.starts.push(i + 1);
    }
    const st = this.starts;
    let lo = 0;
    let hi = st.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (st[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
  lineText(pos: number): string {
    const start = this.text.lastIndexOf('\n', pos - 1) + 1;
    const end = this.text.indexOf('\n', pos);
    return this.text.slice(start, end === -1 ? undefined : end).trim();
  }
  /** Skips blanks and comments; `#include` is a directive, not a comment. */
  skipBlank() {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t[this.pos]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.pos++;
      else if (c === '#' && !t.startsWith('#include', this.pos)) {
        const nl = t.indexOf('\n', this.pos);
        this.pos = nl === -1 ? t.length : nl + 1;
      } else break;
    }
  }
  /** The rest of the current line, without a trailing comment. */
  restOfLine(): string {
    const nl = this.text.indexOf('\n', this.pos);
    const end = nl === -1 ? this.text.length : nl;
    const line = this.text.slice(this.pos, end);
    this.pos = end;
    const hash = line.indexOf('#');
    return (hash === -1 ? line : line.slice(0, hash)).trim();
  }
  /**
   * One word of a statement: a quoted string, or a run up to blank, ',' or '{' '}' outside any
   * `{…}` alternation, `[…]` class or `(…)` group. A lone '{' or '}' is its own word.
   */
  word(): { text: string; quoted: boolean; at: number } | undefined {
    this.skipBlank();
    const t = this.text;
    const at = this.pos;
    if (this.pos >= t.length) return undefined;
    const c = t[this.pos]!;
    if (c === ',' || c === '{' || c === '}') {
      this.pos++;
      return { text: c, quoted: false, at };
    }
    if (c === '"') {
      let out = '';
      let i = this.pos + 1;
      for (; i < t.length && t[i] !== '"'; i++) {
        if (t[i] === '\\' && i + 1 < t.length) {
          // Kept escaped: the glob reader interprets the escape.
          out += t[i]! + t[i + 1]!;
          i++;
        } else out += t[i]!;
      }
      if (i >= t.length) throw new ParseError('error', `${this.file}:${this.lineAt(at)}: unterminated quoted string`);
      this.pos = i + 1;
      return { text: out, quoted: true, at };
    }
    let depth = 0;
    let paren = 0;
    let cls = false;
    let i = this.pos;
    for (; i < t.length; i++) {
      const d = t[i]!;
      if (d === '\\') {
        i++;
        continue;
      }
      if (cls) {
        if (d === ']') cls = false;
        continue;
      }
      if (d === '[') cls = true;
      else if (d === '(') paren++;
      else if (d === ')') paren = Math.max(0, paren - 1);
      // Inside a word (it never starts with '{'), '{' opens an alternation or a variable's name.
      else if (d === '{') depth++;
      else if (d === '}' && depth > 0) depth--;
      else if (d === '}' && depth === 0 && paren === 0) break;
      else if ((d === ',' || d === ' ' || d === '\t' || d === '\n' || d === '\r') && depth === 0 && paren === 0) break;
      else if (d === '"' && paren > 0) {
        const q = t.indexOf('"', i + 1);
        if (q !== -1) i = q;
      }
    }
    this.pos = i;
    return { text: t.slice(at, i), quoted: false, at };
  }
}

interface Frame {
  readonly profile: { name: string; rules: FileRule[]; children: ParsedProfile[] } | undefined;
  /** Qualifiers a qualifier block (`audit {`, `deny {`, `owner {`) applies to the rules inside. */
  readonly quals: { readonly audit: boolean; readonly deny: boolean; readonly owner: boolean };
  readonly kind: 'profile' | 'qualifier' | 'root';
}

interface Ctx {
  readonly sources: ProfileSources;
  readonly base: string;
  readonly vars: Map<string, string[]>;
  readonly stack: Frame[];
  readonly top: ParsedProfile[];
  readonly files: string[];
  /** Rules whose variables are expanded at the end, once every assignment (also later ones) is known. */
  readonly pending: { rule: Omit<FileRule, 'patterns' | 'expanded'>; into: FileRule[] }[];
}

function parsePerms(word: string): Set<Perm> | undefined {
  const perms = new Set<Perm>();
  let i = 0;
  outer: while (i < word.length) {
    for (const m of EXEC_MODES)
      if (word.startsWith(m, i)) {
        perms.add('x');
        if (m.includes('i')) perms.add('m');
        i += m.length;
        continue outer;
      }
    const c = word[i]!;
    if ('rwaklm'.includes(c)) perms.add(c as Perm);
    else return undefined;
    i++;
  }
  return perms.size > 0 ? perms : undefined;
}

const isPathWord = (w: { text: string; quoted: boolean }) => w.text.startsWith('/') || w.text.startsWith('@{') || (w.quoted && (w.text.startsWith('/') || w.text.startsWith('@{')));

/** A variable's values with the variables inside them expanded: every combination, one flat list. */
function values(name: string, vars: ReadonlyMap<string, readonly string[]>, where: string, seen: readonly string[]): string[] {
  if (seen.includes(name)) throw new ParseError('error', `${where}: variable @{${name}} refers to itself`);
  const own = vars.get(name);
  if (own === undefined) throw new ParseError('error', `${where}: Found reference to variable ${name}, but is never declared`);
  const out: string[] = [];
  for (const v of own) {
    let partial = [''];
    let rest = v;
    for (;;) {
      const m = /@\{([A-Za-z][A-Za-z0-9_]*)\}/.exec(rest);
      if (!m) break;
      const inner = values(m[1]!, vars, where, [...seen, name]);
      const before = rest.slice(0, m.index);
      partial = partial.flatMap((p) => inner.map((i) => p + before + i));
      rest = rest.slice(m.index + m[0].length);
      if (partial.length > MAX_EXPANSIONS) throw new ParseError('unsupported', `${where}: more than ${MAX_EXPANSIONS} values of @{${name}}`);
    }
    out.push(...partial.map((p) => p + rest));
  }
  return out;
}

/**
 * Substitutes `@{VAR}` references as apparmor_parser does: one value inline, several as a `{a,b}`
 * alternation; a value's trailing '/' is dropped when the rule goes on with '/'.
 */
function expand(glob: string, vars: ReadonlyMap<string, readonly string[]>, where: string): string {
  return glob.replace(/@\{([A-Za-z][A-Za-z0-9_]*)\}/g, (_, name: string, offset: number) => {
    const slashNext = glob[offset + name.length + 3] === '/';
    const vs = values(name, vars, where, []).map((v) => (slashNext && v.endsWith('/') ? v.replace(/\/+$/, '') : v));
    return vs.length === 1 ? vs[0]! : `{${vs.join(',')}}`;
  });
}

function includeTarget(ctx: Ctx, cur: Cursor): { path: string; optional: boolean; at: number } {
  const at = cur.pos;
  cur.pos += cur.text.startsWith('#include', cur.pos) ? '#include'.length : 'include'.length;
  let rest = cur.restOfLine();
  let optional = false;
  if (/^if\s+exists\b/.test(rest)) {
    optional = true;
    rest = rest.replace(/^if\s+exists\s*/, '');
  }
  const magic = /^<([^>]+)>$/.exec(rest);
  const quoted = /^"([^"]+)"$/.exec(rest);
  if (magic) return { path: `${ctx.base}/${magic[1]!}`, optional, at };
  if (quoted) {
    const p = quoted[1]!;
    if (!p.startsWith('/')) throw new ParseError('unsupported', `${cur.file}:${cur.lineAt(at)}: include "${p}" is relative to apparmor_parser's working directory`);
    return { path: p, optional, at };
  }
  throw new ParseError('error', `${cur.file}:${cur.lineAt(at)}: bad include: ${rest}`);
}

function include(ctx: Ctx, path: string, optional: boolean, where: string, depth: number) {
  if (depth > MAX_INCLUDE_DEPTH) throw new ParseError('unsupported', `${where}: includes nested more than ${MAX_INCLUDE_DEPTH} deep`);
  const k = ctx.sources.kind(path);
  if (k === 'missing') {
    if (optional) return;
    throw new ParseError('error', `${where}: Could not open '${path}'`);
  }
  if (typeof k === 'object') throw new ParseError('unreadable', `${where}: cannot read ${path}: ${k.unknown}`);
  if (k === 'dir') {
    const names = ctx.sources.listDir(path);
    if (!names.ok) throw new ParseError('unreadable', `${where}: cannot list ${path}: ${names.why}`);
    for (const n of [...names.names].sort()) {
      if (skippedInDir(n)) continue;
      const sub = `${path}/${n}`;
      const kk = ctx.sources.kind(sub);
      if (kk === 'dir') continue; // the parser includes a directory's files, not its subdirectories
      include(ctx, sub, false, where, depth + 1);
    }
    return;
  }
  const text = ctx.sources.readText(path);
  if (!text.ok) throw new ParseError('unreadable', `${where}: cannot read ${path}: ${text.why}`);
  ctx.files.push(path);
  parseText(ctx, new Cursor(path, text.text), depth + 1);
}

function frame(ctx: Ctx): Frame {
  return ctx.stack[ctx.stack.length - 1]!;
}

function parseText(ctx: Ctx, cur: Cursor, depth: number) {
  for (;;) {
    cur.skipBlank();
    if (cur.done) return;
    const t = cur.text;
    const at = cur.pos;
    const where = `${cur.file}:${cur.lineAt(at)}`;
    if (t.startsWith('#include', at) || /^include[\s<"]/.test(t.slice(at, at + 8))) {
      const inc = includeTarget(ctx, cur);
      include(ctx, inc.path, inc.optional, where, depth);
      continue;
    }
    const assign = /^@\{([A-Za-z][A-Za-z0-9_]*)\}\s*(\+?=)/.exec(t.slice(at, at + 200));
    if (assign) {
      cur.pos = at + assign[0].length;
      const values = cur.restOfLine().split(/\s+/).filter((v) => v !== '').map((v) => v.replace(/^"(.*)"$/, '$1'));
      const name = assign[1]!;
      if (assign[2] === '+=') {
        const old = ctx.vars.get(name);
        if (old === undefined) throw new ParseError('error', `${where}: variable @{${name}} extended with += before it is set`);
        ctx.vars.set(name, [...old, ...values]);
      } else {
        if (ctx.vars.has(name)) throw new ParseError('error', `${where}: variable @{${name}} was previously declared`);
        ctx.vars.set(name, values);
      }
      continue;
    }
    if (/^\$\{[A-Za-z][A-Za-z0-9_]*\}\s*=/.test(t.slice(at, at + 200))) {
      cur.restOfLine();
      continue;
    }
    statement(ctx, cur, where);
  }
}

/** Reads one statement: a block opening or closing, or a rule up to its ','. */
function statement(ctx: Ctx, cur: Cursor, where: string) {
  const words: { text: string; quoted: boolean; at: number }[] = [];
  for (;;) {
    const w = cur.word();
    if (w === undefined) {
      if (words.length === 0) return;
      throw new ParseError('error', `${where}: rule without a terminating ','`);
    }
    if (!w.quoted && w.text === '}' && words.length === 0) {
      if (ctx.stack.length <= 1) throw new ParseError('error', `${where}: '}' without a block`);
      const f = ctx.stack.pop()!;
      if (f.kind === 'profile') {
        const done: ParsedProfile = { name: f.profile!.name, rules: f.profile!.rules, children: f.profile!.children };
        const parent = frame(ctx);
        if (parent.profile) parent.profile.children.push(done);
        else ctx.top.push(done);
      }
      return;
    }
    if (!w.quoted && w.text === '{') {
      openBlock(ctx, words, where);
      return;
    }
    if (!w.quoted && w.text === ',') break;
    words.push(w);
  }
  rule(ctx, cur, words, where);
}

function openBlock(ctx: Ctx, words: readonly { text: string; quoted: boolean }[], where: string) {
  const first = words[0];
  const f = frame(ctx);
  const quals = ['audit', 'deny', 'owner', 'allow'];
  if (first !== undefined && words.every((w) => !w.quoted && quals.includes(w.text))) {
    if (!f.profile) throw new ParseError('error', `${where}: a qualifier block outside a profile`);
    const has = (q: string) => words.some((w) => w.text === q);
    ctx.stack.push({ profile: f.profile, kind: 'qualifier', quals: { audit: f.quals.audit || has('audit'), deny: f.quals.deny || has('deny'), owner: f.quals.owner || has('owner') } });
    return;
  }
  if (first === undefined) throw new ParseError('error', `${where}: '{' without a profile name`);
  if (!first.quoted && (first.text === 'if' || first.text === 'else')) throw new ParseError('unsupported', `${where}: conditional blocks are not read`);
  let name: string;
  if (!first.quoted && (first.text === 'profile' || first.text === 'hat')) {
    const n = words[1];
    if (n === undefined) throw new ParseError('error', `${where}: ${first.text} without a name`);
    name = first.text === 'hat' ? `^${n.text}` : n.text;
  } else name = first.text;
  ctx.stack.push({ profile: { name, rules: [], children: [] }, kind: 'profile', quals: { audit: false, deny: false, owner: false } });
}

function rule(ctx: Ctx, cur: Cursor, words: { text: string; quoted: boolean; at: number }[], where: string) {
  const f = frame(ctx);
  if (words.length === 0) return;
  const head = words[0]!;
  if (!head.quoted && head.text === 'alias') throw new ParseError('unsupported', `${where}: alias rules are not applied`);
  if (!head.quoted && head.text === 'abi') return;
  if (!f.profile) {
    // Outside any profile only the preamble is allowed; a stray rule makes the parser fail.
    throw new ParseError('error', `${where}: a rule outside a profile: ${cur.lineText(head.at)}`);
  }
  let audit = f.quals.audit;
  let deny = f.quals.deny;
  let owner = f.quals.owner;
  let i = 0;
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w.quoted) break;
    if (w.text === 'audit') audit = true;
    else if (w.text === 'deny') deny = true;
    else if (w.text === 'allow') {
      /* the default */
    } else if (w.text === 'owner') owner = true;
    else if (w.text === 'other') throw new ParseError('unsupported', `${where}: the 'other' qualifier is not read`);
    else break;
  }
  const rest = words.slice(i);
  let glob: string | undefined;
  let perms: Set<Perm> | undefined;
  const r0 = rest[0];
  if (r0 === undefined) return;
  let body = rest;
  if (!r0.quoted && r0.text === 'file') {
    body = rest.slice(1);
    if (body.length === 0) {
      glob = '/{**,}';
      perms = new Set<Perm>(['r', 'w', 'a', 'k', 'l', 'm']);
    }
  }
  if (glob === undefined) {
    const b0 = body[0];
    const b1 = body[1];
    if (b0 === undefined) return;
    if (isPathWord(b0)) {
      glob = b0.text;
      perms = b1 === undefined ? undefined : parsePerms(b1.text);
      if (perms === undefined) throw new ParseError('error', `${where}: file rule without valid permissions: ${cur.lineText(b0.at)}`);
    } else if (b1 !== undefined && isPathWord(b1) && !b0.quoted && parsePerms(b0.text) !== undefined) {
      glob = b1.text;
      perms = parsePerms(b0.text);
    } else if (!b0.quoted && OTHER_RULES.has(b0.text.replace(/[=(<].*$/, ''))) {
      // Not a file rule (capability, network, signal, ptrace, unix, dbus, mount, link, …).
      return;
    } else if (!b0.quoted && /^[a-z_]+/.test(b0.text)) {
      // A keyword this reader does not know (a newer qualifier such as priority=, a new rule class):
      // skipping it could drop a deny, so nothing is decided from this profile.
      throw new ParseError('unsupported', `${where}: the rule ${cur.lineText(b0.at)} is not one this program reads`);
    } else throw new ParseError('error', `${where}: cannot read the rule ${cur.lineText(b0.at)}`);
  }
  if (!perms) return;
  const text = cur.lineText(words[0]!.at);
  ctx.pending.push({
    rule: { file: cur.file, line: cur.lineAt(words[0]!.at), text, deny, audit, owner, perms, glob: glob! },
    into: f.profile.rules,
  });
}

/**
 * Reads the file at `entry` (with everything it includes) as apparmor_parser would, `base` being the
 * directory `<magic>` includes are taken from (/etc/apparmor.d). `extra` serves files that do not exist
 * yet on the host (libvirt's generated profile and its .files), looked up before the sources.
 */
export function parseProfileFile(sources: ProfileSources, entry: string, base = '/etc/apparmor.d'): ParseResult {
  const ctx: Ctx = {
    sources,
    base,
    vars: new Map(),
    stack: [{ profile: undefined, kind: 'root', quals: { audit: false, deny: false, owner: false } }],
    top: [],
    files: [],
    pending: [],
  };
  try {
    include(ctx, entry, false, entry, 0);
    if (ctx.stack.length > 1) throw new ParseError('error', `${entry}: a block is not closed ('}' missing)`);
    for (const p of ctx.pending) {
      const where = `${p.rule.file}:${p.rule.line}`;
      const profileVars = new Map(ctx.vars);
      const path = filterSlashes(expand(p.rule.glob, profileVars, where));
      if (!path.startsWith('/') && !path.startsWith('{')) throw new ParseError('error', `${where}: the path ${path} does not start with '/' after its variables`);
      const c = compileGlob(path);
      if (!c.ok) throw new ParseError('error', `${where}: ${c.error}`);
      const patterns = [c.regex];
      p.into.push({ ...p.rule, expanded: path, patterns });
    }
    return { ok: true, profiles: ctx.top, files: ctx.files };
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, kind: e.kind, error: e.message };
    throw e;
  }
}

/** Finds a profile by name among the top-level profiles and their children. */
export function findProfile(profiles: readonly ParsedProfile[], name: string): ParsedProfile | undefined {
  for (const p of profiles) {
    if (p.name === name) return p;
  }
  return undefined;
}
