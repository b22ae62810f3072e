#!/usr/bin/env node
/**
 * The shipped program, made by esbuild from src/ after tsc (bench/startup.mjs measures each choice):
 *   dist/cli/program.cjs  the command line (src/cli/commands.ts) and everything it imports, one CommonJS
 *                         file: one compile and no ES module graph to resolve and link, which measured
 *                         faster than ~100 ES modules, than one ES module, and than lazily loaded ES chunks;
 *                         command modules still run their top level only when their command runs
 *   dist/cli/main.js      the bin entry (src/cli/main.ts), an ES module that answers --version itself and
 *                         otherwise requires program.cjs.
 * main.js overwrites the one tsc wrote, so every test that spawns dist/cli/main.js runs the build that
 * ships; the rest of tsc's output stays for tests and benches that import single modules.
 * @napi-rs/xattr stays external: it loads a native addon by platform.
 */
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outdir = join(root, 'dist', 'cli');
rmSync(join(outdir, 'chunks'), { recursive: true, force: true }); // the layout of earlier builds
rmSync(join(outdir, 'main.js.map'), { force: true }); // tsc's map of the main.js this replaces

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: ['@napi-rs/xattr'],
  // The version is fixed at build time: --version and snapshots read no file.
  define: { VIRT_SECLABEL_VERSION: JSON.stringify(pkg.version) },
  legalComments: 'eof',
  logLevel: 'warning',
};

const program = await build({
  ...common,
  entryPoints: [join(root, 'src', 'cli', 'commands.ts')],
  outfile: join(outdir, 'program.cjs'),
  format: 'cjs',
  metafile: true,
  // CommonJS has no import.meta; the bundled ES modules (yargs' platform shim) get this file's URL.
  define: { ...common.define, 'import.meta.url': '__vslImportMetaUrl' },
  banner: { js: "const __vslImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});

/** main.ts's `import('./commands.js')` becomes a require of program.cjs, run only past the --version check. */
const commandsFromProgram = {
  name: 'commands-from-program',
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\.js$/ }, () => ({ path: 'program', namespace: 'virt-seclabel' }));
    b.onLoad({ filter: /.*/, namespace: 'virt-seclabel' }, () => ({
      contents: "import { createRequire } from 'node:module';\nexport const { runCommandLine } = createRequire(import.meta.url)('./program.cjs');\n",
      loader: 'js',
    }));
  },
};
await build({ ...common, entryPoints: [join(root, 'src', 'cli', 'main.ts')], outfile: join(outdir, 'main.js'), format: 'esm', plugins: [commandsFromProgram] });

// The npm packages inside the bundle, with their licences: the Debian copyright file and the RPM's
// License: tag are built from this list, since none of them is installed separately.
const bundled = new Map();
for (const input of Object.keys(program.metafile.inputs)) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (!m || bundled.has(m[1])) continue;
  const dep = JSON.parse(readFileSync(join(root, 'node_modules', m[1], 'package.json'), 'utf8'));
  bundled.set(m[1], { name: m[1], version: dep.version, license: dep.license });
}
writeFileSync(join(outdir, 'bundled-packages.json'), JSON.stringify([...bundled.values()].sort((a, b) => a.name.localeCompare(b.name)), null, 2) + '\n');
