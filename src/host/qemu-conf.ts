/**
 * qemu.conf in libvirt's configuration syntax (virconf): `name = value` entries, values are strings
 * ("…", '…' or """…"""), integers, or lists `[ … ]` of those; `#` starts a comment; entries end at a
 * newline or `;`. Only the syntax is checked here: which settings matter is decided elsewhere.
 */
import { failure, success, type Result } from '../result.js';

export type ConfValue = string | number | readonly ConfValue[];

export interface ConfError {
  readonly line: number;
  readonly message: string;
}

export type QemuConf = ReadonlyMap<string, ConfValue>;

class Scanner {
  pos = 0;
  line = 1;
  constructor(readonly text: string) {}

  error(message: string): ConfError {
    return { line: this.line, message };
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  /** Skips blanks and comments; newlines only when `newlines` (inside lists). */
  skip(newlines: boolean): void {
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (c === '#') {
        // To the end of the line, the newline left for the caller. indexOf, not a loop: a stock qemu.conf
        // is ~37 KB of comments, scanned at every hook run while this code is still interpreted.
        const nl = this.text.indexOf('\n', this.pos);
        this.pos = nl < 0 ? this.text.length : nl;
      } else if (c === ' ' || c === '\t' || c === '\r') {
        this.pos++;
      } else if (c === '\n' && newlines) {
        this.pos++;
        this.line++;
      } else {
        return;
      }
    }
  }
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_.]/;
const MAX_LIST_DEPTH = 16;

function parseString(s: Scanner): Result<string, ConfError> {
  const startLine = s.line;
  if (s.text.startsWith('"""', s.pos)) {
    const end = s.text.indexOf('"""', s.pos + 3);
    if (end < 0) return failure({ line: startLine, message: 'unterminated """ string' });
    const value = s.text.slice(s.pos + 3, end);
    s.line += value.split('\n').length - 1;
    s.pos = end + 3;
    return success(value);
  }
  const quote = s.peek()!;
  const end = s.text.indexOf(quote, s.pos + 1);
  const nl = s.text.indexOf('\n', s.pos + 1);
  if (end < 0 || (nl >= 0 && nl < end)) return failure({ line: startLine, message: 'unterminated string' });
  const value = s.text.slice(s.pos + 1, end);
  s.pos = end + 1;
  return success(value);
}

function parseValue(s: Scanner, depth: number): Result<ConfValue, ConfError> {
  const c = s.peek();
  if (c === '"' || c === "'") return parseString(s);
  if (c === '[') {
    if (depth >= MAX_LIST_DEPTH) return failure(s.error('lists nested too deeply'));
    s.pos++;
    const items: ConfValue[] = [];
    s.skip(true);
    while (s.peek() !== ']') {
      if (s.peek() === undefined) return failure(s.error('unterminated list'));
      const item = parseValue(s, depth + 1);
      if (!item.ok) return item;
      items.push(item.value);
      s.skip(true);
      if (s.peek() === ',') {
        s.pos++;
        s.skip(true);
      } else if (s.peek() !== ']') {
        return failure(s.error("expected ',' or ']' in list"));
      }
    }
    s.pos++;
    return success(items);
  }
  const m = /^[+-]?[0-9]+/.exec(s.text.slice(s.pos, s.pos + 32));
  if (m) {
    s.pos += m[0].length;
    return success(Number(m[0]));
  }
  return failure(s.error('expected a string, a number or a list'));
}

export function parseQemuConf(text: string): Result<QemuConf, ConfError> {
  const s = new Scanner(text);
  const entries = new Map<string, ConfValue>();
  while (true) {
    s.skip(false);
    const c = s.peek();
    if (c === undefined) break;
    if (c === '\n' || c === ';') {
      if (c === '\n') s.line++;
      s.pos++;
      continue;
    }
    if (!NAME_START.test(c)) return failure(s.error(`expected a setting name, found '${c}'`));
    const start = s.pos;
    while (s.pos < text.length && NAME_CHAR.test(text[s.pos]!)) s.pos++;
    const name = text.slice(start, s.pos);
    s.skip(false);
    if (s.peek() !== '=') return failure(s.error(`expected '=' after ${name}`));
    s.pos++;
    s.skip(false);
    const value = parseValue(s, 0);
    if (!value.ok) return value;
    entries.set(name, value.value);
    s.skip(false);
    const after = s.peek();
    if (after !== undefined && after !== '\n' && after !== ';')
      return failure(s.error(`unexpected '${after}' after the value of ${name}`));
  }
  return success(entries);
}

/** A setting that must be a string; a value of another type is an error naming the setting. */
export function confString(conf: QemuConf, name: string): Result<string | undefined, string> {
  const v = conf.get(name);
  if (v === undefined || typeof v === 'string') return success(v);
  return failure(`${name} must be a string`);
}

export function confNumber(conf: QemuConf, name: string): Result<number | undefined, string> {
  const v = conf.get(name);
  if (v === undefined || typeof v === 'number') return success(v);
  return failure(`${name} must be a number`);
}

/** libvirt accepts security_driver as a string or a list of strings. */
export function confStringList(conf: QemuConf, name: string): Result<string[] | undefined, string> {
  const v = conf.get(name);
  if (v === undefined) return success(undefined);
  if (typeof v === 'string') return success([v]);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return success(v as string[]);
  return failure(`${name} must be a string or a list of strings`);
}
