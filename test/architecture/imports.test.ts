/**
 * The layers of src/, read from ARCHITECTURE.md's `layers` block so the drawing and the check cannot
 * part: a module may import its own folder and any folder of a lower layer, never a folder of its own
 * layer or above. Static imports, `import type` and dynamic `import()` all count.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const SRC = join(ROOT, 'src');

/** Layer index per top-level folder of src/ ('.' for the files at src/ itself), lowest first. */
function layersFromArchitecture(): Map<string, number> {
  const text = readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8');
  const block = /```layers\n([\s\S]*?)```/.exec(text);
  if (!block) throw new Error('ARCHITECTURE.md has no ```layers block');
  const layers = new Map<string, number>();
  // The block lists the highest layer first, as drawn; index 0 is the lowest.
  const lines = block[1]!.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean).reverse();
  lines.forEach((line, i) => {
    for (const name of line.split(/\s+/)) layers.set(name.replace(/\/$/, ''), i);
  });
  return layers;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The top-level folder of src/ a file belongs to ('.' for src/*.ts). */
function folderOf(file: string): string {
  const rel = relative(SRC, file).split('/');
  return rel.length === 1 ? '.' : rel[0]!;
}

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]+)\1/gm;

export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => resolve(dirname(file), m[2]!.replace(/\.js$/, '.ts')));
}

describe('src/ imports only downward', () => {
  const layers = layersFromArchitecture();
  const files = sourceFiles(SRC);

  it('names every folder of src/ in ARCHITECTURE.md', () => {
    const folders = [...new Set(files.map(folderOf))].sort();
    expect(folders.filter((f) => !layers.has(f))).toEqual([]);
    expect([...layers.keys()].filter((f) => !folders.includes(f))).toEqual([]);
  });

  it('has no import of a folder in the same layer or above', () => {
    const upward: string[] = [];
    let checked = 0;
    for (const file of files) {
      const from = folderOf(file);
      for (const target of importsOf(file)) {
        checked++;
        const to = folderOf(target);
        if (to === from) continue;
        if ((layers.get(to) ?? Infinity) >= (layers.get(from) ?? -Infinity)) upward.push(`${relative(ROOT, file)} -> ${relative(ROOT, target)} (${from} -> ${to})`);
      }
    }
    expect(checked).toBeGreaterThan(500); // the pattern still finds imports
    expect(upward).toEqual([]);
  });

  it('catches an upward import (the check is not vacuous)', () => {
    // decide/ sits above dac/: an import the other way is what the check exists to refuse.
    expect(layers.get('dac')!).toBeLessThan(layers.get('decide')!);
    expect(layers.get('app')!).toBeLessThan(layers.get('cli')!);
    expect(layers.get('adapters')!).toBeLessThan(layers.get('app')!);
  });
});
