/**
 * A facts file as text: one recorded call or SELinux question per line, so a snapshot kept in git shows
 * host changes as readable one-line diffs, and stays compact (no pretty-printed inode objects).
 */
import type { FactsFile } from './format.js';

const list = (items: readonly unknown[], indent: string): string =>
  items.length === 0 ? '[]' : `[\n${items.map((i) => `${indent}  ${JSON.stringify(i)}`).join(',\n')}\n${indent}]`;

export function serializeFacts(f: FactsFile): string {
  const lines = [
    '{',
    `  "formatVersion": ${JSON.stringify(f.formatVersion)},`,
    `  "host": ${JSON.stringify(f.host)},`,
    `  "collectedAt": ${JSON.stringify(f.collectedAt)},`,
    `  "generator": ${JSON.stringify(f.generator)},`,
    `  "hostOptions": ${JSON.stringify(f.hostOptions)},`,
    `  "invoker": ${JSON.stringify(f.invoker)},`,
    `  "covers": { "domains": ${list(f.covers.domains, '  ')}, "paths": ${list(f.covers.paths, '  ')} },`,
    `  "view": ${list(f.view, '  ')},`,
  ];
  if (f.selinux === null) lines.push('  "selinux": null');
  else
    lines.push(
      '  "selinux": {',
      `    "policy": ${JSON.stringify(f.selinux.policy)},`,
      `    "booleans": ${JSON.stringify(f.selinux.booleans)},`,
      `    "typeExists": ${JSON.stringify(f.selinux.typeExists)},`,
      `    "compute": ${list(f.selinux.compute, '    ')}`,
      '  }',
    );
  lines.push('}', '');
  return lines.join('\n');
}
