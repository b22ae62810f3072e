#!/usr/bin/env node
/**
 * The shipped program: src/cli/main.ts and everything it imports bundled by esbuild into
 * dist/cli/main.js, with each lazily imported command module (and the policy reader behind it) in its
 * own chunk under dist/cli/chunks/. Start-up then resolves one file plus the chunks the command needs
 * instead of ~100 ESM modules (bench/startup.mjs measures the difference).
 *
 * It overwrites the dist/cli/main.js that `tsc -p tsconfig.build.json` wrote, so every test that spawns
 * dist/cli/main.js runs the build that ships. The other tsc output stays for tests and benches that
 * import single modules. @napi-rs/xattr stays external: it loads a native addon by platform.
 */
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outdir = join(root, 'dist', 'cli');
rmSync(join(outdir, 'chunks'), { recursive: true, force: true });

const result = await build({
  entryPoints: { main: join(root, 'src', 'cli', 'main.ts') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  external: ['@napi-rs/xattr'],
  // The version is fixed at build time: --version reads no file.
  define: { VIRT_SECLABEL_VERSION: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __vslCreateRequire } from 'node:module'; const require = __vslCreateRequire(import.meta.url);" },
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});

// The npm packages inside the bundle, with their licences: the Debian copyright file and the RPM's
// License: tag are built from this list, since none of them is installed separately.
const bundled = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (!m || bundled.has(m[1])) continue;
  const dep = JSON.parse(readFileSync(join(root, 'node_modules', m[1], 'package.json'), 'utf8'));
  bundled.set(m[1], { name: m[1], version: dep.version, license: dep.license });
}
writeFileSync(join(outdir, 'bundled-packages.json'), JSON.stringify([...bundled.values()].sort((a, b) => a.name.localeCompare(b.name)), null, 2) + '\n');
