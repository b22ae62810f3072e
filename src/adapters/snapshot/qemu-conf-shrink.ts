/**
 * qemu.conf as a snapshot stores it: a distribution's file is ~40 KB of comments around a handful of
 * settings. Comment-only lines are blanked (line numbers stay, so an error offline names the same line),
 * and the result is kept only if the project's own qemu.conf reader gets exactly the same settings from
 * it; otherwise (a comment-looking line inside a multi-line string, say) the text is stored as it is.
 */
import { isDeepStrictEqual } from 'node:util';
import { parseQemuConf } from '../../host/qemu-conf.js';

export function shrinkQemuConf(text: string): string {
  const shrunk = text
    .split('\n')
    .map((line) => (/^\s*#/.test(line) ? '' : line))
    .join('\n');
  const before = parseQemuConf(text);
  const after = parseQemuConf(shrunk);
  if (!before.ok || !after.ok || !isDeepStrictEqual([...before.value], [...after.value])) return text;
  return shrunk;
}
