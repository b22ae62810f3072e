/**
 * Laying a table of short columns and one long last column out for a person: one record per line when
 * there is no terminal (so grep sees whole records), wrapped to the terminal's width when there is one.
 * When the short columns leave too little room for the long one, each record becomes a block: the
 * short columns on one line, the long text indented below. Colour is applied after the layout, so it
 * never counts towards a width.
 */

export interface Layout {
  /** Terminal columns; undefined: no wrapping at all. */
  readonly width: number | undefined;
  /** Paint a cell (column index, its text) when colour is on; identity otherwise. */
  readonly paint: (column: number, text: string) => string;
}

/** Narrower than this, the long column reads badly beside the others: blocks instead. */
const MIN_LONG_COLUMN = 30;
const GAP = '  ';

/** Word-wraps at spaces; a word longer than the width is cut. Every line is at most `width` characters. */
export function wrap(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    let rest = word;
    while (rest.length > w) {
      if (line) lines.push(line);
      lines.push(rest.slice(0, w));
      rest = rest.slice(w);
      line = '';
    }
    if (!line) line = rest;
    else if (line.length + 1 + rest.length <= w) line += ` ${rest}`;
    else {
      lines.push(line);
      line = rest;
    }
  }
  lines.push(line);
  return lines;
}

/**
 * The rows (header first) as lines, indented by `indent`. In the narrow form, consecutive rows that share
 * their first `group` cells (the disk) are one block: those cells once, then a line per row with the
 * other short cells and the long text wrapped beside them.
 */
export function layoutTable(rows: readonly (readonly string[])[], indent: string, layout: Layout, group = 0): string[] {
  const last = rows[0]!.length - 1;
  const widthsOf = (from: number) => rows[0]!.slice(from, last).map((_, i) => Math.max(...rows.map((r) => r[from + i]!.length)));
  const cells = (r: readonly string[], from: number, widths: readonly number[], header: boolean) =>
    r.slice(from, last).map((c, i) => (header ? c : layout.paint(from + i, c)) + ' '.repeat(widths[i]! - c.length)).join(GAP);
  const lineUp = (body: readonly (readonly string[])[], from: number, lineIndent: string, room: number, header: boolean) => {
    const widths = widthsOf(from);
    const lead = lineIndent.length + widths.reduce((a, b) => a + b + GAP.length, 0);
    return body.flatMap((r, k) => {
      const long = room === Infinity ? [r[last]!] : wrap(r[last]!, room - lead);
      return [`${lineIndent}${cells(r, from, widths, header && k === 0)}${GAP}${long[0]}`.trimEnd(), ...long.slice(1).map((l) => ' '.repeat(lead) + l)];
    });
  };

  const fullLead = indent.length + widthsOf(0).reduce((a, b) => a + b + GAP.length, 0);
  if (layout.width === undefined) return lineUp(rows, 0, indent, Infinity, true);
  if (layout.width - fullLead >= MIN_LONG_COLUMN) return lineUp(rows, 0, indent, layout.width, true);

  const width = layout.width;
  const inner = indent + '  ';
  const out: string[] = [];
  for (let i = 1; i < rows.length; ) {
    const key = rows[i]!.slice(0, group).join('\0');
    let j = i;
    while (j < rows.length && rows[j]!.slice(0, group).join('\0') === key) j++;
    const block = rows.slice(i, j);
    const head = rows[i]!.slice(0, group).join(GAP);
    out.push(...(head.length + indent.length <= width ? [indent + head] : wrap(head, width - indent.length).map((l) => indent + l)));
    const lead = inner.length + widthsOf(group).reduce((a, b) => a + b + GAP.length, 0);
    if (width - lead >= MIN_LONG_COLUMN) out.push(...lineUp(block, group, inner, width, false));
    else for (const r of block) out.push(inner + r.slice(group, last).map((c, k) => layout.paint(group + k, c)).join(GAP), ...wrap(r[last]!, width - inner.length - 2).map((l) => `${inner}  ${l}`));
    i = j;
  }
  return out;
}
