/**
 * Size limits on single constructs, checked on the scanner's tree before the second gate runs.
 * fast-xml-parser's validator slows down sharply on one long start tag (a 1 MiB attribute value takes
 * about a second, 8 MiB several; many short tags of the same total size take a fraction of that), so a
 * hostile file well under MAX_INPUT_BYTES could otherwise stall a hook for many seconds. No libvirt start
 * tag comes near the limit: its attribute values are paths (PATH_MAX 4096), numbers and short words.
 */
import type { XmlError } from './position.js';
import type { XmlElement } from './tree.js';

/** The largest input accepted; libvirt domain XML is kilobytes. */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;
export const MAX_START_TAG_LENGTH = 64 * 1024;
/** libvirt's names are short words (libxml2 itself stops at 50 000); the scanner refuses longer ones early. */
export const MAX_NAME_LENGTH = 1024;

export function checkStartTagLengths(root: XmlElement): XmlError | undefined {
  const pending: XmlElement[] = [root];
  for (let el = pending.pop(); el !== undefined; el = pending.pop()) {
    const length = el.startTagEnd - el.start;
    if (length > MAX_START_TAG_LENGTH) {
      const longest = el.attributes.reduce((m, a) => Math.max(m, a.value.length), 0);
      const longName = el.name.length > 40;
      const detail = longName ? `a name of ${el.name.length} characters` : `its longest attribute value is ${longest} characters`;
      return {
        line: el.line,
        column: el.column,
        message: `start tag <${longName ? `${el.name.slice(0, 40)}…` : el.name}> is ${length} characters long (${detail}), over the limit of ${MAX_START_TAG_LENGTH}: no libvirt element needs that much`,
      };
    }
    for (const c of el.children) pending.push(c); // no spread: huge child lists would overflow the stack
  }
  return undefined;
}
