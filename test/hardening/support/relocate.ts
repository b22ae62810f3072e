/**
 * Moves the disk paths of a domain into a scratch tree on the real filesystem and creates them there,
 * world-readable and -writable, so the built CLI running on the real host can prove DAC access.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decodeEntities = (s: string) =>
  s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|\w+);/g, (m, e: string) =>
    e.startsWith('#x') ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : (ENTITIES[e] ?? m),
  );

/** Moves every absolute file=/dev=/dir= path under `root` and creates it there, world-accessible. */
export function relocate(text: string, root: string): string {
  return text.replace(/\b(file|dev|dir)=(['"])(\/[^'"<]*)\2/g, (_m, name: string, q: string, raw: string) => {
    const path = root + decodeEntities(raw);
    try {
      if (name === 'dir') mkdirSync(path, { recursive: true, mode: 0o755 });
      else {
        mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
        writeFileSync(path, '', { mode: 0o666 });
        chmodSync(path, 0o666);
      }
    } catch {
      // A path that cannot exist (a file where a directory is needed): the CLI then says so.
    }
    return `${name}=${q}${root}${raw}${q}`;
  });
}
