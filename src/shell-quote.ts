/** One shell word for a path in a command a person may copy: bare when safe, else single-quoted. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./+:@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
